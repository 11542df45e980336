"""Hostile files, made on the spot in a test's tmp_path: nothing hostile is kept in the repository."""

import struct
import zipfile
import zlib
from pathlib import Path

from tests.pdf_documents import write_objects

XLSX_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    "</Types>"
)
DOCX_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Override PartName="/word/document.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>'
    "</Types>"
)
MB = 1024 * 1024


def zip_bomb(path: Path, content_types: str, bomb_entry: str, megabytes: int) -> Path:
    """An Office-looking zip with one entry that inflates `megabytes` of spaces from a few KB each MB."""
    block = b" " * MB
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        archive.writestr("[Content_Types].xml", content_types)
        with archive.open(bomb_entry, "w", force_zip64=True) as entry:
            for _ in range(megabytes):
                entry.write(block)
    return path


def xlsx_zip_bomb(tmp_path: Path, megabytes: int = 300) -> Path:
    return zip_bomb(tmp_path / "bomb.xlsx", XLSX_CONTENT_TYPES, "xl/worksheets/sheet1.xml", megabytes)


def docx_zip_bomb(tmp_path: Path, megabytes: int = 300) -> Path:
    return zip_bomb(tmp_path / "bomb.docx", DOCX_CONTENT_TYPES, "word/document.xml", megabytes)


def pdf_with_page_content(path: Path, content: bytes, *, compressed: bool = False) -> Path:
    """A one-page PDF with a Helvetica font and the given content stream, cross-references right."""
    stream_dict = f"<< /Length {len(content)}{' /Filter /FlateDecode' if compressed else ''} >>".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        stream_dict + b"\nstream\n" + content + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    return write_objects(path, objects)


def pdf_inflating_to(tmp_path: Path, megabytes: int) -> Path:
    """A small PDF whose page content stream inflates to `megabytes` of spaces.

    The deflate stream is one compressed megabyte repeated: after a full flush, zlib encodes the
    same input to the same bytes, so the file is made in well under a second.
    """
    block = b" " * MB
    compressor = zlib.compressobj(9)
    first = compressor.compress(block) + compressor.flush(zlib.Z_FULL_FLUSH)
    repeated = compressor.compress(block) + compressor.flush(zlib.Z_FULL_FLUSH)
    ending = compressor.flush(zlib.Z_FINISH)[:-4]  # the empty last block, without its checksum
    checksum = 1
    for _ in range(megabytes):
        checksum = zlib.adler32(block, checksum)
    stream = first + repeated * (megabytes - 1) + ending + struct.pack(">I", checksum)
    return pdf_with_page_content(tmp_path / "inflates.pdf", stream, compressed=True)


def pdf_with_glyphs(tmp_path: Path, count: int) -> Path:
    """A page that draws `count` glyphs one by one: text that takes long to lay out."""
    content = b"BT /F1 1 Tf 0 0 Td " + b"(x) Tj " * count + b"ET"
    return pdf_with_page_content(tmp_path / "glyphs.pdf", zlib.compress(content, 1), compressed=True)
