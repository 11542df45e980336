"""Scanned pages and images are read by Tesseract; good text layers are not; form values are text.

The scans are made here: a page of a text PDF rendered to pixels, then wrapped as an image-only
PDF or written as a PNG, so that the words OCR should find are known.
"""

import struct
import zlib
from pathlib import Path

import pypdfium2 as pdfium
import pytest

from bench.ocr import recovered, scanned_pdf
from datasources import chunk_format
from datasources.embedders import get_embedder
from datasources.indexes import lexical
from datasources.models import Chunk, DataSource
from datasources.pipeline import SCANNED_PAGES_STAGE
from datasources.sandbox import ExtractionFailed, extract_in_sandbox
from datasources.selectors import chunk_search
from tests.ingestion import CORPUS, processed, upload_bytes

MIXED_DOCS = Path(__file__).resolve().parents[2] / "shared" / "bench" / "mixed-docs" / "docs"
TEXT_PDF = CORPUS / "pdf" / "issue-33-lorem-ipsum.pdf"


def text_of(extraction) -> str:
    return "\n".join(f"{section.heading}\n{section.text}" for section in extraction.sections)


def rendered_page(path: Path, dpi: int = 200):
    """The first page as a grey bitmap (pypdfium2)."""
    return pdfium.PdfDocument(str(path))[0].render(scale=dpi / 72, grayscale=True)


def scan(tmp_path: Path) -> tuple[Path, str]:
    """An image-only PDF of TEXT_PDF's first page, and the text that page holds."""
    path = tmp_path / "scan.pdf"
    return path, scanned_pdf(TEXT_PDF, 0, path)


def png(bitmap) -> bytes:
    """The grey bitmap as a PNG file, written by hand (no imaging library is installed)."""
    raw = bytes(bitmap.buffer)
    rows = b"".join(b"\x00" + raw[row * bitmap.stride:row * bitmap.stride + bitmap.width]
                    for row in range(bitmap.height))

    def block(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", bitmap.width, bitmap.height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + block(b"IHDR", header) + block(b"IDAT", zlib.compress(rows)) + block(b"IEND", b"")


def test_a_scanned_page_is_read_by_ocr_and_most_of_its_words_recovered(tmp_path):
    path, original = scan(tmp_path)
    heard = []
    extraction = extract_in_sandbox(path, "pdf", progress=lambda *counts: heard.append(counts))
    assert recovered(original, text_of(extraction)) > 0.9
    assert {section.page_number for section in extraction.sections} == {1}  # answers cite the page
    assert heard[-1] == (1, 1, 1)  # the worker heard that one page is read by OCR


def test_a_page_with_a_good_text_layer_is_not_ocred():
    heard = []
    extraction = extract_in_sandbox(TEXT_PDF, "pdf", progress=lambda *counts: heard.append(counts))
    assert "Consectetur quisquam dolor porro neque" in text_of(extraction)
    assert heard and all(scanned == 0 for _, _, scanned in heard)


def test_a_page_whose_text_layer_lost_letters_and_digits_is_read_by_ocr():
    """orim006.pdf's fonts map capitals and digits to control characters: "STATE \x02F CALIF\x02RNIA"."""
    text = text_of(extract_in_sandbox(MIXED_DOCS / "orim006.pdf", "pdf"))
    assert "GOVERNMENT CLAIM" in text
    assert "\x13" not in text and "CALIF2RNIA" not in text


def test_the_values_filled_into_a_pdf_form_are_read_as_text():
    text = text_of(extract_in_sandbox(MIXED_DOCS / "std270.pdf", "pdf"))
    assert "NAME: Alex Rivera" in text
    assert "MODEL: Escape Hybrid" in text
    assert "DRIVER S LICENSE NUMBER: R5729013" in text


@pytest.mark.django_db(transaction=True)
def test_an_uploaded_png_becomes_text_a_search_finds_with_its_page(owner_a, api_client):
    bitmap = rendered_page(TEXT_PDF)
    client = api_client(owner_a)
    (source,) = processed(client, upload_bytes(client, "scan.png", png(bitmap)))
    assert (source.status, source.type) == ("ready", "image"), source.error_message
    assert "Velit modi eius non quaerat eius ut neque." in " ".join(
        Chunk.objects.filter(data_source=source).values_list("text", flat=True))
    search = chunk_search(company_id=owner_a.company_id, data_sources=DataSource.objects.all())
    (chunk_id, _), *_ = search.lexical(lexical.tokenize("velit modi eius"), 5)
    assert chunk_format.data_source_of(chunk_id) == source.id
    assert Chunk.objects.get(pk=chunk_id).metadata["page_number"] == 1


@pytest.mark.django_db(transaction=True)
def test_processing_a_scan_shows_the_ocr_stage(owner_a, api_client, tmp_path, monkeypatch):
    stages = []
    monkeypatch.setattr("datasources.events.publish", lambda source: stages.append(source.stage))
    path, _ = scan(tmp_path)
    client = api_client(owner_a)
    (source,) = processed(client, upload_bytes(client, "scan.pdf", path.read_bytes()))
    assert source.status == "ready", source.error_message
    assert SCANNED_PAGES_STAGE in stages


@pytest.fixture
def without_tesseract(settings):
    settings.TESSERACT_COMMAND = "/nonexistent/tesseract"


def test_readyz_says_scanned_pages_cannot_be_read_where_tesseract_is_missing(db, client, without_tesseract):
    body = client.get("/readyz").json()
    assert any("scanned pages and images cannot be read" in notice for notice in body["notices"])
    assert body["engines"]["ocr"].startswith("none")


def test_readyz_has_no_notice_where_tesseract_is_installed(db, client):
    body = client.get("/readyz").json()
    assert body["notices"] == [] and body["engines"]["ocr"] == "tesseract (eng)"


def test_readyz_names_an_ocr_language_that_is_not_installed(db, client, settings):
    settings.OCR_LANGUAGES = "eng+xyz"
    get_embedder().prepare()  # as a web process does when it starts: the probe is then ready
    response = client.get("/readyz")
    assert response.status_code == 200 and response.json()["notices"] == [
        "The OCR languages xyz are not installed on this server: scanned pages and images cannot be read "
        "(install tesseract-ocr-xyz, or change OCR_LANGUAGES)."]


def test_the_files_page_says_scanned_pages_cannot_be_read_where_tesseract_is_missing(client, owner_a,
                                                                                      without_tesseract):
    client.force_login(owner_a)
    assert "scanned pages and images cannot be read" in client.get("/files/").content.decode()


def test_the_overview_says_how_scanned_pages_are_read(api_client, owner_a, settings):
    assert "Read by OCR with tesseract (eng)" in api_client(owner_a).get("/").content.decode()
    settings.TESSERACT_COMMAND = "/nonexistent/tesseract"
    assert "Not read: Tesseract (OCR) is not installed" in api_client(owner_a).get("/").content.decode()


@pytest.mark.django_db(transaction=True)
def test_without_tesseract_a_scan_ends_in_error_saying_why(owner_a, api_client, tmp_path, without_tesseract):
    path, _ = scan(tmp_path)
    client = api_client(owner_a)
    (source,) = processed(client, upload_bytes(client, "scan.pdf", path.read_bytes()))
    assert source.status == "error"
    assert "Tesseract (OCR) is not installed" in source.error_message


def test_an_ocr_language_that_is_not_installed_is_named_in_the_reason(tmp_path, settings):
    settings.OCR_LANGUAGES = "eng+xyz"
    path, _ = scan(tmp_path)
    with pytest.raises(ExtractionFailed) as failed:
        extract_in_sandbox(path, "pdf")
    assert failed.value.reason == ("Scanned pages cannot be read: the OCR languages 'eng+xyz' are not installed "
                                   "on this server.")
