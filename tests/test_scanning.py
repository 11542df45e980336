"""Virus scanning against a real clamd (see tests/clamav.py)."""

import signal
import socket
from pathlib import Path

import pytest

from datasources.scanning import CHUNK_SIZE, ClamdScanner, FileNotClean, get_scanner
from tests.clamav import (
    REPORTED_SIGNATURE,
    STREAM_MAX_MB,
    eicar,
    start_clamd,
)

pytestmark = pytest.mark.backend_free

MB = 1024 * 1024


def rejection(path: Path, scanner=None) -> str | None:
    """The reason the uploader would read, or None when the file is accepted."""
    try:
        (scanner or get_scanner()).scan(path)
    except FileNotClean as exc:
        return str(exc)
    return None


def could_not_check(why: str) -> str:
    return f"The virus scanner could not check this file ({why}); it was not accepted."


@pytest.fixture(params=["unix socket", "tcp"])
def clamav_configured(request, settings, clamd):
    """ClamAV configured the way an operator would, through either transport."""
    if request.param == "unix socket":
        settings.CLAMD_SOCKET = clamd.socket_path
    else:
        settings.CLAMD_SOCKET = ""
        settings.CLAMD_HOST, settings.CLAMD_PORT = "127.0.0.1", clamd.tcp_port


@pytest.fixture
def clamav_on_socket(settings, clamd):
    settings.CLAMD_SOCKET = clamd.socket_path


@pytest.fixture
def write(tmp_path):
    def write(name: str, content: bytes) -> Path:
        path = tmp_path / name
        path.write_bytes(content)
        return path

    return write


def large_export(size: int) -> bytes:
    """CSV-like rows; the size spans many INSTREAM chunks."""
    rows = (f"{i},Quarterly revenue,EMEA,{i * 7 % 1000}\n".encode() for i in range(size // 20))
    return b"".join(rows)[:size]


def minimal_pdf(text: str) -> bytes:
    """A valid one-page PDF with a line of text."""
    stream = f"BT /F1 18 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    pdf, offsets = b"%PDF-1.4\n", []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(pdf))
        pdf += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(pdf)
    pdf += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    pdf += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    pdf += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return pdf


def test_it_refuses_the_eicar_test_file_naming_the_signature(clamav_configured, write):
    reason = rejection(write("invoice.txt", eicar()))

    assert reason == f"The virus scanner found {REPORTED_SIGNATURE} in this file; it was not accepted."


def test_it_accepts_a_clean_pdf(clamav_configured, write):
    assert rejection(write("report.pdf", minimal_pdf("Quarterly report"))) is None


def test_it_accepts_a_large_clean_file(clamav_configured, write):
    path = write("export.csv", large_export(6 * MB))

    assert path.stat().st_size > 50 * CHUNK_SIZE
    assert rejection(path) is None


def test_it_finds_a_signature_far_past_the_first_chunk(clamav_on_socket, write):
    reason = rejection(write("export.csv", large_export(6 * MB) + eicar()))

    assert reason is not None and REPORTED_SIGNATURE in reason


def test_it_refuses_a_file_larger_than_clamd_accepts(clamav_on_socket, write):
    reason = rejection(write("huge.csv", large_export((STREAM_MAX_MB + 1) * MB)))

    assert reason == could_not_check("it is larger than the scanner accepts")


def test_it_refuses_when_clamd_has_stopped(settings, tmp_path, write):
    stopped = start_clamd(tmp_path)
    stopped.stop()
    settings.CLAMD_SOCKET = stopped.socket_path

    assert rejection(write("report.pdf", minimal_pdf("Quarterly report"))) == could_not_check(
        "the scanner is not running"
    )


def test_it_refuses_when_clamd_died_leaving_its_socket(settings, tmp_path, write):
    crashed = start_clamd(tmp_path)
    crashed.stop(signal.SIGKILL)
    settings.CLAMD_SOCKET = crashed.socket_path

    assert Path(crashed.socket_path).exists()
    assert rejection(write("report.pdf", minimal_pdf("Quarterly report"))) == could_not_check(
        "connection refused"
    )


def test_it_refuses_when_the_scanner_does_not_answer(tmp_path, write):
    # A listening socket that never accepts: the connection opens, no answer ever comes.
    socket_path = str(tmp_path / "hung.sock")
    with socket.socket(socket.AF_UNIX) as hung:
        hung.bind(socket_path)
        hung.listen()
        scanner = ClamdScanner(socket_path, read_timeout=0.5)

        reason = rejection(write("report.pdf", minimal_pdf("Quarterly report")), scanner)

    assert reason == could_not_check("timed out")


def test_it_accepts_every_file_when_clamav_is_not_configured(settings, write):
    settings.CLAMD_SOCKET = settings.CLAMD_HOST = ""

    assert rejection(write("invoice.txt", eicar())) is None
