"""A crawled web page's main text, by trafilatura: navigation, footers and other boilerplate dropped."""

from pathlib import Path

import trafilatura

from datasources.extractors.model import Extraction, Sections, clean_text
from datasources.filetypes import RejectedFile, decode_text


def extract_webpage(path: Path, file_name: str) -> Extraction:
    """`file_name` is the page's URL, which names the page when it has no title."""
    html = decode_text(path.read_bytes())
    if html is None:
        raise RejectedFile("The page is not text in an encoding Docent knows.")
    document = trafilatura.bare_extraction(html, url=file_name, include_comments=False, include_tables=True,
                                           favor_precision=True, with_metadata=True)
    sections = Sections()
    if document is not None:
        sections.text_with_headings(clean_text(document.text or ""))
    title = clean_text(getattr(document, "title", None) or "") or file_name
    return Extraction(title=title, sections=sections.items)
