"""What kind of file an upload is, decided by its content before anything parses it.

The extension is only a hint between kinds that share a content (Markdown, plain text, CSV are
all text). Zip containers (xlsx, docx) are named by their `[Content_Types].xml` and measured from
the zip directory alone, so a zip bomb is refused before a reader inflates a byte of it.
"""

import codecs
import csv
import io
import os
import re
import struct
import zipfile
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import BinaryIO
from xml.etree import ElementTree

from django.conf import settings


class RejectedFile(Exception):
    """A file Docent cannot take, with the reason worded for the person who uploaded it."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class FileKind(StrEnum):
    PDF = "pdf"
    XLSX = "xlsx"
    CSV = "csv"
    TXT = "txt"
    MD = "md"
    DOCX = "docx"
    HTML = "html"
    IMAGE = "image"  # PNG, JPEG or TIFF, read by OCR
    WEBPAGE = "webpage"  # a page a website data source fetched: its main text only (never an upload's kind)


@dataclass(frozen=True)
class ZipLimits:
    max_uncompressed_bytes: int = 200 * 1024 * 1024
    max_entries: int = 10_000
    max_ratio: int = 100

    @classmethod
    def from_settings(cls) -> "ZipLimits":
        return cls(
            max_uncompressed_bytes=settings.UPLOAD_ZIP_MAX_UNCOMPRESSED_MB * 1024 * 1024,
            max_entries=settings.UPLOAD_ZIP_MAX_ENTRIES,
            max_ratio=settings.UPLOAD_ZIP_MAX_RATIO,
        )


# Enough of the start of a file to tell its kind, and to sniff a CSV's delimiter.
HEAD_BYTES = 64 * 1024
# A small entry can compress very well without being a bomb; ratios count from this size up.
RATIO_MIN_ENTRY_BYTES = 1024 * 1024
CONTENT_TYPES_MAX_BYTES = 1024 * 1024

_OFFICE_MAIN_PARTS = {
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml": FileKind.XLSX,
    "application/vnd.ms-excel.sheet.macroEnabled.main+xml": FileKind.XLSX,
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml": FileKind.DOCX,
    "application/vnd.ms-word.document.macroEnabled.main+xml": FileKind.DOCX,
}
_OTHER_OFFICE_PARTS = {
    "presentationml": "PowerPoint presentations are not supported; save it as PDF.",
    "spreadsheetml.template": "Excel templates are not supported; save it as a workbook (.xlsx).",
    "wordprocessingml.template": "Word templates are not supported; save it as a document (.docx).",
}
# Legacy Office files (.doc, .xls) and encrypted Office files are OLE compound files.
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ENCRYPTED_PACKAGE = "EncryptedPackage".encode("utf-16-le")
# Images Tesseract reads: a scan or a photo of a document.
_IMAGE_SIGNATURES = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"II*\x00", b"MM\x00*")
# An A4 page scanned at 600 dpi has 35 million pixels; a small file declaring far more is a
# decompression bomb, refused before anything decodes it.
MAX_IMAGE_PIXELS = 100_000_000
_JPEG_FRAME_MARKERS = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}
_BINARY_SIGNATURES = {
    b"GIF8": "a GIF image",
    b"\x7fELF": "a program",
    b"MZ": "a Windows program",
    b"Rar!": "a RAR archive",
    b"\x1f\x8b": "a gzip archive",
    b"7z\xbc\xaf": "a 7-Zip archive",
}
_HTML_START = re.compile(r"^\s*(<\?xml[^>]*>\s*)?(<!--.*?-->\s*)*<(!doctype\s+html|html[\s>])",
                         re.IGNORECASE | re.DOTALL)
_HTML_TAGS = re.compile(r"<(html|head|body|div|p|h[1-6]|table|ul|section|article)[\s>]", re.IGNORECASE)
_MARKDOWN = re.compile(r"^(#{1,6}\s+\S|```|~~~|\s*[-*+]\s+\[[ x]\]\s|\|.*\|\s*$|.+\n(=+|-+)\s*$)",
                       re.MULTILINE)
_MARKDOWN_LINK = re.compile(r"\[[^\]\n]+\]\([^)\s]+\)")
_TEXT_EXTENSIONS = {".md": FileKind.MD, ".markdown": FileKind.MD, ".csv": FileKind.CSV,
                    ".tsv": FileKind.CSV, ".txt": FileKind.TXT, ".text": FileKind.TXT}


def detect_file_type(path: str | os.PathLike, file_name: str = "", *,
                     zip_limits: ZipLimits | None = None) -> FileKind:
    """The kind of the file at `path`, or RejectedFile with the reason.

    `file_name` is the name the user gave it; its extension only breaks ties between text kinds.
    """
    with open(path, "rb") as handle:
        return _detect(handle, file_name, zip_limits or ZipLimits.from_settings())


def _detect(handle: BinaryIO, file_name: str, zip_limits: ZipLimits) -> FileKind:
    head = handle.read(HEAD_BYTES)
    if not head:
        raise RejectedFile("This file is empty.")
    if b"%PDF-" in head[:1024]:
        return FileKind.PDF
    if head.startswith(b"PK\x03\x04"):
        handle.seek(0)
        return _detect_office_zip(handle, zip_limits)
    if head.startswith(b"PK"):
        raise RejectedFile("This zip archive is empty or damaged.")
    if head.startswith(_IMAGE_SIGNATURES):
        _refuse_image_bomb(head)
        return FileKind.IMAGE
    if head.startswith(_OLE_MAGIC):
        raise RejectedFile(_ole_reason(head + handle.read()))
    for signature, description in _BINARY_SIGNATURES.items():
        if head.startswith(signature):
            raise RejectedFile(f"This file is {description}, not a document Docent can read.")
    return _detect_text(head, Path(file_name).suffix.lower())


def _detect_office_zip(handle: BinaryIO, limits: ZipLimits) -> FileKind:
    try:
        with zipfile.ZipFile(handle) as archive:
            _refuse_zip_bomb(archive.infolist(), limits)
            content_types = _read_content_types(archive)
    except zipfile.BadZipFile:
        raise RejectedFile("This zip archive is damaged and cannot be opened.") from None
    return _office_kind(content_types)


def _refuse_zip_bomb(entries: list[zipfile.ZipInfo], limits: ZipLimits) -> None:
    # Sizes come from the zip directory; zipfile never inflates an entry past its declared size
    # (it stops there and fails the CRC check), so declared sizes bound what any reader gets.
    if len(entries) > limits.max_entries:
        raise RejectedFile(f"Zip archive has {len(entries):,} entries, over the {limits.max_entries:,} limit.")
    total = sum(entry.file_size for entry in entries)
    if total > limits.max_uncompressed_bytes:
        raise RejectedFile(f"Zip archive expands to {_size(total)}, over the "
                           f"{_size(limits.max_uncompressed_bytes)} limit.")
    for entry in entries:
        ratio = entry.file_size / max(entry.compress_size, 1)
        if entry.file_size >= RATIO_MIN_ENTRY_BYTES and ratio > limits.max_ratio:
            raise RejectedFile(f"Zip archive entry {entry.filename} is compressed {ratio:,.0f} to 1, "
                               f"over the {limits.max_ratio} to 1 limit.")


def _read_content_types(archive: zipfile.ZipFile) -> set[str]:
    try:
        info = archive.getinfo("[Content_Types].xml")
    except KeyError:
        raise RejectedFile("This zip archive is not an Excel workbook or Word document.") from None
    if info.file_size > CONTENT_TYPES_MAX_BYTES:
        raise RejectedFile("This Office file's list of contents is implausibly large.")
    try:
        root = ElementTree.fromstring(archive.read(info))
    except (ElementTree.ParseError, zipfile.BadZipFile, ValueError):
        raise RejectedFile("This Office file is damaged: its list of contents cannot be read.") from None
    return {element.get("ContentType", "") for element in root.iter() if element.tag.endswith("Override")}


def _office_kind(content_types: set[str]) -> FileKind:
    for content_type, kind in _OFFICE_MAIN_PARTS.items():
        if content_type in content_types:
            return kind
    for marker, reason in _OTHER_OFFICE_PARTS.items():
        if any(marker in content_type for content_type in content_types):
            raise RejectedFile(reason)
    raise RejectedFile("This zip archive is not an Excel workbook or Word document.")


def _refuse_image_bomb(head: bytes) -> None:
    """Refuse a PNG or JPEG whose declared size is past MAX_IMAGE_PIXELS (a TIFF's pages are left to
    the sandbox's memory limit)."""
    width, height = _image_size(head)
    if width * height > MAX_IMAGE_PIXELS:
        raise RejectedFile(f"This image is {width:,} × {height:,} pixels, over the "
                           f"{MAX_IMAGE_PIXELS // 1_000_000} million pixel limit.")


def _image_size(head: bytes) -> tuple[int, int]:
    """Width and height a PNG's header or a JPEG's frame marker declares; (0, 0) when not found."""
    if head.startswith(b"\x89PNG") and head[12:16] == b"IHDR":
        return struct.unpack(">II", head[16:24])
    position = 2
    while head.startswith(b"\xff\xd8") and position + 9 <= len(head) and head[position] == 0xFF:
        marker, length = head[position + 1], struct.unpack(">H", head[position + 2:position + 4])[0]
        if marker in _JPEG_FRAME_MARKERS:
            height, width = struct.unpack(">HH", head[position + 5:position + 9])
            return width, height
        position += 2 + length
    return 0, 0


def _ole_reason(data: bytes) -> str:
    if _ENCRYPTED_PACKAGE in data:
        return "This Office file is password-protected; remove the password and upload it again."
    return ("This is an old-format Office file (.doc or .xls); save it as .docx or .xlsx "
            "and upload it again.")


def _detect_text(head: bytes, extension: str) -> FileKind:
    complete = len(head) < HEAD_BYTES
    text = decode_text(head, complete=complete)
    if text is None or _looks_binary(text):
        raise RejectedFile("This file type is not supported: it is neither a PDF, an Office "
                           "document, nor text.")
    if _HTML_START.match(text) or (extension in (".html", ".htm") and _HTML_TAGS.search(text)):
        return FileKind.HTML
    if extension in _TEXT_EXTENSIONS:
        return _TEXT_EXTENSIONS[extension]
    # Prose with one comma a line looks like two columns; three make a table convincing.
    if sniff_csv_dialect(text, complete=complete, min_columns=3) is not None:
        return FileKind.CSV
    if _MARKDOWN.search(text) or _MARKDOWN_LINK.search(text):
        return FileKind.MD
    return FileKind.TXT


def decode_text(data: bytes, *, complete: bool = True) -> str | None:
    """The text of `data` in the first encoding that fits it, or None for binary data.

    UTF-8 (with or without a byte-order mark), UTF-16 with a byte-order mark, then Windows-1252,
    the encoding spreadsheet programs on Windows write CSV in. `complete=False` means `data` is a
    prefix, which may end inside a character.
    """
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return _decode(data, "utf-16", complete)
    for encoding in ("utf-8-sig", "cp1252", "latin-1"):
        text = _decode(data, encoding, complete)
        if text is not None:
            return text
    return None


def _decode(data: bytes, encoding: str, complete: bool) -> str | None:
    try:
        return codecs.getincrementaldecoder(encoding)().decode(data, final=complete)
    except UnicodeDecodeError:
        return None


def _looks_binary(text: str) -> bool:
    controls = sum(1 for char in text if ord(char) < 32 and char not in "\t\n\r\f\v")
    return "\x00" in text or controls > len(text) * 0.05


def sniff_csv_dialect(text: str, *, complete: bool = True, min_columns: int = 2) -> type[csv.Dialect] | None:
    """The CSV dialect of `text` when its first lines are a table of at least `min_columns` columns.

    `complete=False` means `text` is a prefix, whose last line may be cut short.
    """
    lines = text.splitlines()
    sample = "\n".join(lines[:50] if complete or len(lines) > 50 else lines[:-1])
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",;\t|")
    except csv.Error:
        return None
    rows = [row for row in csv.reader(io.StringIO(sample), dialect) if any(cell.strip() for cell in row)]
    # The sniffer finds a "delimiter" in most prose; a table has the same width on every line.
    widths = {len(row) for row in rows}
    if len(rows) >= 2 and len(widths) == 1 and widths.pop() >= min_columns:
        return dialect
    return None


def _size(n_bytes: int) -> str:
    if n_bytes >= 1024**3:
        return f"{n_bytes / 1024**3:.1f} GB"
    return f"{n_bytes / 1024**2:.0f} MB"
