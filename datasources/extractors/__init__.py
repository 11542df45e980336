"""Text out of a file, as sections a chunker can cut without losing where each came from.

One module per format, all making the shared model of `model.py` (`Extraction`, `Section`):
`pdf.py`, `spreadsheets.py` (XLSX and CSV), `docx.py`, `html.py`, `text.py` (plain text and
Markdown), `webpage.py` (a crawled page's main text),
`ocr.py` (scanned pages and images, by Tesseract); `tables.py` renders a table's rows
for all of them. Every reader turns a library's failure into RejectedFile with a reason a person
understands. These functions parse hostile input: run them through `datasources.sandbox`, which
puts CPU, memory and time limits around them.
"""

from collections.abc import Callable
from pathlib import Path

from datasources.extractors.docx import extract_docx
from datasources.extractors.html import extract_html
from datasources.extractors.model import DEFAULT_MAX_PAGES, DEFAULT_MAX_ROWS, Extraction, Section
from datasources.extractors.ocr import OcrEngine, extract_image
from datasources.extractors.pdf import extract_pdf
from datasources.extractors.spreadsheets import extract_csv, extract_xlsx
from datasources.extractors.text import extract_markdown, extract_text
from datasources.extractors.webpage import extract_webpage
from datasources.filetypes import FileKind, RejectedFile

__all__ = ["DEFAULT_MAX_PAGES", "DEFAULT_MAX_ROWS", "Extraction", "OcrEngine", "Section", "extract_file"]


def extract_file(path: str | Path, kind: str, *, file_name: str = "", max_pages: int = DEFAULT_MAX_PAGES,
                 max_rows: int = DEFAULT_MAX_ROWS, on_page: Callable[[int, int, int], None] | None = None,
                 ocr: OcrEngine | None = None) -> Extraction:
    """The sections of the file at `path`, read as `kind` (a FileKind value); `on_page(done, total,
    scanned)` hears of each page read (PDF, image) and how many are read by OCR (`ocr`, None where
    Tesseract is not installed)."""
    path = Path(path)
    file_name = file_name or path.name
    readers = {
        FileKind.PDF: lambda: extract_pdf(path, file_name, max_pages=max_pages, on_page=on_page, ocr=ocr),
        FileKind.IMAGE: lambda: extract_image(path, file_name, engine=ocr, on_page=on_page),
        FileKind.XLSX: lambda: extract_xlsx(path, file_name, max_rows=max_rows),
        FileKind.CSV: lambda: extract_csv(path, file_name, max_rows=max_rows),
        FileKind.DOCX: lambda: extract_docx(path, file_name),
        FileKind.HTML: lambda: extract_html(path, file_name),
        FileKind.MD: lambda: extract_markdown(path, file_name),
        FileKind.TXT: lambda: extract_text(path, file_name),
        FileKind.WEBPAGE: lambda: extract_webpage(path, file_name),
    }
    try:
        reader = readers[FileKind(kind)]
    except ValueError:
        raise RejectedFile(f"Docent cannot read files of type {kind!r}.") from None
    return reader()
