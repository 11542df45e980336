"""Tables: rows rendered so that each stands alone ("Region: West; Revenue: 1,204")."""

import re

from datasources import chunk_format

CURRENCY = {"$", "€", "£", "¥"}
_YEAR = re.compile(r"\b(19|20)\d\d\b")


def table_rows(rows: list[list[str]]) -> list[tuple[str, None]]:
    """Each data row of a document's table as "Header: value; Header: value".

    The header is the first row when it has no figures in it; otherwise the rows are rendered
    without one ("Products; $ 63,355; $ 63,948").
    """
    rows = [cells for cells in rows if any(cells)]
    has_header = len(rows) > 1 and not any(is_figure(cell) for cell in rows[0])
    header = rows[0] if has_header else []
    return [(render_row(header, cells), None) for cells in (rows[1:] if has_header else rows)]


def render_row(header: list[str], cells: list[str]) -> str:
    """Cells under the same header (a heading spanning columns) are read together."""
    groups: list[tuple[str, list[str]]] = []
    for label, value in _labelled_values(header, cells):
        if groups and label and groups[-1][0] == label:
            groups[-1][1].append(value)
        else:
            groups.append((label, [value]))
    return chunk_format.row_text([chunk_format.headed_cell(label, " ".join(values)) if label else " ".join(values)
                                  for label, values in groups])


def _labelled_values(header: list[str], cells: list[str]) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    pending_symbol = ""
    for index, value in enumerate(cells):
        value = value.strip()
        if value in CURRENCY:  # "$" in a column of its own belongs to the figure after it
            pending_symbol = value + " "
            continue
        if value:
            label = header[index].strip() if index < len(header) else ""
            pairs.append((label, pending_symbol + value))
            pending_symbol = ""
    return pairs


def is_figure(cell: str) -> bool:
    """A cell holding a number or a date, as opposed to a label (a bare year may be a label)."""
    return any(char.isdigit() for char in _YEAR.sub("", cell))
