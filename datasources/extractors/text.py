"""Plain text (headings are short lines in capitals or numbered like "Item 2.") and Markdown."""

import re
from pathlib import Path

from datasources.extractors.model import Extraction, Sections, clean_text, title_from_name
from datasources.extractors.tables import table_rows
from datasources.filetypes import RejectedFile, decode_text


def _read_text_file(path: Path) -> str:
    text = decode_text(path.read_bytes())
    if text is None:
        raise RejectedFile("The file is not text in an encoding Docent knows (UTF-8, UTF-16, Windows-1252).")
    return clean_text(text)


def extract_text(path: Path, file_name: str) -> Extraction:
    sections = Sections()
    sections.text_with_headings(_read_text_file(path))
    return Extraction(title=title_from_name(file_name), sections=sections.items)


# ---------------------------------------------------------------------------------------------
# Markdown


_ATX_HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
_SETEXT_UNDERLINE = re.compile(r"^\s{0,3}(=+|-+)\s*$")
_PIPE_ROW = re.compile(r"^\s*\|.*\|\s*$")
_PIPE_SEPARATOR = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$")


def extract_markdown(path: Path, file_name: str) -> Extraction:
    lines = _read_text_file(path).split("\n")
    sections = Sections()
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
    return Extraction(title=title or title_from_name(file_name), sections=sections.items)


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
