"""DOCX, read with the standard library: the body's paragraphs, headings and tables."""

import re
import zipfile
from pathlib import Path
from xml.etree import ElementTree

from datasources.extractors.model import Extraction, Sections, clean_text, exception_words, title_from_name
from datasources.extractors.tables import table_rows
from datasources.filetypes import RejectedFile

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_HEADING_STYLE = re.compile(r"^(heading|berschrift|titre|titolo|t[ií]tulo)\s?(\d)$|^title$", re.IGNORECASE)


def extract_docx(path: Path, file_name: str) -> Extraction:
    try:
        with zipfile.ZipFile(path) as archive:
            body = ElementTree.fromstring(archive.read("word/document.xml")).find(f"{_W}body")
            title = _docx_core_title(archive)
    except (KeyError, zipfile.BadZipFile, ElementTree.ParseError, ValueError, OSError) as exc:
        raise RejectedFile(f"The Word document is damaged and could not be read ({exception_words(exc)}).") from None
    sections = Sections()
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
    return Extraction(title=title or first_heading or title_from_name(file_name), sections=sections.items)


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
