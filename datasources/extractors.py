"""Text out of a file, as sections a chunker can cut without losing where each came from.

A section is prose (with its page) or one table row (with its page, or its sheet and row), plus
the heading it falls under. Every reader turns a library's failure into RejectedFile with a reason
a person understands. These functions parse hostile input: run them through `sandbox`, which
puts CPU, memory and time limits around them.

PDF: PDFium (pypdfium2) reads the text, about 60 times faster than pdfplumber's extract_text on
the SEC filings of the benchmark, with the same words, pages turned upright and no doubled glyphs.
Tables are found by pdfplumber's table finder, fed the page's ruling lines and boxes as PDFium
reports them, so no page is parsed twice; each cell's text comes from PDFium. Headers and footers
that most pages repeat are left out, and a PDF whose metadata has no real title is named by its cover.
"""

import csv
import ctypes
import datetime
import io
import math
import re
import warnings
import zipfile
from collections import Counter
from dataclasses import asdict, dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from xml.etree import ElementTree

from datasources.filetypes import FileKind, RejectedFile, decode_text, sniff_csv_dialect

DEFAULT_MAX_PAGES = 2_000
DEFAULT_MAX_ROWS = 100_000


@dataclass(frozen=True)
class Section:
    text: str
    heading: str = ""  # the nearest heading above; for a spreadsheet row, its sheet
    page_number: int | None = None
    sheet: str | None = None
    row_number: int | None = None  # spreadsheet or CSV row, numbered as the program shows it
    table: int | None = None  # rows of one table share this number; None for prose
    caption: str = ""  # for a table row: the lines just above its table (often column headings)


@dataclass(frozen=True)
class Extraction:
    title: str
    sections: list[Section] = field(default_factory=list)
    page_count: int | None = None
    row_count: int | None = None

    def as_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> "Extraction":
        return cls(title=data["title"], sections=[Section(**section) for section in data["sections"]],
                   page_count=data["page_count"], row_count=data["row_count"])


def extract_file(path: str | Path, kind: str, *, file_name: str = "", max_pages: int = DEFAULT_MAX_PAGES,
                 max_rows: int = DEFAULT_MAX_ROWS) -> Extraction:
    """The sections of the file at `path`, read as `kind` (a FileKind value)."""
    path = Path(path)
    file_name = file_name or path.name
    readers = {
        FileKind.PDF: lambda: extract_pdf(path, file_name, max_pages=max_pages),
        FileKind.XLSX: lambda: extract_xlsx(path, file_name, max_rows=max_rows),
        FileKind.CSV: lambda: extract_csv(path, file_name, max_rows=max_rows),
        FileKind.DOCX: lambda: extract_docx(path, file_name),
        FileKind.HTML: lambda: extract_html(path, file_name),
        FileKind.MD: lambda: extract_markdown(path, file_name),
        FileKind.TXT: lambda: extract_text(path, file_name),
    }
    try:
        reader = readers[FileKind(kind)]
    except ValueError:
        raise RejectedFile(f"Docent cannot read files of type {kind!r}.") from None
    return reader()


class _Sections:
    """Collects sections in reading order, remembering the heading they fall under."""

    def __init__(self):
        self.items: list[Section] = []
        self.heading = ""
        self.table_count = 0

    def prose(self, text: str, **where) -> None:
        text = text.strip()
        if text:
            self.items.append(Section(text=text, heading=self.heading, **where))

    def table(self, rows: list[tuple[str, int | None]], caption: str = "", **where) -> None:
        self.table_count += 1
        for text, row_number in rows:
            self.items.append(Section(text=text, heading=self.heading, row_number=row_number,
                                      table=self.table_count, caption=caption, **where))

    def text_with_headings(self, text: str, **where) -> None:
        """Prose whose heading lines (see `looks_like_heading`) start new sections."""
        lines = text.split("\n")
        # A few lines in capitals are headings; where many are, capitals are just the style.
        in_capitals = sum(map(_in_capitals, lines))
        capitals_are_headings = in_capitals <= 3 or in_capitals * 4 < sum(1 for line in lines if line.strip())
        body: list[str] = []
        for line in lines:
            if looks_like_heading(line.strip(), capitals_are_headings=capitals_are_headings):
                self.prose("\n".join(body), **where)
                body = []
                self.heading = line.strip()
            else:
                body.append(line)
        self.prose("\n".join(body), **where)


# ---------------------------------------------------------------------------------------------
# Plain text and headings


_NUMBERED_HEADING = re.compile(r"^(PART\s+[IVX]+\b|(Item|ITEM)\s+\d+[A-Z]?\.|(Note|NOTE)\s+\d+\b|"
                               r"(Chapter|CHAPTER|Section|SECTION)\s+\d+\b)")
_SPACES = re.compile(r"[ \t\u00a0]+")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]")


def looks_like_heading(line: str, *, capitals_are_headings: bool = True) -> bool:
    """A short line numbered like 'Item 2.' or 'Note 4', or in capitals, in text without styles."""
    if not 3 <= len(line) <= 100:
        return False
    if _NUMBERED_HEADING.match(line):
        return True
    return capitals_are_headings and _in_capitals(line)


def _in_capitals(line: str) -> bool:
    letters = [char for char in line if char.isalpha()]
    if len(letters) < 4 or len(line) > 100 or any(char.isdigit() for char in line):
        return False
    if line.rstrip().endswith((".", ",", ";", ":")):
        return False
    return sum(char.isupper() for char in letters) >= 0.8 * len(letters)


def clean_text(text: str) -> str:
    """One space between words, lines without edge spaces, at most one blank line in a row."""
    text = _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _read_text_file(path: Path) -> str:
    text = decode_text(path.read_bytes())
    if text is None:
        raise RejectedFile("The file is not text in an encoding Docent knows (UTF-8, UTF-16, Windows-1252).")
    return clean_text(text)


def _title_from_name(file_name: str) -> str:
    return Path(file_name).stem.replace("_", " ").strip() or file_name


def extract_text(path: Path, file_name: str) -> Extraction:
    sections = _Sections()
    sections.text_with_headings(_read_text_file(path))
    return Extraction(title=_title_from_name(file_name), sections=sections.items)


# ---------------------------------------------------------------------------------------------
# Markdown


_ATX_HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
_SETEXT_UNDERLINE = re.compile(r"^\s{0,3}(=+|-+)\s*$")
_PIPE_ROW = re.compile(r"^\s*\|.*\|\s*$")
_PIPE_SEPARATOR = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$")


def extract_markdown(path: Path, file_name: str) -> Extraction:
    lines = _read_text_file(path).split("\n")
    sections = _Sections()
    title = ""
    body: list[str] = []
    index = 0
    while index < len(lines):
        line = lines[index]
        heading, consumed = _markdown_heading(lines, index)
        if heading:
            sections.prose("\n".join(body))
            body = []
            sections.heading = heading
            title = title or heading
            index += consumed
        elif _PIPE_ROW.match(line):
            table_lines = []
            while index < len(lines) and _PIPE_ROW.match(lines[index]):
                table_lines.append(lines[index])
                index += 1
            sections.prose("\n".join(body))
            body = []
            sections.table(table_rows([_pipe_cells(row) for row in table_lines if not _PIPE_SEPARATOR.match(row)]))
        else:
            body.append(line)
            index += 1
    sections.prose("\n".join(body))
    return Extraction(title=title or _title_from_name(file_name), sections=sections.items)


def _markdown_heading(lines: list[str], index: int) -> tuple[str, int]:
    """(heading text, lines it takes) when a heading starts at lines[index], else ("", 0)."""
    atx = _ATX_HEADING.match(lines[index])
    if atx and atx.group(2):
        return atx.group(2), 1
    underlined = index + 1 < len(lines) and _SETEXT_UNDERLINE.match(lines[index + 1])
    if lines[index].strip() and underlined and not _PIPE_ROW.match(lines[index]):
        return lines[index].strip(), 2
    return "", 0


def _pipe_cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


# ---------------------------------------------------------------------------------------------
# Tables: rows rendered so that each stands alone ("Region: West; Revenue: 1,204")


_CURRENCY = {"$", "€", "£", "¥"}
_YEAR = re.compile(r"\b(19|20)\d\d\b")


def table_rows(rows: list[list[str]]) -> list[tuple[str, None]]:
    """Each data row of a document's table as "Header: value; Header: value".

    The header is the first row when it has no figures in it; otherwise the rows are rendered
    without one ("Products; $ 63,355; $ 63,948").
    """
    rows = [cells for cells in rows if any(cells)]
    has_header = len(rows) > 1 and not any(_is_figure(cell) for cell in rows[0])
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
    return "; ".join(f"{label}: {' '.join(values)}" if label else " ".join(values) for label, values in groups)


def _labelled_values(header: list[str], cells: list[str]) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    pending_symbol = ""
    for index, value in enumerate(cells):
        value = value.strip()
        if value in _CURRENCY:  # "$" in a column of its own belongs to the figure after it
            pending_symbol = value + " "
            continue
        if value:
            label = header[index].strip() if index < len(header) else ""
            pairs.append((label, pending_symbol + value))
            pending_symbol = ""
    return pairs


def _is_figure(cell: str) -> bool:
    """A cell holding a number or a date, as opposed to a label (a bare year may be a label)."""
    return any(char.isdigit() for char in _YEAR.sub("", cell))


# ---------------------------------------------------------------------------------------------
# PDF


# A page drawn with more vector shapes than this is a drawing or a hostile file, not a table.
MAX_SHAPES_FOR_TABLES = 5_000


def extract_pdf(path: Path, file_name: str, *, max_pages: int = DEFAULT_MAX_PAGES) -> Extraction:
    import pypdfium2 as pdfium

    try:
        document = pdfium.PdfDocument(str(path))
    except pdfium.PdfiumError as exc:
        raise RejectedFile(_pdfium_reason(exc)) from None
    try:
        page_count = len(document)
        if page_count > max_pages:
            raise RejectedFile(f"The PDF has {page_count:,} pages, over the {max_pages:,}-page limit.")
        pages = [_read_pdf_page(document, index) for index in range(page_count)]
        _drop_running_lines(pages)
        sections = _Sections()
        for number, runs in enumerate(pages, start=1):
            for text, table in runs:
                if table is None:
                    sections.text_with_headings(text, page_number=number)
                else:
                    caption = " ".join(filter(None, [_caption(sections, number), table.title]))
                    sections.table(table.rows, caption=caption, page_number=number)
        return Extraction(title=_pdf_title(document, file_name), sections=sections.items,
                          page_count=page_count)
    finally:
        document.close()


def _pdfium_reason(exc) -> str:
    import pypdfium2.raw as pdfium_c

    if exc.err_code == pdfium_c.FPDF_ERR_PASSWORD:
        return "This is a password-protected PDF; remove the password and upload it again."
    if exc.err_code == pdfium_c.FPDF_ERR_SECURITY:
        return "This PDF uses a security handler Docent does not support (password-protected PDF)."
    return "The PDF is damaged and could not be read."


def _pdf_title(document, file_name: str) -> str:
    """What the document calls itself, then the file's name, which often says which one it is.

    Its own title is the metadata's when that reads like one (producers often store a file name or
    an archive number there), else the words set largest on its first page, where a reader looks.
    """
    title = (document.get_metadata_value("Title") or "").strip()
    title = re.sub(r"^Microsoft (Word|Excel|PowerPoint) - ", "", title)
    title = re.sub(r"\.(docx?|xlsx?|pptx?|pdf|exe|tmp)$", "", title, flags=re.IGNORECASE)
    if not _reads_like_title(title):
        title = _cover_title(document)
    name = _title_from_name(file_name)
    if not _reads_like_title(title):
        return name
    return title if _words(name) <= _words(title) else f"{title} ({name})"


def _reads_like_title(text: str) -> bool:
    return len([word for word in text.split() if any(char.isalpha() for char in word)]) >= 2


def _words(text: str) -> set[str]:
    return set(re.findall(r"\w+", text.lower()))


# Cover titles are set large and short; a longer run of the largest type is body text.
MAX_TITLE_CHARS = 100


def _cover_title(document) -> str:
    """The words in the largest type on the first page, in reading order."""
    import pypdfium2 as pdfium
    import pypdfium2.raw as pdfium_c

    try:
        page = document[0]
        textpage = page.get_textpage()
    except (pdfium.PdfiumError, IndexError):
        return ""
    try:
        count = pdfium_c.FPDFText_CountChars(textpage.raw)
        sizes = [pdfium_c.FPDFText_GetFontSize(textpage.raw, index) for index in range(count)]
        largest = max(sizes, default=0.0)
        chars = [chr(pdfium_c.FPDFText_GetUnicode(textpage.raw, index)) if largest - size < 0.5 else " "
                 for index, size in enumerate(sizes)]
    finally:
        textpage.close()
        page.close()
    title = " ".join("".join(chars).split())
    return title if len(title) <= MAX_TITLE_CHARS else ""


def _read_pdf_page(document, index: int) -> list[tuple[str, "_PdfTable | None"]]:
    """The page in reading order: runs of cleaned text, and each table in its place."""
    import pypdfium2 as pdfium

    try:
        page = document[index]
        textpage = page.get_textpage()
    except pdfium.PdfiumError:
        return []  # a damaged page: the others are still worth reading
    try:
        frame = _ReadingFrame.of(textpage)
        tables = [table for table in (_read_table(textpage, frame, cells) for cells in _find_tables(page, frame))
                  if table is not None]
        runs = _interleave(textpage, tables) if tables else [(textpage.get_text_range(), None)]
        return [(_page_text(text) if table is None else text, table) for text, table in runs]
    finally:
        textpage.close()
        page.close()


# A line at the top or bottom of this share of a document's pages (and of at least a few) is a
# running header or footer ("Apple Inc. | Q3 2022 Form 10-Q | 8", "Table of Contents", a page
# number): the same words in every chunk of every page, which tell a search nothing. Chunks keep
# their page number in their metadata.
RUNNING_LINE_SHARE = 1 / 5
RUNNING_LINE_MIN_PAGES = 3
RUNNING_LINE_DEPTH = 3  # lines from each end of a page where running headers and footers sit


def _drop_running_lines(pages: list[list[tuple[str, "_PdfTable | None"]]]) -> None:
    """Remove, in place, the lines that open or close many of the document's pages alike."""
    pages_with = Counter()
    for runs in pages:
        lines = [line for text, table in runs if table is None for line in text.split("\n") if line]
        edges = lines[:RUNNING_LINE_DEPTH] + lines[-RUNNING_LINE_DEPTH:]
        pages_with.update({_running_key(line) for line in edges})
    least = max(RUNNING_LINE_MIN_PAGES, len(pages) * RUNNING_LINE_SHARE)
    running = {key for key, count in pages_with.items() if count >= least}
    if not running:
        return
    for runs in pages:
        texts = [index for index, (_, table) in enumerate(runs) if table is None]
        if texts:
            first, last = texts[0], texts[-1]
            runs[first] = (_strip_edge(runs[first][0], running, top=True), None)
            runs[last] = (_strip_edge(runs[last][0], running, top=False), None)


def _running_key(line: str) -> str:
    """A line with its figures blanked, so that "Form 10-Q | 8" and "Form 10-Q | 9" are alike."""
    return re.sub(r"\d+", "#", line.strip().lower())


def _strip_edge(text: str, running: set[str], *, top: bool) -> str:
    lines = text.split("\n")
    if not top:
        lines.reverse()
    dropped = 0
    while lines and dropped < RUNNING_LINE_DEPTH and (not lines[0].strip() or _running_key(lines[0]) in running):
        dropped += bool(lines.pop(0).strip())
    if not top:
        lines.reverse()
    return "\n".join(lines)


def _page_text(text: str) -> str:
    return _drop_line_numbers(clean_text(text))


def _drop_line_numbers(text: str) -> str:
    """Remove a margin of line numbers (five or more counting lines), as transcripts have."""
    lines = text.split("\n")
    kept: list[str] = []
    start = 0
    while start < len(lines):
        end = start + 1
        if lines[start].isdigit():
            while end < len(lines) and lines[end] == str(int(lines[start]) + end - start):
                end += 1
        if end - start < 5 or not lines[start].isdigit():
            kept.extend(lines[start:end])
        start = end
    return "\n".join(kept)


def _caption(sections: _Sections, page_number: int) -> str:
    """The last lines of prose just above a table on its page, which often name its columns."""
    previous = sections.items[-1] if sections.items else None
    if previous is None or previous.table is not None or previous.page_number != page_number:
        return ""
    if previous.heading != sections.heading:
        return ""
    lines = previous.text.split("\n")
    caption: list[str] = []
    while lines and sum(len(line) + 1 for line in caption) + len(lines[-1]) <= 300:
        caption.insert(0, lines.pop())
    return " ".join(caption)


@dataclass(frozen=True)
class _ReadingFrame:
    """PDF user space turned so the page's text reads left to right, top to bottom.

    Coordinates (x, y) map to (X, T) = (x·c + y·s, x·s − y·c), where (c, s) is the direction of
    the text; the map is its own inverse. pdfplumber's table finder expects this orientation.
    """

    c: int
    s: int

    @classmethod
    def of(cls, textpage) -> "_ReadingFrame":
        import pypdfium2.raw as pdfium_c

        count = pdfium_c.FPDFText_CountChars(textpage.raw)
        step = max(1, count // 200)
        radians = (pdfium_c.FPDFText_GetCharAngle(textpage.raw, i) for i in range(0, count, step))
        angles = Counter(round(math.degrees(angle) / 90) % 4 for angle in radians if angle >= 0)
        quarter = angles.most_common(1)[0][0] if angles else 0
        # PDFium measures the angle clockwise; (c, s) is the text's direction counterclockwise.
        return cls(*[(1, 0), (0, -1), (-1, 0), (0, 1)][quarter])

    def box(self, left: float, bottom: float, right: float, top: float) -> tuple[float, float, float, float]:
        """The bounding box (x0, top, x1, bottom) in the frame of a box given in user space, or back."""
        xs, ts = [], []
        for x, y in ((left, bottom), (right, top)):
            xs.append(x * self.c + y * self.s)
            ts.append(x * self.s - y * self.c)
        return min(xs), min(ts), max(xs), max(ts)


@dataclass
class _PageShapes:
    """What pdfplumber's TableFinder reads of a page: the edges of its lines and boxes."""

    edges: list[dict]


def _find_tables(page, frame: _ReadingFrame) -> list[list[list[tuple | None]]]:
    """Each table on the page as rows of cell boxes in user space (None where a cell spans)."""
    from pdfplumber.table import TableFinder

    boxes = _shape_boxes(page)
    if not boxes or len(boxes) > MAX_SHAPES_FOR_TABLES:
        return []
    edges = [edge for box in boxes for edge in _box_edges(frame.box(*box))]
    finder = TableFinder(_PageShapes(edges))  # the default: cells bounded by drawn lines and boxes
    # The frame's map is its own inverse: the same call takes a cell back to user space.
    return [[[None if cell is None else frame.box(*cell) for cell in row.cells] for row in table.rows]
            for table in finder.tables]


def _shape_boxes(page) -> list[tuple[float, float, float, float]]:
    """Bounds (left, bottom, right, top) of the page's vector shapes: rules, boxes, shading.

    Shapes inside form XObjects are not looked into; tables drawn there are read as page text.
    """
    import pypdfium2.raw as pdfium_c

    left, bottom, right, top = (ctypes.c_float() for _ in range(4))
    boxes = []
    for index in range(pdfium_c.FPDFPage_CountObjects(page.raw)):
        shape = pdfium_c.FPDFPage_GetObject(page.raw, index)
        if pdfium_c.FPDFPageObj_GetType(shape) != pdfium_c.FPDF_PAGEOBJ_PATH:
            continue
        if pdfium_c.FPDFPageObj_GetBounds(shape, left, bottom, right, top):
            boxes.append((left.value, bottom.value, right.value, top.value))
        if len(boxes) > MAX_SHAPES_FOR_TABLES:
            break
    return boxes


def _box_edges(box: tuple[float, float, float, float]) -> list[dict]:
    x0, top, x1, bottom = box

    def edge(ex0, ex1, etop, ebottom, orientation):
        return {"x0": ex0, "x1": ex1, "top": etop, "bottom": ebottom, "doctop": etop, "width": ex1 - ex0,
                "height": ebottom - etop, "orientation": orientation, "object_type": "rect_edge"}

    return [edge(x0, x1, top, top, "h"), edge(x0, x1, bottom, bottom, "h"),
            edge(x0, x0, top, bottom, "v"), edge(x1, x1, top, bottom, "v")]


@dataclass
class _PdfTable:
    rows: list[tuple[str, int | None]]
    bounds: tuple[float, float, float, float]  # left, bottom, right, top in user space
    title: str  # a row spanning the whole table above its header

    def holds(self, x: float, y: float) -> bool:
        left, bottom, right, top = self.bounds
        return left <= x <= right and bottom <= y <= top


def _read_table(textpage, frame: _ReadingFrame, cell_rows: list[list[tuple | None]]) -> _PdfTable | None:
    """The table's rows when it is a real grid of text; None for boxes around prose or single rows."""
    grid = [[None if box is None else clean_text(textpage.get_text_bounded(*box)) for box in row]
            for row in cell_rows]
    grid = _unstack_rows(grid)
    grid = _drop_empty_columns([row for row in grid if any(row)])
    title = []
    while len(grid) > 2 and sum(1 for cell in grid[0] if cell) == 1:  # a title across the table
        title.append(next(cell for cell in grid.pop(0) if cell))
    if len(grid) < 2:
        return None
    header_rows = _header_row_count(grid)
    body = _fill_row_labels(grid[header_rows:])
    # A grid whose rows are mostly one cell is a frame around text, which reads better as text.
    rows_with_two_cells = sum(1 for row in body if sum(1 for cell in row if cell) >= 2)
    if rows_with_two_cells < max(1, len(body) / 2):
        return None
    header = _merged_header(grid[:header_rows]) if header_rows else []
    rows = [(render_row(header, [cell or "" for cell in row]), None) for row in body]
    boxes = [box for row in cell_rows for box in row if box is not None]
    bounds = (min(box[0] for box in boxes), min(box[1] for box in boxes),
              max(box[2] for box in boxes), max(box[3] for box in boxes))
    return _PdfTable(rows=[row for row in rows if row[0]], bounds=bounds, title=" ".join(title))


def _unstack_rows(grid: list[list[str | None]]) -> list[list[str | None]]:
    """Split a row whose every cell holds the same number of lines: rows drawn without rules."""
    result = []
    for row in grid:
        line_counts = {len(cell.split("\n")) for cell in row if cell}
        if len(line_counts) == 1 and (count := line_counts.pop()) > 1 and sum(1 for cell in row if cell) > 1:
            split = [cell.split("\n") if cell else [cell] * count for cell in row]
            result.extend([column[line] for column in split] for line in range(count))
        else:
            result.append([cell.replace("\n", " ") if cell else cell for cell in row])
    return result


def _drop_empty_columns(grid: list[list[str | None]]) -> list[list[str | None]]:
    if not grid:
        return grid
    width = max(len(row) for row in grid)
    used = [any(index < len(row) and row[index] for row in grid) for index in range(width)]
    return [[cell for cell, keep in zip(row, used, strict=True) if keep] for row in grid]


def _header_row_count(grid: list[list[str | None]]) -> int:
    """Leading rows without figures, up to three; none when the first row already holds figures.

    In a table of words only, the first row names the columns.
    """
    figures = [any(cell and _is_figure(cell) for cell in row) for row in grid]
    if not any(figures):
        return 1
    return min(figures.index(True), 3)


def _merged_header(header_rows: list[list[str | None]]) -> list[str]:
    """One label per column; a label whose cell spans columns to its right labels them all."""
    filled = []
    for row in header_rows:
        spanned, previous = [], None
        for cell in row:
            previous = previous if cell is None else cell
            spanned.append(previous or "")
        filled.append(spanned)
    labels = []
    for column in zip(*filled, strict=True):
        parts = [part for index, part in enumerate(column) if part and part not in column[:index]]
        labels.append(" ".join(parts))
    return labels


def _fill_row_labels(rows: list[list[str | None]]) -> list[list[str | None]]:
    """A row label spanning rows (None below it in the first column) labels each of them."""
    label = None
    filled = []
    for row in rows:
        if row and row[0] is None and label:
            row = [label, *row[1:]]
        label = row[0] if row else None
        filled.append(row)
    return filled


def _interleave(textpage, tables: list[_PdfTable]) -> list[tuple[str, _PdfTable | None]]:
    """The page in reading order as runs of text outside tables, with each table in its place."""
    import pypdfium2.raw as pdfium_c

    left, right, bottom, top = (ctypes.c_double() for _ in range(4))
    count = pdfium_c.FPDFText_CountChars(textpage.raw)
    owner: list[_PdfTable | None] = []
    for index in range(count):
        if pdfium_c.FPDFText_IsGenerated(textpage.raw, index) == 1 or not pdfium_c.FPDFText_GetCharBox(
                textpage.raw, index, left, right, bottom, top):
            owner.append(owner[-1] if owner else None)  # spaces and line breaks PDFium inserted
            continue
        x, y = (left.value + right.value) / 2, (bottom.value + top.value) / 2
        owner.append(next((table for table in tables if table.holds(x, y)), None))
    runs: list[tuple[str, _PdfTable | None]] = []
    placed: set[int] = set()
    start = 0
    for index in range(1, count + 1):
        if index < count and owner[index] is owner[start]:
            continue
        table = owner[start]
        if table is None:
            runs.append((textpage.get_text_range(start, index - start), None))
        elif id(table) not in placed:
            placed.add(id(table))
            runs.append(("", table))
        start = index
    runs.extend(("", table) for table in tables if id(table) not in placed)  # a table of shapes only
    return runs


# ---------------------------------------------------------------------------------------------
# Spreadsheets: XLSX and CSV


# Rows before the first row of two or more cells are a title, not the header.
HEADER_SEARCH_ROWS = 10


class _RowBudget:
    """Counts rows with data across a file's sheets and refuses the one past the limit."""

    def __init__(self, limit: int):
        self.limit = limit
        self.used = 0

    def take(self) -> None:
        if self.used >= self.limit:
            raise RejectedFile(f"The file has more than {self.limit:,} rows with data, over the "
                               f"{self.limit:,}-row limit.")
        self.used += 1


def extract_xlsx(path: Path, file_name: str, *, max_rows: int = DEFAULT_MAX_ROWS) -> Extraction:
    import openpyxl

    try:
        # read_only streams rows; data_only gives each formula's cached result; macros are never
        # loaded (keep_vba is off), so nothing in the file runs.
        with warnings.catch_warnings():  # openpyxl warns of parts it drops, which text never needs
            warnings.simplefilter("ignore", UserWarning)
            workbook = openpyxl.load_workbook(path, read_only=True, data_only=True, keep_links=False)
    except Exception as exc:  # openpyxl raises many types for a damaged workbook
        raise RejectedFile(f"The workbook is damaged and could not be read ({_exception_words(exc)}).") from None
    try:
        sections = _Sections()
        budget = _RowBudget(max_rows)
        for worksheet in workbook.worksheets:  # chart sheets are not worksheets
            worksheet.reset_dimensions()  # trust the rows present, not the size the file declares
            rows = ((number, [_cell_text(cell) for cell in row])
                    for number, row in enumerate(worksheet.iter_rows(), start=1))
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)
                _sheet_sections(rows, worksheet.title, sections, budget)
        title = (workbook.properties.title or "").strip()
        if title.lower() in ("", "untitled"):  # openpyxl's default, not the author's
            title = _title_from_name(file_name)
        return Extraction(title=title, sections=sections.items, row_count=budget.used)
    except RejectedFile:
        raise
    except Exception as exc:
        raise RejectedFile(f"The workbook is damaged and could not be read ({_exception_words(exc)}).") from None
    finally:
        workbook.close()


def extract_csv(path: Path, file_name: str, *, max_rows: int = DEFAULT_MAX_ROWS) -> Extraction:
    text = decode_text(path.read_bytes())
    if text is None:
        raise RejectedFile("The CSV file is not text in an encoding Docent knows (UTF-8, UTF-16, Windows-1252).")
    dialect = sniff_csv_dialect(text) or csv.excel
    sections = _Sections()
    budget = _RowBudget(max_rows)
    reader = csv.reader(io.StringIO(text, newline=""), dialect)
    try:
        # A spreadsheet program opens a CSV file as one sheet named after the file.
        _sheet_sections(enumerate(reader, start=1), Path(file_name).stem, sections, budget)
    except csv.Error as exc:
        raise RejectedFile(f"The CSV file could not be read: {exc}.") from None
    return Extraction(title=_title_from_name(file_name), sections=sections.items, row_count=budget.used)


def _sheet_sections(rows, sheet: str, sections: _Sections, budget: _RowBudget) -> None:
    """Add one sheet's rows, numbered, as a table under the sheet's name."""
    sections.heading = sheet
    title_lines: list[tuple[str, int]] = []
    header: list[str] | None = None
    data: list[tuple[str, int]] = []
    for row_number, cells in rows:
        cells = [cell.strip() for cell in cells]
        if not any(cells):
            continue
        budget.take()
        filled = sum(1 for cell in cells if cell)
        if header is None and not data and len(title_lines) < HEADER_SEARCH_ROWS and filled < 2:
            title_lines.append((" ".join(cell for cell in cells if cell), row_number))
        elif header is None and not data and not any(_is_figure(cell) for cell in cells):
            header = [cell or f"Column {_column_letter(index)}" for index, cell in enumerate(cells)]
        else:
            data.append((render_row(header or [], cells), row_number))
    if header is None:  # no row names the columns: each row stands as it is
        sections.table(title_lines + data, sheet=sheet)
    else:
        sections.table(data, caption=" ".join(text for text, _ in title_lines), sheet=sheet)


def _column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


def _cell_text(cell) -> str:
    """A cell's value as the spreadsheet shows it: dates as dates, figures with their format."""
    value = cell.value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, datetime.datetime):
        if value.time() == datetime.time(0):
            return value.date().isoformat()
        return value.isoformat(sep=" ", timespec="minutes" if value.second == 0 else "seconds")
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, (int, float)):
        return format_number(value, getattr(cell, "number_format", None) or "General")
    return str(value)


def format_number(value: int | float, number_format: str) -> str:
    """A figure as Excel's common number formats show it: '#,##0' → 1,204, '0.0%' → 15.0%."""
    section = number_format.split(";")[0]
    decimals = len(re.search(r"\.(0*)", section).group(1)) if "." in section else 0
    symbol = next((char for char in section if char in _CURRENCY), "")
    if "%" in section:
        return f"{value * 100:.{decimals}f}%"
    if section.lower() == "general" or not re.search(r"[0#]", section):
        return str(int(value)) if float(value).is_integer() else f"{value:.10g}"
    grouped = f"{abs(value):,.{decimals}f}" if "," in section else f"{abs(value):.{decimals}f}"
    return ("-" if value < 0 else "") + symbol + grouped


# ---------------------------------------------------------------------------------------------
# DOCX (read with the standard library: the body's paragraphs, headings and tables)


_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_HEADING_STYLE = re.compile(r"^(heading|berschrift|titre|titolo|t[ií]tulo)\s?(\d)$|^title$", re.IGNORECASE)


def extract_docx(path: Path, file_name: str) -> Extraction:
    try:
        with zipfile.ZipFile(path) as archive:
            body = ElementTree.fromstring(archive.read("word/document.xml")).find(f"{_W}body")
            title = _docx_core_title(archive)
    except (KeyError, zipfile.BadZipFile, ElementTree.ParseError, ValueError, OSError) as exc:
        raise RejectedFile(f"The Word document is damaged and could not be read ({_exception_words(exc)}).") from None
    sections = _Sections()
    first_heading = ""
    for block in _docx_blocks(body):
        if block.tag == f"{_W}p":
            text = _docx_text(block)
            if _docx_is_heading(block) and text.strip():
                sections.heading = text.strip()
                first_heading = first_heading or sections.heading
            else:
                sections.prose(text)
        elif block.tag == f"{_W}tbl":
            rows = [[_docx_text(cell) for cell in row.iter(f"{_W}tc")] for row in block.iter(f"{_W}tr")]
            sections.table(table_rows(rows))
    return Extraction(title=title or first_heading or _title_from_name(file_name), sections=sections.items)


def _docx_blocks(body):
    """The body's paragraphs and tables, including those inside content controls (cover pages)."""
    for element in body if body is not None else []:
        if element.tag == f"{_W}sdt":
            yield from _docx_blocks(element.find(f"{_W}sdtContent"))
        else:
            yield element


def _docx_core_title(archive: zipfile.ZipFile) -> str:
    try:
        core = ElementTree.fromstring(archive.read("docProps/core.xml"))
    except (KeyError, ElementTree.ParseError):
        return ""
    title = core.find("{http://purl.org/dc/elements/1.1/}title")
    return (title.text or "").strip() if title is not None else ""


def _docx_is_heading(paragraph) -> bool:
    properties = paragraph.find(f"{_W}pPr")
    if properties is None:
        return False
    style = properties.find(f"{_W}pStyle")
    if style is not None and _HEADING_STYLE.match(style.get(f"{_W}val", "")):
        return True
    return properties.find(f"{_W}outlineLvl") is not None


def _docx_text(element) -> str:
    parts = []
    for node in element.iter():
        if node.tag == f"{_W}t":
            parts.append(node.text or "")
        elif node.tag == f"{_W}tab":
            parts.append("\t")
        elif node.tag in (f"{_W}br", f"{_W}cr"):
            parts.append("\n")
        elif node.tag == f"{_W}p" and parts:
            parts.append("\n")  # paragraphs inside a table cell
    return clean_text("".join(parts))


# ---------------------------------------------------------------------------------------------
# HTML (the standard library's parser: visible text, headings and tables)


def extract_html(path: Path, file_name: str) -> Extraction:
    text = decode_text(path.read_bytes())
    if text is None:
        raise RejectedFile("The HTML file is not text in an encoding Docent knows.")
    reader = _HtmlReader()
    reader.feed(text)
    reader.close()
    reader.flush()
    title = clean_text(reader.title) or _title_from_name(file_name)
    return Extraction(title=title, sections=reader.sections.items)


class _HtmlReader(HTMLParser):
    """Visible text by blocks, h1–h6 as headings, tables as rows; scripts and styles dropped."""

    SKIPPED = {"script", "style", "noscript", "template", "svg"}
    BLOCKS = {"p", "div", "li", "br", "section", "article", "header", "footer", "blockquote", "pre",
              "ul", "ol", "dl", "dt", "dd", "hr", "main", "nav", "aside", "form", "figure", "figcaption"}
    HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.sections = _Sections()
        self.title = ""
        self.skipping = 0
        self.in_title = False
        self.text: list[str] = []
        self.heading: list[str] | None = None
        self.table: list[list[str]] | None = None
        self.cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "title":
            self.in_title = True
        elif tag in self.SKIPPED:
            self.skipping += 1
        elif tag in self.HEADINGS:
            self.flush()
            self.heading = []
        elif tag == "table" and self.table is None:
            self.flush()
            self.table = []
        elif tag == "tr" and self.table is not None:
            self.table.append([])
        elif tag in ("td", "th") and self.table is not None:
            self.cell = []
        elif tag in self.BLOCKS:
            self._target().append("\n")

    def handle_endtag(self, tag):
        if tag == "title":
            self.in_title = False
        elif tag in self.SKIPPED:
            self.skipping = max(0, self.skipping - 1)
        elif tag in self.HEADINGS and self.heading is not None:
            self.sections.heading = clean_text(" ".join("".join(self.heading).split()))
            self.heading = None
        elif tag in ("td", "th") and self.cell is not None and self.table is not None:
            if not self.table:
                self.table.append([])
            self.table[-1].append(" ".join("".join(self.cell).split()))
            self.cell = None
        elif tag == "table" and self.table is not None:
            self.sections.table(table_rows(self.table))
            self.table = None
        elif tag in self.BLOCKS:
            self._target().append("\n")

    def handle_data(self, data):
        if self.in_title:
            self.title += data
        elif not self.skipping:
            self._target().append(data)

    def _target(self) -> list[str]:
        if self.heading is not None:
            return self.heading
        if self.cell is not None:
            return self.cell
        return self.text

    def flush(self):
        self.sections.prose(clean_text("".join(self.text)))
        self.text = []


def _exception_words(exc: Exception) -> str:
    return str(exc).strip().rstrip(".")[:200] or type(exc).__name__
