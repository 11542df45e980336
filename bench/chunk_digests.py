"""`make bench-chunks`: a digest of every chunk Docent makes from every file of ../shared/corpus/.

A restructuring of extraction or chunking must not change a single chunk. Each input goes through
what the worker runs on an upload, minus embedding: `detect_file_type` (the kind, as uploading
decides it), extraction in the sandboxed child (`extract_in_sandbox`) and `chunk_document` with
the configured embedder's token counter and budget (the local MiniLM's). Each input's record is
its chunk count, its page and row counts, and a SHA-256 over its chunks in canonical JSON (each
chunk's id and position, text, metadata and token count); a file that must fail (encrypted,
damaged, empty) records its error message instead.

With `--filings`, the twenty 10-Q filings of the retrieval benchmark (../shared/bench/sec-10-q/docs/)
are read too: bench-chat reuses the chunks of its first run, so this is where a change to how they
are chunked shows.

The corpus holds PDF and XLSX files only; the other kinds are derived from it deterministically,
by libraries rather than by Docent's own readers (which are what is being checked): each XLSX
sheet with data written as CSV (by openpyxl's values), and DOCX, HTML, Markdown and text documents
made of PDF pages' text (as PDFium gives it) and a sheet's rows, built the way
tests/test_extractors.py builds its samples.

    python -m bench.chunk_digests [--filings]        # compare with the reference; exit 1 naming each difference
    python -m bench.chunk_digests --filings --write  # record the current chunks as the reference

tests/test_chunk_digests.py runs the comparison without the filings in the suite (about 15 s on 2 cores;
with them, about 40 s).
"""

import argparse
import csv
import hashlib
import html
import json
import os
import re
import secrets
import sys
import tempfile
import time
import uuid
import warnings
import zipfile
from pathlib import Path

import django

from bench.measures import SEC_10_Q_DIR, SHARED_DIR

CORPUS = SHARED_DIR / "corpus"
REFERENCE = Path(__file__).with_name("chunk_digests.json")
# Chunk ids name their data source; a fixed one makes them comparable between runs.
DATA_SOURCE_ID = uuid.UUID(int=0)
# Sheets written as CSV per workbook: bigfoot.xlsx alone has 1,024, and a sandbox start costs 0.2 s.
SHEETS_PER_WORKBOOK = 3
# PDFs whose pages make the derived documents: prose, a multi-column record and a big table.
DOCUMENT_SOURCES = ("issue-33-lorem-ipsum.pdf", "federal-register-2020-17221.pdf", "senate-expenditures.pdf")
TABLE_SOURCE = ("guess_types.xlsx", 8)  # the workbook whose first sheet's rows become the documents' table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--filings", action="store_true", help="also read the retrieval benchmark's filings")
    parser.add_argument("--write", action="store_true", help="record the current chunks as the reference")
    options = parser.parse_args()
    os.environ.update(STORAGE_BACKEND="local", EMBEDDING_BACKEND="local", DATABASE_URL="", REDIS_URL="",
                      CLAMD_SOCKET="", CLAMD_HOST="", DEBUG="0", SECRET_KEY=secrets.token_urlsafe(50),
                      DJANGO_SETTINGS_MODULE="config.settings", HF_HUB_OFFLINE="1")
    django.setup()
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="docent-chunks-") as workdir:
        found = records(Path(workdir), filings=options.filings)
    print(f"{len(found)} inputs in {time.monotonic() - started:.0f} s.", file=sys.stderr)
    if options.write:
        REFERENCE.write_text(json.dumps(found, indent=1, ensure_ascii=False) + "\n")
        print(f"Written to {REFERENCE}.", file=sys.stderr)
        return
    differing = differences(found, filings=options.filings)
    if differing:
        sys.exit("Chunks differ from bench/chunk_digests.json for:\n" + "\n".join(differing))
    print(f"All {len(found)} inputs give the chunks of the reference.")


def records(workdir: Path, *, filings: bool = False) -> dict[str, dict]:
    """Each input's record, by its name in the reference; derived inputs are written to `workdir`."""
    return {name: chunk_record(path, path.name) for name, path in inputs(workdir, filings=filings)}


def differences(found: dict[str, dict], *, filings: bool = False) -> list[str]:
    """The inputs whose record differs from the reference's (or that only one of them has)."""
    reference = {name: record for name, record in json.loads(REFERENCE.read_text()).items()
                 if filings or not name.startswith("filings/")}
    return [f"  {name}: {reference.get(name)} → {found.get(name)}"
            for name in sorted(reference.keys() | found.keys()) if reference.get(name) != found.get(name)]


def chunk_record(path: Path, file_name: str) -> dict:
    """What Docent makes of the file: its chunks' digest and counts, or the reason it is refused."""
    from datasources import chunk_format
    from datasources.chunking import chunk_document
    from datasources.embedders import get_embedder
    from datasources.filetypes import RejectedFile, detect_file_type
    from datasources.sandbox import extract_in_sandbox

    try:
        extraction = extract_in_sandbox(path, detect_file_type(path, file_name), file_name=file_name)
    except RejectedFile as exc:
        return {"error": exc.reason}
    embedder = get_embedder()
    drafts = chunk_document(extraction, file_name=file_name, count_tokens=embedder.count_tokens,
                            max_tokens=embedder.max_tokens)
    chunks = [{"id": chunk_format.chunk_id(DATA_SOURCE_ID, position), "position": position, "text": draft.text,
               "metadata": draft.metadata, "token_count": draft.token_count}
              for position, draft in enumerate(drafts)]
    canonical = json.dumps(chunks, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return {"chunks": len(chunks), "pages": extraction.page_count, "rows": extraction.row_count,
            "sha256": hashlib.sha256(canonical.encode()).hexdigest()}


# --- The inputs ----------------------------------------------------------------------------------

def inputs(workdir: Path, *, filings: bool) -> list[tuple[str, Path]]:
    """(name in the reference, path) of every corpus file, of the documents derived from them, and
    of the filings when asked for."""
    corpus = [(f"{path.parent.name}/{path.name}", path) for folder in ("pdf", "xlsx")
              for path in sorted((CORPUS / folder).iterdir()) if path.suffix in (".pdf", ".xlsx", ".xlsm")]
    derived = [(f"derived/{path.name}", path) for path in [*csv_sheets(workdir), *documents(workdir)]]
    filed = [(f"filings/{path.name}", path) for path in sorted((SEC_10_Q_DIR / "docs").glob("*.pdf"))]
    return corpus + derived + (filed if filings else [])


def csv_sheets(workdir: Path) -> list[Path]:
    """The first sheets with data of each readable workbook, each written as a CSV file."""
    paths = []
    for workbook_path in sorted((CORPUS / "xlsx").glob("*.xls[xm]")):
        sheets = [(name, rows) for name, rows in sheet_values(workbook_path) if rows][:SHEETS_PER_WORKBOOK]
        for name, rows in sheets:
            path = workdir / f"{workbook_path.stem}-{name}.csv"
            with open(path, "w", newline="", encoding="utf-8") as handle:
                csv.writer(handle).writerows(rows)
            paths.append(path)
    return paths


def sheet_values(workbook_path: Path) -> list[tuple[str, list[list[str]]]]:
    """Each worksheet's rows as openpyxl reads their values; none for a workbook it cannot open."""
    import openpyxl

    with warnings.catch_warnings():  # openpyxl warns of the parts it drops, which values never need
        warnings.simplefilter("ignore")
        try:
            workbook = openpyxl.load_workbook(workbook_path, read_only=True, data_only=True)
        except Exception:  # the corpus's damaged workbooks: their outcome is recorded from the file itself
            return []
        try:
            return [(sheet.title, [["" if value is None else str(value) for value in row]
                                   for row in sheet.iter_rows(values_only=True) if any(v is not None for v in row)])
                    for sheet in workbook.worksheets]
        finally:
            workbook.close()


def documents(workdir: Path) -> list[Path]:
    """For each source PDF, the same content (its pages' paragraphs under a heading per page, then a
    table) as a Word document, an HTML page, Markdown and plain text."""
    name, rows = TABLE_SOURCE
    table = next(rows for _, rows in sheet_values(CORPUS / "xlsx" / name) if rows)[:rows]
    paths = []
    for source in DOCUMENT_SOURCES:
        pages = pdf_pages(CORPUS / "pdf" / source)
        stem = Path(source).stem
        for suffix, render in ((".docx", None), (".html", html_page), (".md", markdown), (".txt", plain_text)):
            path = workdir / f"{stem}{suffix}"
            if render is None:
                word_document(path, stem, pages, table)
            else:
                path.write_text(render(stem, pages, table), encoding="utf-8")
            paths.append(path)
    return paths


# Characters XML 1.0 cannot hold (PDFium reports some control characters), left out of every derived document.
_NOT_IN_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def pdf_pages(path: Path) -> list[list[str]]:
    """Each page's paragraphs (blocks of lines between blank lines), as PDFium reads the text."""
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(str(path))
    try:
        pages = []
        for page in document:
            textpage = page.get_textpage()
            text = textpage.get_text_range().replace("\r\n", "\n")
            textpage.close()
            page.close()
            paragraphs = [" ".join(_NOT_IN_XML.sub("", block).split()) for block in text.split("\n\n")]
            pages.append([paragraph for paragraph in paragraphs if paragraph])
        return pages
    finally:
        document.close()


def word_document(path: Path, title: str, pages: list[list[str]], table: list[list[str]]) -> None:
    w = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'

    def paragraph(text: str, style: str = "") -> str:
        properties = f'<w:pPr><w:pStyle w:val="{style}"/></w:pPr>' if style else ""
        return f"<w:p>{properties}<w:r><w:t>{html.escape(text)}</w:t></w:r></w:p>"

    def cell(text: str) -> str:
        return f"<w:tc>{paragraph(text)}</w:tc>"

    body = "".join(paragraph(f"Page {number}", "Heading1") + "".join(map(paragraph, paragraphs))
                   for number, paragraphs in enumerate(pages, start=1))
    body += paragraph("Figures", "Heading1")
    body += "<w:tbl>" + "".join(f"<w:tr>{''.join(map(cell, row))}</w:tr>" for row in table) + "</w:tbl>"
    core = ('<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
            f'xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>{html.escape(title)}</dc:title></cp:coreProperties>')
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("[Content_Types].xml", _CONTENT_TYPES)
        archive.writestr("word/document.xml", f"<w:document {w}><w:body>{body}</w:body></w:document>")
        archive.writestr("docProps/core.xml", core)


_CONTENT_TYPES = (
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Override PartName="/word/document.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>')


def html_page(title: str, pages: list[list[str]], table: list[list[str]]) -> str:
    body = "".join(f"<h2>Page {number}</h2>" + "".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)
                   for number, paragraphs in enumerate(pages, start=1))
    rows = "".join("<tr>" + "".join(f"<td>{html.escape(cell)}</td>" for cell in row) + "</tr>" for row in table)
    return (f"<html><head><title>{html.escape(title)}</title><style>p {{color: red}}</style></head><body>"
            f"<script>track()</script>{body}<h2>Figures</h2><table>{rows}</table></body></html>")


def markdown(title: str, pages: list[list[str]], table: list[list[str]]) -> str:
    parts = [f"# {title}"]
    for number, paragraphs in enumerate(pages, start=1):
        parts += [f"## Page {number}", *paragraphs]
    width = max(len(row) for row in table)
    lines = ["| " + " | ".join(cell.replace("|", "/") for cell in row + [""] * (width - len(row))) + " |"
             for row in table]
    parts += ["## Figures", "\n".join([lines[0], "|" + "---|" * width, *lines[1:]])]
    return "\n\n".join(parts) + "\n"


def plain_text(title: str, pages: list[list[str]], table: list[list[str]]) -> str:
    parts = [title.upper()]
    for number, paragraphs in enumerate(pages, start=1):
        parts += [f"PAGE {_spelled(number)}", *paragraphs]
    return "\n\n".join(parts + ["FIGURES", *("\t".join(row) for row in table)]) + "\n"


def _spelled(number: int) -> str:
    """A page number in capital letters: a heading in plain text has no figures (see looks_like_heading)."""
    return "".join("ABCDEFGHIJ"[int(digit)] for digit in str(number))


if __name__ == "__main__":
    main()
