"""PDF: PDFium (pypdfium2) reads the text, pdfplumber's table finder finds the tables.

PDFium reads the text about 60 times faster than pdfplumber's extract_text on the SEC filings of
the benchmark, with the same words, pages turned upright and no doubled glyphs. Tables are found
by pdfplumber's table finder, fed the page's ruling lines and boxes as PDFium reports them, so no
page is parsed twice; each cell's text comes from PDFium, with the letters of ligatures PDFium cannot name put
back (`glyph_names.py`). A page without drawn tables whose text layer
is written out of reading order (a statement's columns one after another) is read line by line across
the page. Headers and footers that most pages repeat are left out, and a PDF whose metadata has no real
title is named by its cover.

A page without a text layer, or whose text layer is degraded, is read by OCR instead (`ocr.py`);
a page with a good text layer never is. The values filled into a form's fields are read too.
"""

import ctypes
import functools
import itertools
import math
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from datasources.chunk_format import CURRENCY, row_text
from datasources.extractors.glyph_names import FontEncodings, TextLayer
from datasources.extractors.model import DEFAULT_MAX_PAGES, Extraction, Sections, clean_text, title_from_name
from datasources.extractors.ocr import OcrEngine, read_pdf_page
from datasources.extractors.tables import is_figure, render_headed_cells, stated_scale
from datasources.filetypes import RejectedFile

# A page drawn with more vector shapes than this is a drawing or a hostile file, not a table.
MAX_SHAPES_FOR_TABLES = 5_000


def extract_pdf(path: Path, file_name: str, *, max_pages: int = DEFAULT_MAX_PAGES,
                on_page: Callable[[int, int, int], None] | None = None, ocr: OcrEngine | None = None) -> Extraction:
    """The PDF's sections; `on_page(done, total, scanned)` hears of each page read, and how many
    of them are read by OCR (`ocr`, None where Tesseract is not installed)."""
    import pypdfium2 as pdfium

    try:
        document = pdfium.PdfDocument(str(path))
        document.init_forms()  # before any page loads: their fields' values are read with them
    except pdfium.PdfiumError as exc:
        raise RejectedFile(_pdfium_reason(exc)) from None
    fonts = FontEncodings(path)
    try:
        page_count = len(document)
        if page_count > max_pages:
            raise RejectedFile(f"The PDF has {page_count:,} pages, over the {max_pages:,}-page limit.")
        scans = {} if ocr is None else {index: kind for index in range(page_count)
                                        if (kind := _scan_kind(document, index)) is not None}
        pages = []
        for index in range(page_count):
            pages.append(_read_scanned_page(document, index, ocr, scans[index]) if index in scans
                         else _read_pdf_page(document, index, fonts))
            if on_page is not None:
                on_page(index + 1, page_count, len(scans))
        _drop_running_lines(pages)
        sections = Sections()
        for number, runs in enumerate(pages, start=1):
            for text, table in runs:
                if table is None:
                    sections.text_with_headings(text, page_number=number)
                else:
                    above = _caption(sections, number)
                    caption = " ".join(filter(None, [above, table.title]))
                    sections.table(table.rows, caption=caption, unit=table.unit or stated_scale(above) or "",
                                   page_number=number)
        return Extraction(title=_pdf_title(document, file_name, fonts), sections=sections.items,
                          page_count=page_count)
    finally:
        fonts.close()
        document.close()


# A page with fewer letters and digits than this in its text layer, and an image over this share
# of it, is a scan (a court's filing stamp is often the only text on a scanned page).
SCAN_MAX_GLYPHS = 200
SCAN_MIN_IMAGE_SHARE = 0.5
# A text layer where more than this share of the glyphs map to no character (control characters,
# U+FFFD, private-use code points) is degraded: fonts whose glyphs map to wrong codes drop letters
# and digits from the text, and what is left of them shows as such characters.
DEGRADED_GLYPH_SHARE = 0.02


SCANNED, DEGRADED = "scanned", "degraded"


def _scan_kind(document, index: int) -> str | None:
    """SCANNED for a page that is an image with little text on it, DEGRADED for a page whose text
    layer has lost characters, None for a page whose text layer is good (it is never OCRed)."""
    import pypdfium2 as pdfium

    try:
        page = document[index]
        textpage = page.get_textpage()
    except pdfium.PdfiumError:
        return None
    try:
        glyphs = [char for char in textpage.get_text_range() if not char.isspace()]
        unreadable = sum(1 for char in glyphs if _unreadable(char))
        if glyphs and unreadable > len(glyphs) * DEGRADED_GLYPH_SHARE:
            return DEGRADED
        readable = sum(1 for char in glyphs if char.isalnum())
        if readable < SCAN_MAX_GLYPHS and _image_share(page) >= SCAN_MIN_IMAGE_SHARE:
            return SCANNED
        return None
    finally:
        textpage.close()
        page.close()


def _unreadable(char: str) -> bool:
    code = ord(char)
    return code < 32 or code == 0xFFFD or 0xE000 <= code <= 0xF8FF


def _image_share(page) -> float:
    """The share of the page the largest image on it covers."""
    import pypdfium2.raw as pdfium_c

    width, height = page.get_size()
    largest = 0.0
    for image in page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE], max_depth=2):
        left, bottom, right, top = image.get_bounds()
        largest = max(largest, (min(right, width) - max(left, 0)) * (min(top, height) - max(bottom, 0)))
    return largest / max(width * height, 1.0)


def _read_scanned_page(document, index: int, ocr: OcrEngine, kind: str) -> list[tuple[str, None]]:
    """The page as OCR reads it; a scan's own few lines of text (a filing stamp, a date typed over
    it) come first, as OCR in the configured languages may misread them."""
    import pypdfium2 as pdfium

    try:
        page = document[index]
    except pdfium.PdfiumError:
        return []
    try:
        text = _page_text(read_pdf_page(page, ocr))
        if kind == SCANNED:
            textpage = page.get_textpage()
            try:
                text = "\n".join(filter(None, [_page_text(textpage.get_text_range()), text]))
            finally:
                textpage.close()
        return [(text, None), *_form_values(document, page, text)]
    finally:
        page.close()


def _pdfium_reason(exc) -> str:
    import pypdfium2.raw as pdfium_c

    if exc.err_code == pdfium_c.FPDF_ERR_PASSWORD:
        return "This is a password-protected PDF; remove the password and upload it again."
    if exc.err_code == pdfium_c.FPDF_ERR_SECURITY:
        return "This PDF uses a security handler Docent does not support (password-protected PDF)."
    return "The PDF is damaged and could not be read."


def _pdf_title(document, file_name: str, fonts: FontEncodings) -> str:
    """What the document calls itself, then the file's name, which often says which one it is.

    Its own title is the metadata's when that reads like one (producers often store a file name or
    an archive number there), else the words set largest on its first page, where a reader looks.
    """
    title = (document.get_metadata_value("Title") or "").strip()
    title = re.sub(r"^Microsoft (Word|Excel|PowerPoint) - ", "", title)
    title = re.sub(r"\.(docx?|xlsx?|pptx?|pdf|exe|tmp)$", "", title, flags=re.IGNORECASE)
    if not _reads_like_title(title):
        title = _cover_title(document, fonts)
    name = title_from_name(file_name)
    if not _reads_like_title(title):
        return name
    return title if _words(name) <= _words(title) else f"{title} ({name})"


def _reads_like_title(text: str) -> bool:
    return len([word for word in text.split() if any(char.isalpha() for char in word)]) >= 2


def _words(text: str) -> set[str]:
    return set(re.findall(r"\w+", text.lower()))


# Cover titles are set large and short; a longer run of the largest type is body text.
MAX_TITLE_CHARS = 100


def _cover_title(document, fonts: FontEncodings) -> str:
    """The words in the largest type on the first page, in reading order."""
    import pypdfium2 as pdfium
    import pypdfium2.raw as pdfium_c

    try:
        page = document[0]
        textpage = TextLayer(page.get_textpage(), fonts, 0)
    except (pdfium.PdfiumError, IndexError):
        return ""
    try:
        count = pdfium_c.FPDFText_CountChars(textpage.raw)
        sizes = [pdfium_c.FPDFText_GetFontSize(textpage.raw, index) for index in range(count)]
        largest = max(sizes, default=0.0)
        chars = [textpage.char(index) if largest - size < 0.5 else " " for index, size in enumerate(sizes)]
    finally:
        textpage.close()
        page.close()
    title = " ".join("".join(chars).split())
    return title if len(title) <= MAX_TITLE_CHARS else ""


def _read_pdf_page(document, index: int, fonts: FontEncodings) -> list[tuple[str, "_PdfTable | None"]]:
    """The page in reading order: runs of cleaned text, and each table in its place."""
    import pypdfium2 as pdfium

    try:
        page = document[index]
        textpage = TextLayer(page.get_textpage(), fonts, index)
    except pdfium.PdfiumError:
        return []  # a damaged page: the others are still worth reading
    try:
        frame = _ReadingFrame.of(textpage)
        lines = functools.cache(lambda: _page_lines(textpage, frame))  # read once, if a table needs them
        shapes = _shape_boxes(page)
        drawn = _find_tables(shapes, frame)
        rules = _rules(shapes, frame) if drawn else []  # a table's headings may be underlined
        tables = [table for table in (_read_table(textpage, frame, cells, lines, rules) for cells in drawn)
                  if table is not None]
        runs = _interleave(textpage, tables) if tables else [(_text_in_reading_order(textpage, lines), None)]
        runs = [(_page_text(text) if table is None else text, table) for text, table in runs]
        return runs + _form_values(document, page, " ".join(text for text, table in runs if table is None))
    finally:
        textpage.close()
        page.close()


# A page whose text layer is written out of reading order is read line by line across the page instead: a
# statement or a datasheet laid out without drawn rules often writes its columns one after another (every
# date, then every description, then every amount), so a row's label lands far from its figures. Such a page
# shows in its lines of several stretches (cells, apart by wide gaps; SCRAMBLED_MIN_LINES or more): in at least
# SCRAMBLED_SHARE of them another line's text is written between the line's own stretches, at least
# FIGURE_LINE_SHARE of them hold a bare figure, and their stretches are short, a median of SCRAMBLED_CELL_CHARS
# characters: labels and figures. Not the columns of a page of prose, written one after another on purpose
# (longer stretches, few figures), nor a chart's or a margin's upright letters (stretches of one letter).
SCRAMBLED_MIN_LINES = 5
SCRAMBLED_SHARE = 0.3
FIGURE_LINE_SHARE = 0.4
SCRAMBLED_CELL_CHARS = range(3, 31)
_LETTERLESS = re.compile(r"^[^A-Za-z]*\d[^A-Za-z]*$")
# Lines that share this share of the lower one's height are one row of the page; two of its stretches closer
# than this many times the line's height are one cell.
ROW_SHARED_HEIGHT = 0.5
SAME_CELL_GAP = 0.3


def _text_in_reading_order(textpage, lines: Callable[[], list["_Line"]]) -> str:
    """The text of a page without tables: as its text layer writes it, unless that is out of reading order
    (`_out_of_order`); then line by line, a line's stretches as the cells of a row ("28 February; Monthly
    Apartment Rent; 987.33; 44,079.83")."""
    text = textpage.get_text_range()
    # Only a page whose text has lines of figures alone can be out of order: those figures were written apart
    # from their labels. Reading the glyphs' places costs more than the text, so the other pages skip it.
    if sum(1 for line in text.splitlines() if _LETTERLESS.match(line)) < SCRAMBLED_MIN_LINES or not _out_of_order(
            lines()):
        return text
    return "\n".join(row_text(row) for line in _rows_across(lines()) for row in _rows_side_by_side(line))


def _rows_side_by_side(line: "_Line") -> list[list[str]]:
    """A line's cells as the rows they are: two tables side by side ("Taxes Withheld; -963.01 … Realized Gains")
    share the page's line, and the right one's row starts at a label after the left one's label and figures."""
    rows: list[list[str]] = [[]]
    labelled = figured = False
    for cell in line.cells:
        figure = is_figure(cell.text)
        if labelled and figured and not figure:
            rows.append([])
            figured = False
        rows[-1].append(cell.text)
        labelled, figured = labelled or not figure, figured or figure
    return rows


def _rows_across(lines: list["_Line"]) -> list["_Line"]:
    """The lines, those side by side on the page joined into one: a row's cells may sit a little above or
    below each other (each stretch's baseline is its own), and a figure's digits even split over two."""
    rows: list[_Line] = []
    for line in lines:
        row = rows[-1] if rows else None
        if row is None or not _side_by_side(row, line):
            rows.append(line)
            continue
        cells = sorted([*row.cells, *line.cells], key=lambda cell: cell.left)
        joined = [cells[0]]
        for cell in cells[1:]:
            if cell.left - joined[-1].right < SAME_CELL_GAP * (line.bottom - line.top):
                joined[-1] = _Cell(joined[-1].text + cell.text, joined[-1].left, cell.right)
            else:
                joined.append(cell)
        rows[-1] = _Line(joined, min(row.top, line.top), max(row.bottom, line.bottom),
                         row.written_whole and line.written_whole)
    return rows


def _side_by_side(row: "_Line", line: "_Line") -> bool:
    """The line shares most of its height with the row and none of its width."""
    shared = min(row.bottom, line.bottom) - max(row.top, line.top)
    return (shared >= ROW_SHARED_HEIGHT * min(row.bottom - row.top, line.bottom - line.top)
            and all(cell.overlap(other) <= 0 for cell in line.cells for other in row.cells))


def _out_of_order(lines: list["_Line"]) -> bool:
    several = [line for line in lines if len(line.cells) > 1]
    if len(several) < SCRAMBLED_MIN_LINES:
        return False
    apart = sum(1 for line in several if not line.written_whole)
    figured = sum(1 for line in several if any(_BARE_FIGURE.match(cell.text) for cell in line.cells))
    lengths = sorted(len(cell.text) for line in several for cell in line.cells)
    return (apart >= SCRAMBLED_SHARE * len(several) and figured >= FIGURE_LINE_SHARE * len(several)
            and lengths[len(lengths) // 2] in SCRAMBLED_CELL_CHARS)


def _form_values(document, page, page_text: str) -> list[tuple[str, None]]:
    """The values filled into the page's form fields that its text does not already show, one
    line each after the field's label ("NAME: Alex Rivera"): a form's answers are often drawn only
    by the viewer, outside the page's text."""
    import pypdfium2.raw as pdfium_c

    if document.formenv is None:
        return []
    form = document.formenv.raw
    shown = " ".join(page_text.split())
    lines = []
    for index in range(pdfium_c.FPDFPage_GetAnnotCount(page.raw)):
        annotation = pdfium_c.FPDFPage_GetAnnot(page.raw, index)
        try:
            if pdfium_c.FPDFAnnot_GetFormFieldType(form, annotation) not in _value_field_types():
                continue
            value = " ".join(_annotation_string(pdfium_c.FPDFAnnot_GetFormFieldValue, form, annotation).split())
            if not value or value in shown:
                continue
            label = _annotation_string(pdfium_c.FPDFAnnot_GetFormFieldAlternateName, form, annotation)
            if label.strip() in ("", "undefined"):  # form designers' tooltips often say "undefined"
                label = _annotation_string(pdfium_c.FPDFAnnot_GetFormFieldName, form, annotation)
            lines.append(f"{' '.join(label.split())}: {value}" if label.strip() else value)
        finally:
            pdfium_c.FPDFPage_CloseAnnot(annotation)
    return [("\n".join(lines), None)] if lines else []


def _annotation_string(getter, form, annotation) -> str:
    """A UTF-16 string PDFium hands out through the two-call protocol (ask the size, then fill)."""
    size = getter(form, annotation, None, 0)
    if size <= 2:
        return ""
    buffer = (ctypes.c_ushort * (size // 2))()
    getter(form, annotation, buffer, size)
    return bytes(buffer).decode("utf-16-le", errors="replace").rstrip("\x00")


def _value_field_types() -> set[int]:
    import pypdfium2.raw as pdfium_c

    return {pdfium_c.FPDF_FORMFIELD_TEXTFIELD, pdfium_c.FPDF_FORMFIELD_COMBOBOX, pdfium_c.FPDF_FORMFIELD_LISTBOX}


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


def _caption(sections: Sections, page_number: int) -> str:
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


def _find_tables(boxes: list[tuple[float, float, float, float]], frame: _ReadingFrame
                 ) -> list[list[list[tuple | None]]]:
    """Each table drawn by the page's shapes (`_shape_boxes`) as rows of cell boxes in user space (None where a
    cell spans)."""
    from pdfplumber.table import TableFinder

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


# A horizontal rule is a shape at most this thick; pieces of one drawn end to end (a rule under a heading is
# often drawn a column at a time) are joined across gaps up to RULE_JOIN points.
RULE_THICKNESS = 2
RULE_JOIN = 2


@dataclass(frozen=True)
class _Rule:
    """A horizontal rule in the reading frame."""

    left: float
    right: float
    at: float  # its height across the page, as a line's top and bottom


def _rules(boxes: list[tuple[float, float, float, float]], frame: _ReadingFrame) -> list[_Rule]:
    """The page's horizontal rules, pieces drawn end to end on one height joined."""
    pieces = sorted((round(top), x0, x1) for x0, top, x1, bottom in (frame.box(*box) for box in boxes)
                    if bottom - top <= RULE_THICKNESS < x1 - x0)
    rules: list[_Rule] = []
    for at, left, right in pieces:
        if rules and rules[-1].at == at and left - rules[-1].right <= RULE_JOIN:
            rules[-1] = replace(rules[-1], right=max(right, rules[-1].right))
        else:
            rules.append(_Rule(left, right, at))
    return rules


def _box_edges(box: tuple[float, float, float, float]) -> list[dict]:
    x0, top, x1, bottom = box

    def edge(ex0, ex1, etop, ebottom, orientation):
        return {"x0": ex0, "x1": ex1, "top": etop, "bottom": ebottom, "doctop": etop, "width": ex1 - ex0,
                "height": ebottom - etop, "orientation": orientation, "object_type": "rect_edge"}

    return [edge(x0, x1, top, top, "h"), edge(x0, x1, bottom, bottom, "h"),
            edge(x0, x0, top, bottom, "v"), edge(x1, x1, top, bottom, "v")]


# Stretches of a line farther apart than this many glyph widths are in different columns (the
# spaces of justified text stretch to about two).
COLUMN_GAP_GLYPHS = 3


def _page_lines(textpage, frame: _ReadingFrame) -> list["_Line"]:
    """The page's lines of text, top to bottom, each cut into stretches at its wide gaps."""
    import pypdfium2.raw as pdfium_c

    left, right, bottom, top = (ctypes.c_double() for _ in range(4))
    x, y = ctypes.c_double(), ctypes.c_double()
    glyphs = []
    after_space = False
    for index in range(pdfium_c.FPDFText_CountChars(textpage.raw)):
        char = textpage.char(index)
        if char.isspace():
            after_space = True
            continue
        if not (pdfium_c.FPDFText_GetCharBox(textpage.raw, index, left, right, bottom, top)
                and pdfium_c.FPDFText_GetCharOrigin(textpage.raw, index, x, y)):
            continue
        baseline = round(x.value * frame.s - y.value * frame.c)
        glyphs.append((baseline, frame.box(left.value, bottom.value, right.value, top.value), char, after_space,
                       len(glyphs)))
        after_space = False
    glyphs.sort(key=lambda glyph: (glyph[0], glyph[1][0]))
    return [_line(list(group)) for _, group in itertools.groupby(glyphs, key=lambda glyph: glyph[0])]


def _line(glyphs: list[tuple]) -> "_Line":
    widths = sorted(box[2] - box[0] for _, box, _, _, _ in glyphs)
    column_gap = COLUMN_GAP_GLYPHS * widths[len(widths) // 2]
    cells: list[_Cell] = []
    text, start, end = "", None, None
    for _, box, char, after_space, _ in glyphs:
        # A currency sign set after a figure opens the next column's figure ("40,665 $ 39,570").
        opens_figure = char in CURRENCY and after_space and text[-1:].isdigit()
        if end is not None and (box[0] - end > column_gap or opens_figure):
            cells.append(_Cell(text, start, end))
            text, start = "", None
        text += (" " if text and after_space else "") + char
        start = box[0] if start is None else start
        end = box[2]
    cells.append(_Cell(text, start, end))
    order = [glyph[4] for glyph in glyphs]  # each glyph's place in the text layer
    return _Line(cells=cells, top=min(box[1] for _, box, _, _, _ in glyphs),
                 bottom=max(box[3] for _, box, _, _, _ in glyphs),
                 written_whole=max(order) - min(order) == len(order) - 1)


@dataclass
class _PdfTable:
    rows: list[tuple[str, int | None]]
    bounds: tuple[float, float, float, float]  # left, bottom, right, top in user space
    title: str  # a row spanning the whole table above its header, or a group's name over its rows
    unit: str  # the scale its headings state ("In millions"), or ""

    def holds(self, x: float, y: float) -> bool:
        left, bottom, right, top = self.bounds
        return left <= x <= right and bottom <= y <= top


@dataclass(frozen=True)
class _Cell:
    """A cell's text and where it lies across the page, in the reading frame."""

    text: str
    left: float
    right: float

    def overlap(self, other: "_Cell") -> float:
        return min(self.right, other.right) - max(self.left, other.left)


@dataclass(frozen=True)
class _Line:
    """A line of the page's text as the stretches its wide gaps separate, in the reading frame."""

    cells: list[_Cell]
    top: float
    bottom: float
    written_whole: bool = True  # the text layer writes no other line's text between its glyphs

    @property
    def text(self) -> str:
        return " ".join(cell.text for cell in self.cells)


def _read_table(textpage, frame: _ReadingFrame, cell_rows: list[list[tuple | None]],
                lines: Callable[[], list[_Line]], rules: list[_Rule]) -> _PdfTable | None:
    """The table's rows when it is a real grid of text; None for boxes around prose or single rows.

    Whether it is one is judged on the cells the table finder drew. Financial statements often
    rule only their figures: the heading lines set just above a grid without a heading row of its
    own (see `_lines_above`) are read as the table's too.
    """
    frame_rows = [[None if box is None else frame.box(*box) for box in row] for row in cell_rows]
    drawn = _grid(textpage, frame, frame_rows)
    if drawn is None:
        return None

    def holds_a_figure(box: tuple) -> bool:
        return _BARE_FIGURE.match(clean_text(textpage.get_text_bounded(*frame.box(*box)))) is not None

    filled_rows = _with_uncovered_columns(frame_rows, holds_a_figure)
    title, grid, header_rows = drawn if filled_rows == frame_rows else _grid(textpage, frame, filled_rows)
    body = _fill_row_labels(grid[header_rows:])
    if _is_contents(body):  # claimed, so that its text is not read as prose either, but kept out
        body = []
    boxes = [box for row in frame_rows for box in row if box is not None]
    extent = (min(box[0] for box in boxes), min(box[1] for box in boxes),
              max(box[2] for box in boxes), max(box[3] for box in boxes))
    above = (_lines_above(lines(), extent, _label_column_right(body), rules) if not header_rows and body
             else _LinesAbove())
    header = [*above.header_rows, *([_filled(row) for row in grid[:header_rows]])]
    unit, header = _scale_of(header, " ".join([*title, *above.titles]))
    columns = [cell for row in body for cell in _filled(row)]
    unruled = [[cell and _widened(cell, columns) for cell in row] for row in above.body_rows]
    rows = [(render_headed_cells([(_heading(cell, header), cell.text) for cell in _filled(row)]), None)
            for row in [*unruled, *body]]
    top = min([extent[1], *(line.top for line in above.lines)])
    return _PdfTable(rows=[row for row in rows if row[0]], bounds=frame.box(extent[0], top, extent[2], extent[3]),
                     title=" ".join([*title, *above.titles]), unit=above.unit or unit)


# Prose with boxes drawn behind some of its words (a press release's highlighted figures) is found as a grid whose
# cells cut its sentences, so that many a cell carries on the sentence of the cell before it, in lower case or after
# a comma ("… (NYSE: MS) to; day reported net revenues of $1; 15.4 billion", "$1.5 billion; , primarily driven by").
# A grid where PROSE_CELLS or more of a row's neighbouring cells, and PROSE_CELL_SHARE of them, do so is read as text.
# In the filings' and the corpus' 440 tables at most 14% of neighbouring cells start so ("nm", a wrapped heading).
PROSE_CELLS = 2
PROSE_CELL_SHARE = 0.3
_CARRIES_ON = re.compile(r"^[a-z,;](?!/)")


def _grid(textpage, frame: _ReadingFrame, frame_rows: list[list[tuple | None]]
          ) -> tuple[list[str], list[list["_Cell | None"]], int] | None:
    """The table's title rows, its rows of cells and how many of them are headings; None when it
    is not a real grid of text."""
    grid = [[None if box is None else _Cell(clean_text(textpage.get_text_bounded(*frame.box(*box))), box[0], box[2])
             for box in row] for row in frame_rows]
    grid = _drop_empty_columns([row for row in _unstack_rows(grid) if any(cell and cell.text for cell in row)])
    neighbours = [right.text for row in grid for _, right in itertools.pairwise(_filled(row))]
    carrying_on = sum(1 for text in neighbours if _CARRIES_ON.match(text))
    if carrying_on >= max(PROSE_CELLS, PROSE_CELL_SHARE * len(neighbours)):
        return None  # sentences cut by highlights
    title = []
    while len(grid) > 2 and len(_filled(grid[0])) == 1:  # a title across the table
        title.append(_filled(grid.pop(0))[0].text)
    if len(grid) < 2:
        return None
    header_rows = _header_row_count(grid)
    # A grid whose rows are mostly one cell is a frame around text, which reads better as text.
    rows_with_two_cells = sum(1 for row in grid[header_rows:] if len(_filled(row)) >= 2)
    if rows_with_two_cells < max(1, (len(grid) - header_rows) / 2):
        return None
    return title, grid, header_rows


# A table of contents lists at least this many titles, each followed only by its page number.
CONTENTS_MIN_ROWS = 3


def _is_contents(body: list[list[_Cell | None]]) -> bool:
    """The rows are titles ("Item 1A.", "Risk Factors") each followed only by a page number, in page
    order: a table of contents."""
    rows = [_filled(row) for row in body]
    rows = [row for row in rows if len(row) >= 2]
    pages = [row[-1].text for row in rows]
    if len(rows) < CONTENTS_MIN_ROWS or not all(page.isdigit() and len(page) <= 3 for page in pages):
        return False
    titles_only = all(any(char.isalpha() for char in cell.text) for row in rows for cell in row[:-1])
    return titles_only and [int(page) for page in pages] == sorted(int(page) for page in pages)


def _filled(row: list[_Cell | None]) -> list[_Cell]:
    return [cell for cell in row if cell and cell.text]


# What a hole in a row of figures holds when the row just drew no cell there: "21", "(6)", "$", "%".
_BARE_FIGURE = re.compile(r"^[$€£¥]?\s?\(?[-+]?\d[\d,.]*\)?\s?%?$|^[$€£¥%]$")


def _with_uncovered_columns(rows: list[list[tuple | None]], holds_a_figure) -> list[list[tuple | None]]:
    """Rows with a box wherever no cell of the table lies over a column of the row and a figure does.

    The table finder leaves a hole (None) both where a cell spans the columns to its right (or the
    rows below it) and where a row draws no cell at all ("Statutory rate; 21 %" under a row of
    shaded figures); a figure in the second kind would be lost.
    """
    columns = [next((row[index] for row in rows if index < len(row) and row[index]), None)
               for index in range(max(len(row) for row in rows))]
    boxes = [box for row in rows for box in row if box]
    filled = []
    for row in rows:
        present = [box for box in row if box]
        top, bottom = min(box[1] for box in present), max(box[3] for box in present)
        holes = [None if box or column is None else (column[0], top, column[2], bottom)
                 for box, column in zip(row, columns, strict=False)]
        filled.append([box or (hole if hole and not any(_covers(other, hole) for other in boxes)
                               and holds_a_figure(hole) else None)
                       for box, hole in zip(row, holes, strict=True)])
    return filled


def _covers(box: tuple, hole: tuple) -> bool:
    """The box reaches over part of the hole (boxes as left, top, right, bottom)."""
    return (min(box[2], hole[2]) - max(box[0], hole[0]) > 1
            and min(box[3], hole[3]) - max(box[1], hole[1]) > 1)


def _label_column_right(body: list[list[_Cell | None]]) -> float:
    """Where the column of row labels ends."""
    rights = sorted(row[0].right for row in body if row and row[0])
    return rights[len(rights) // 2] if rights else 0.0


def _widened(cell: _Cell, columns: list[_Cell]) -> _Cell:
    """A figure set above the grid, as wide as the grid's cells under it (its headings span those)."""
    under = [column for column in columns if column.overlap(cell) > 0]
    if not under:
        return cell
    return replace(cell, left=min(column.left for column in under), right=max(column.right for column in under))


def _heading(cell: _Cell, header: list[list[_Cell]]) -> str:
    """The cell's column heading: from each heading row, the heading set most over it, top to bottom."""
    parts: list[str] = []
    for heading_row in header:
        best = max(heading_row, key=cell.overlap, default=None)
        if best is not None and cell.overlap(best) > 0 and best.text not in parts:
            parts.append(best.text)
    return " ".join(parts)


def _scale_of(header: list[list[_Cell]], title: str) -> tuple[str, list[list[_Cell]]]:
    """The scale a heading cell or the title states, and the headings without the cells that only state it."""
    scales = [cell.text for row in header for cell in row if _only_states_scale(cell.text)]
    kept = [[cell for cell in row if not _only_states_scale(cell.text)] for row in header]
    unit = stated_scale(scales[0]) if scales else stated_scale(title)
    return unit or "", [row for row in kept if row]


def _only_states_scale(text: str) -> bool:
    """The text is a statement of scale and little else: "(In millions)", not "Revenue (in millions)"."""
    scale = stated_scale(text)
    return scale is not None and len(scale) + 4 >= len(text)


# Lines above a table's grid are its own while they are this close (in line heights) to the line
# below; the grid's first row may sit farther below its headings, past a rule or some padding.
HEADING_LINE_GAP = 1.5
FIRST_ROW_GAP = 3
MAX_HEADING_LINES = 8


@dataclass
class _LinesAbove:
    """What the lines set just above a table's grid hold for it."""

    lines: list[_Line] = field(default_factory=list)
    header_rows: list[list[_Cell]] = field(default_factory=list)
    body_rows: list[list[_Cell | None]] = field(default_factory=list)
    titles: list[str] = field(default_factory=list)
    unit: str = ""


def _sides(line: _Line, label_right: float) -> tuple[list[_Cell], list[_Cell]]:
    """The line's stretches under the label column, and those over the figures' columns."""
    labels = [cell for cell in line.cells if cell.left < label_right - 2]
    return labels, line.cells[len(labels):]


def _kind_of_line(line: _Line, label_right: float) -> str | None:
    """What a line set above a table's grid is to it; None for a sentence (it runs across the label
    column's end, or has words at both sides of it and no figures)."""
    if any(cell.left < label_right - 2 < label_right + 2 < cell.right for cell in line.cells):
        return None
    labels, figures = _sides(line, label_right)
    if not figures:
        return "title"
    if stated_scale(" ".join(cell.text for cell in figures)):
        return "unit"
    if any(is_figure(cell.text) for cell in figures):
        return "row" if labels else None
    return None if labels else "header"


def _lines_above(lines: list[_Line], extent: tuple, label_right: float, rules: list[_Rule]) -> _LinesAbove:
    """The heading rows, unit, group names and unruled first rows in the lines just above the grid.

    A line belongs to the table while it is close to the line below it and none of its stretches
    runs across the end of the label column, as a sentence does. A line under the label column
    alone names a group of rows ("Revenue:"); stretches over the figures' columns are headings,
    or a row of the table when they hold figures and no heading is below them.
    """
    left, top, right, _ = extent
    taken: list[tuple[str, _Line]] = []
    floor, height = top, 0.0
    for line in sorted((line for line in lines if line.bottom <= top + 1), key=lambda line: -line.bottom):
        height = max(height, line.bottom - line.top)
        kind = _kind_of_line(line, label_right)
        beside = line.cells[-1].right < left or line.cells[0].left > right
        gap = (HEADING_LINE_GAP if taken else FIRST_ROW_GAP) * height
        if (floor - line.bottom > gap or kind is None or beside
                or (kind == "row" and any(kind == "header" for kind, _ in taken))
                or len(taken) == MAX_HEADING_LINES):
            break
        taken.append((kind, line))
        floor = line.top
    while taken and taken[-1][0] == "title":  # a name above the headings is the caption's, not the table's
        taken.pop()
    found = _LinesAbove(lines=[line for _, line in taken])
    for kind, line in reversed(taken):
        labels, figures = _sides(line, label_right)
        if kind == "title":
            found.titles.append(line.text)
        elif kind == "unit":
            found.unit = found.unit or stated_scale(" ".join(cell.text for cell in figures))
        elif kind == "row":
            label = _Cell(" ".join(cell.text for cell in labels), labels[0].left, labels[-1].right)
            found.body_rows.append([label, *figures])
        else:
            found.header_rows.append(_underlined(figures, line, rules, label_right))
    return found


# A rule this close under a heading's line is drawn for it.
UNDERLINE_GAP = 4


def _underlined(headings: list[_Cell], line: _Line, rules: list[_Rule], label_right: float) -> list[_Cell]:
    """The headings of one line, each as wide as a rule drawn just under it and under no other heading of the
    line, short of the label column: a heading over several columns ("Three Months Ended" over three dates) is
    underlined across them, and its text, centred, covers only the middle one."""
    under = [rule for rule in rules if 0 <= rule.at - line.bottom <= UNDERLINE_GAP]
    widened = []
    for heading in headings:
        rule = next((rule for rule in under if rule.left - 1 <= heading.left and heading.right <= rule.right + 1),
                    None)
        if rule is not None and not any(other is not heading and other.left < rule.right and other.right > rule.left
                                        for other in headings):
            # A rule's ends touch the next column's edge: a point in from each, they stay over the columns it spans.
            heading = replace(heading, left=max(label_right, min(heading.left, rule.left + 1)),
                              right=max(heading.right, rule.right - 1))
        widened.append(heading)
    return widened


def _unstack_rows(grid: list[list[_Cell | None]]) -> list[list[_Cell | None]]:
    """Split a row whose every cell holds the same number of lines: rows drawn without rules."""
    result = []
    for row in grid:
        line_counts = {len(cell.text.split("\n")) for cell in row if cell and cell.text}
        if len(line_counts) == 1 and (count := line_counts.pop()) > 1 and len(_filled(row)) > 1:
            split = [[replace(cell, text=text) for text in cell.text.split("\n")] if cell and cell.text
                     else [cell] * count for cell in row]
            result.extend([column[line] for column in split] for line in range(count))
        else:
            result.append([replace(cell, text=cell.text.replace("\n", " ")) if cell else cell for cell in row])
    return result


def _drop_empty_columns(grid: list[list[_Cell | None]]) -> list[list[_Cell | None]]:
    if not grid:
        return grid
    width = max(len(row) for row in grid)
    used = [any(index < len(row) and row[index] and row[index].text for row in grid) for index in range(width)]
    return [[cell for cell, keep in zip(row, used, strict=False) if keep] for row in grid]


def _header_row_count(grid: list[list[_Cell | None]]) -> int:
    """Leading rows without figures, up to three; none when the first row already holds figures.

    In a table of words only, the first row names the columns.
    """
    figures = [any(is_figure(cell.text) for cell in _filled(row)) for row in grid]
    if not any(figures):
        return 1
    return min(figures.index(True), 3)


def _fill_row_labels(rows: list[list[_Cell | None]]) -> list[list[_Cell | None]]:
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
