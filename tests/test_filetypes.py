"""Upload validation: the kind of a file comes from its content; anything else is refused with a reason."""

import time
import zipfile
from pathlib import Path

import pytest

from datasources.filetypes import FileKind, RejectedFile, ZipLimits, detect_file_type
from tests import hostile

pytestmark = pytest.mark.backend_free

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus"


def write(tmp_path: Path, name: str, content: bytes | str) -> Path:
    path = tmp_path / name
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    return path


def rejection(path: Path, name: str = "", **kwargs) -> str:
    with pytest.raises(RejectedFile) as caught:
        detect_file_type(path, name or path.name, **kwargs)
    return caught.value.reason


def test_an_empty_file_is_refused(tmp_path):
    assert rejection(write(tmp_path, "report.pdf", b"")) == "This file is empty."


def test_a_pdf_is_a_pdf_whatever_its_name(tmp_path):
    pdf = (CORPUS / "pdf" / "issue-297-example.pdf").read_bytes()
    assert detect_file_type(write(tmp_path, "notes.txt", pdf), "notes.txt") == FileKind.PDF


def test_workbooks_and_macro_workbooks_are_xlsx_by_their_content_types(tmp_path):
    renamed = write(tmp_path, "letter.docx", (CORPUS / "xlsx" / "date_1904.xlsx").read_bytes())
    assert detect_file_type(renamed, "letter.docx") == FileKind.XLSX
    assert detect_file_type(CORPUS / "xlsx" / "vba-test.xlsm", "vba-test.xlsm") == FileKind.XLSX


def test_a_word_document_is_docx(tmp_path):
    path = tmp_path / "memo.bin"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("[Content_Types].xml", hostile.DOCX_CONTENT_TYPES)
        archive.writestr("word/document.xml", "<w:document/>")
    assert detect_file_type(path, "memo.bin") == FileKind.DOCX


def test_a_zip_that_is_no_office_file_is_refused():
    assert "not an Excel workbook or Word document" in rejection(CORPUS / "xlsx" / "null_archive.xlsx")


def test_a_presentation_is_refused_with_what_to_do(tmp_path):
    path = tmp_path / "deck.pptx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("[Content_Types].xml", hostile.XLSX_CONTENT_TYPES.replace(
            "spreadsheetml.sheet.main", "presentationml.presentation.main"))
    assert rejection(path) == "PowerPoint presentations are not supported; save it as PDF."


@pytest.mark.parametrize("make_bomb", [hostile.xlsx_zip_bomb, hostile.docx_zip_bomb])
def test_a_zip_bomb_is_refused_from_its_directory_without_inflating_it(tmp_path, make_bomb):
    bomb = make_bomb(tmp_path)
    started = time.monotonic()
    reason = rejection(bomb)
    assert reason == "Zip archive expands to 300 MB, over the 200 MB limit."
    assert time.monotonic() - started < 1  # inflating 300 MB would take longer


def test_a_zip_entry_compressed_past_the_ratio_limit_is_refused(tmp_path):
    bomb = hostile.xlsx_zip_bomb(tmp_path, megabytes=20)  # under the size limit, but 1,000 to 1
    reason = rejection(bomb)
    assert reason.startswith("Zip archive entry xl/worksheets/sheet1.xml is compressed ")
    assert reason.endswith("to 1, over the 100 to 1 limit.")


def test_a_zip_with_too_many_entries_is_refused(tmp_path):
    path = tmp_path / "many.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("[Content_Types].xml", hostile.XLSX_CONTENT_TYPES)
        for number in range(20):
            archive.writestr(f"xl/worksheets/sheet{number}.xml", "<worksheet/>")
    reason = rejection(path, zip_limits=ZipLimits(max_entries=10))
    assert reason == "Zip archive has 21 entries, over the 10 limit."


@pytest.mark.parametrize(("name", "content", "kind"), [
    ("data", "region,revenue,quarter\nWest,1204,Q1\nEast,980,Q1\n", FileKind.CSV),
    ("data.txt", "region;revenue\nWest;1204\nEast;980\n", FileKind.TXT),  # the user said text
    ("export", "Name;Stadt;Land\nJosé;Zürich;CH\nRenée;Genève;CH\n".encode("cp1252"), FileKind.CSV),
    ("pairs", "name,email\nAna,ana@example.com\nBo,bo@example.com\n", FileKind.TXT),  # two columns: too weak
    ("notes", "Dear team,\nthe numbers are in, and they look good.\nThanks, Ana\n", FileKind.TXT),
    ("readme", "# Install\n\nRun the installer, then log in.\n", FileKind.MD),
    ("notes.md", "Plain words, no markup at all.\n", FileKind.MD),
    ("page.txt", "<!DOCTYPE html><html><body><p>Hello</p></body></html>", FileKind.HTML),
    ("page.htm", "<div><h1>Prices</h1><p>From 10 EUR.</p></div>", FileKind.HTML),
])
def test_text_kinds_by_content_and_extension(tmp_path, name, content, kind):
    assert detect_file_type(write(tmp_path, name, content), name) == kind


def test_scanned_images_are_taken_and_an_image_bomb_is_refused(tmp_path):
    def png(width: int, height: int) -> bytes:
        return b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + width.to_bytes(4, "big") + height.to_bytes(4, "big") + bytes(50)

    def jpeg(width: int, height: int) -> bytes:
        app0 = b"\xff\xe0\x00\x10JFIF\x00" + bytes(9)
        frame = b"\xff\xc0\x00\x11\x08" + height.to_bytes(2, "big") + width.to_bytes(2, "big") + bytes(10)
        return b"\xff\xd8" + app0 + frame

    assert detect_file_type(write(tmp_path, "scan.png", png(2480, 3508))) == FileKind.IMAGE
    assert detect_file_type(write(tmp_path, "scan.jpg", jpeg(2480, 3508))) == FileKind.IMAGE
    assert detect_file_type(write(tmp_path, "scan.tif", b"II*\x00" + bytes(100))) == FileKind.IMAGE
    assert rejection(write(tmp_path, "bomb.png", png(100_000, 100_000))) == (
        "This image is 100,000 × 100,000 pixels, over the 100 million pixel limit.")
    assert rejection(write(tmp_path, "bomb.jpg", jpeg(60_000, 60_000))).startswith("This image is 60,000 × 60,000")


@pytest.mark.parametrize(("content", "reason"), [
    (b"GIF89a" + bytes(100), "This file is a GIF image, not a document Docent can read."),
    (bytes(range(256)) * 4, "This file type is not supported: it is neither a PDF, an Office document, nor text."),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(500), "This is an old-format Office file (.doc or .xls); "
                                                        "save it as .docx or .xlsx and upload it again."),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + "EncryptedPackage".encode("utf-16-le"),
     "This Office file is password-protected; remove the password and upload it again."),
])
def test_files_of_other_kinds_are_refused_with_a_reason(tmp_path, content, reason):
    assert rejection(write(tmp_path, "upload.docx", content)) == reason
