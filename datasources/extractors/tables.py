"""Tables: rows rendered so that each stands alone ("Region: West; Revenue: 1,204").

A figure is written under its column's full heading, the heading rows merged top to bottom
("Three Months Ended July 1, 2023: $ 35,383"); a "$" set in a column of its own joins the figure
after it, a "%" the figure before it, so neither is ever a cell of its own.
"""

import re

from datasources import chunk_format

_YEAR = re.compile(r"\b(19|20)\d\d\b")
# Dates written in words ("July 1, 2023", "Oct. 29") and period names ("Q3", "FY2024") head columns
# of figures; a bare year, once removed, leaves nothing of them.
_NAMED_DATE = re.compile(r"\b(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)[a-z]*\.?\s+\d{1,2}\b,?")
_PERIOD_NAME = re.compile(r"\b(Q[1-4]|H[12]|FY\s?(\d\d)?)\b")
# A table's statement of its scale: "(In millions)", "(dollars in thousands, except per share data)".
_SCALE = re.compile(r"\(?\s*(?:[\w$€£¥]+\s+)?in\s+(?:thousands|millions|billions)\b[^()\n:]*\)?", re.IGNORECASE)


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
    """A row whose cells sit under the header's labels, column by column."""
    return render_headed_cells([(header[index].strip() if index < len(header) else "", value)
                                for index, value in enumerate(cells)])


def render_headed_cells(pairs: list[tuple[str, str]]) -> str:
    """A row of (heading, value) cells; cells under the same heading (one spanning columns) are read together."""
    groups: list[tuple[str, list[str]]] = []
    for label, value in chunk_format.joined_symbols(pairs):
        if groups and label and groups[-1][0] == label:
            groups[-1][1].append(value)
        else:
            groups.append((label, [value]))
    return chunk_format.row_text([chunk_format.headed_cell(label, " ".join(values)) if label else " ".join(values)
                                  for label, values in groups])


def is_figure(cell: str) -> bool:
    """A cell holding a number or a numeric date, as opposed to a label (a bare year, a date in
    words or a period's name may be a column's heading)."""
    words = _PERIOD_NAME.sub("", _NAMED_DATE.sub("", _YEAR.sub("", cell)))
    return any(char.isdigit() for char in words)


def stated_scale(text: str) -> str | None:
    """The scale a table's heading or the line above it states ("in millions, except per share data")."""
    match = _SCALE.search(text)
    if match is None:
        return None
    return match.group(0).strip(" ()").rstrip(" ,;.")
