"""How a chunk is written, declared once: extraction and chunking write it, the indexes and chat read it here.

- Its id names its data source and its position there: `datasource_<data source id>_chunk_<n>`, the
  spec's vector record id.
- Its text opens with a context line, "document title › heading" (a table's caption follows it), so
  a passage such as "Total net sales; 82,959" is found by a question naming the document. Every chunk
  of a section shares that line: it says where a chunk is, not what it says.
- A table row is one line that stands alone: its cells joined by "; ", a cell under a column heading
  written "Heading: value" ("Region: West; Revenue: 1,204"); a row without headings is its bare cells
  ("Inventories; 4,779; 5,159").
- A table that states its unit or scale ("in millions", "%", a currency) has a unit line before its
  rows, "Unit: in millions, except per share data", repeated in every chunk that holds its rows.
"""

import re
import uuid

CURRENCY = {"$", "€", "£", "¥"}
PERCENT = "%"
UNIT_LABEL = "Unit"  # opens a table's unit line
CONTEXT_SEPARATOR = " › "  # between the document's title and the heading, on the context line
CELL_SEPARATOR = "; "
HEADING_SEPARATOR = ": "  # between a column's heading and the cell's value

_ID_PREFIX = "datasource_"
_ID_POSITION = "_chunk_"
# A row whose first cell is under a column heading: "Region: West; Revenue: 1,204".
_HEADED_ROW = re.compile(r"^[^;]{1,120}: [^;]*; ")
_MAX_HEADING_CHARS = 120  # a longer "words: words" cell is a clause, not a heading and its value


def chunk_id(data_source_id, position: int) -> str:
    return f"{id_prefix(data_source_id)}{position}"


def id_prefix(data_source_id) -> str:
    """What every chunk id of the data source starts with."""
    return f"{_ID_PREFIX}{data_source_id}{_ID_POSITION}"


def data_source_of(identifier: str) -> uuid.UUID:
    """The data source a chunk id names."""
    return uuid.UUID(identifier.removeprefix(_ID_PREFIX).split(_ID_POSITION)[0])


def context_line(title: str, heading: str) -> str:
    return CONTEXT_SEPARATOR.join(part for part in (title, heading) if part)


def chunk_text(context: str, body: str) -> str:
    """A chunk's text: its context lines, then its body."""
    return f"{context}\n{body}" if context else body


def context_and_body(text: str) -> tuple[str, list[str]]:
    """A chunk's (or a passage's) context line, and the lines after it."""
    first, *rest = text.split("\n")
    return first, rest


def row_text(cells: list[str]) -> str:
    """A table row's line, of its cells."""
    return CELL_SEPARATOR.join(cells)


def joined_symbols(pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """(heading, value) cells with a currency sign set in a cell of its own joined to the figure after it
    and a lone "%" to the figure before it, so that neither is a cell of its own: extraction writes rows
    so, and a reader mends rows written before it did ("15.7 %; %; 10.8; %" is "15.7 %; 10.8%"). A lone "%"
    after a figure that has its own says nothing more (a table's cell read whole, its sign read again as a
    cell of its own) and is dropped."""
    joined: list[tuple[str, str]] = []
    pending_symbol = ""
    for heading, value in pairs:
        value = value.strip()
        if value in CURRENCY:
            pending_symbol = value + " "
        elif value == PERCENT and joined:
            if not joined[-1][1].endswith(PERCENT):
                joined[-1] = (joined[-1][0], joined[-1][1] + PERCENT)
        elif value:
            joined.append((heading, pending_symbol + value))
            pending_symbol = ""
    return joined


def unit_line(unit: str) -> str:
    """The line before a table's rows that states the unit or scale of its figures."""
    return f"{UNIT_LABEL}{HEADING_SEPARATOR}{unit}"


def stated_unit(line: str) -> str | None:
    """The unit a table's unit line states; None when the line is not one."""
    prefix = UNIT_LABEL + HEADING_SEPARATOR
    if not line.startswith(prefix) or is_table_row(line):
        return None
    return line.removeprefix(prefix)


def headed_cell(heading: str, value: str) -> str:
    return f"{heading}{HEADING_SEPARATOR}{value}"


def cells(row: str) -> list[str]:
    """A table row's cells (a sentence's clauses, when it is prose)."""
    return row.split(CELL_SEPARATOR)


def is_table_row(line: str) -> bool:
    return CELL_SEPARATOR in line


def is_headed_row(line: str) -> bool:
    """The line is a table row whose first cell is under a column heading."""
    return _HEADED_ROW.search(line) is not None


def without_headings(line: str) -> str:
    """A table row with its figures' column headings left out ("Data Center; $ 14,514; $ 3,833"):
    what the row itself says. Other lines come back as they are."""
    if not is_table_row(line):
        return line
    return row_text([value for _, value in _heading_and_values(line)])


def markdown_passage(text: str) -> str:
    """A passage for a reader: each run of table rows under the same column headings as a Markdown
    table (its unit line kept above it), everything else as it is. The stored text is not changed."""
    lines = text.split("\n")
    out: list[str] = []
    index = 0
    while index < len(lines):
        run = _rows_under_shared_headings(lines, index)
        if run:
            out.extend(_markdown_table([_heading_and_values(line) for line in run]))
            index += len(run)
        else:
            out.append(lines[index])
            index += 1
    return "\n".join(out)


def _heading_and_values(line: str) -> list[tuple[str, str]]:
    """A table row's cells as (heading, value); the heading is "" for a cell without one."""
    pairs = []
    for cell in cells(line):
        heading, separator, value = cell.partition(HEADING_SEPARATOR)
        pairs.append((heading, value) if separator and len(heading) <= _MAX_HEADING_CHARS else ("", cell))
    return pairs


def _headings(line: str) -> list[str] | None:
    """The row's label heading ("" when none) and the headings of its figures; None when the line
    is not a row with every figure under a heading."""
    if not is_table_row(line) or stated_unit(line) is not None:
        return None
    (label_heading, _), *figures = _heading_and_values(line)
    if not figures or not all(heading for heading, _ in figures):
        return None
    return [label_heading, *(heading for heading, _ in figures)]


def _rows_under_shared_headings(lines: list[str], start: int) -> list[str]:
    """The rows from `start` on whose headings are all among the first row's."""
    first = _headings(lines[start])
    if first is None:
        return []
    end = start + 1
    while end < len(lines) and (headings := _headings(lines[end])) is not None and set(headings) <= set(first):
        end += 1
    return lines[start:end]


def _markdown_table(rows: list[list[tuple[str, str]]]) -> list[str]:
    label_heading = rows[0][0][0]
    columns = list(dict.fromkeys(heading for row in rows for heading, _ in row[1:]))
    table = [_markdown_line([label_heading, *columns]), _markdown_line(["---"] * (len(columns) + 1))]
    for (_, label), *figures in rows:
        values = dict(figures)
        table.append(_markdown_line([label, *(values.get(column, "") for column in columns)]))
    return table


def _markdown_line(values: list[str]) -> str:
    return "| " + " | ".join(value.replace("|", "\\|") for value in values) + " |"
