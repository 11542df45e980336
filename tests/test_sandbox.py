"""The worker's path for a file, in a real child process: every corpus file ends as its README says,
and hostile files kill only the child, with a reason a person understands."""

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from datasources import sandbox
from datasources.chunking import chunk_document, wordpiece_counter
from datasources.filetypes import RejectedFile, detect_file_type
from datasources.sandbox import ExtractionFailed, SandboxLimits, extract_in_sandbox
from tests import hostile

pytestmark = pytest.mark.backend_free

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus"

REFUSED, ERROR, NO_TEXT, READY = "refused at upload", "error", "no text found", "ready"
# ../shared/corpus/README.md, row by row: the outcome, and what the person then reads.
CORPUS_OUTCOMES = {
    "pdf/empty.pdf": (REFUSED, "This file is empty."),
    "pdf/issue-297-example.pdf": (NO_TEXT, ""),  # a page without text, odd metadata: no crash
    "pdf/password-example.pdf": (ERROR, "This is a password-protected PDF; remove the password and upload it again."),
    "pdf/malformed-from-issue-932.pdf": (READY, "2021 3 31"),
    "pdf/nics-background-checks-2015-11.pdf": (READY, "State / Territory: Alabama; Permit Handgun"),
    "pdf/nics-background-checks-2015-11-rotated.pdf": (READY, "State / Territory: Alabama; Permit Handgun"),
    "pdf/federal-register-2020-17221.pdf": (READY, "Airworthiness Directives"),
    "pdf/scotus-transcript-p1.pdf": (READY, "IN THE SUPREME COURT OF THE UNITED STATES"),
    "pdf/senate-expenditures.pdf": (READY, "BAIN, J MATTHEW DISTRICT DIRECTOR 37,499.96"),
    "pdf/issue-336-example.pdf": (READY, "公路技术 等级: 高速公路; 车道数: 六; 用地指标基准值: 2.1333"),
    "pdf/la-precinct-bulletin-2014-p1.pdf": (READY, "NEEL KASHKARI"),
    "pdf/cupertino_usd_4-6-16.pdf": (READY, "Cupertino Union School District"),
    "pdf/WARN-Report-for-7-1-2015-to-03-25-2016.pdf": (READY, "Company: Maxim Integrated Product; City: San Jose"),
    "pdf/issue-71-duplicate-chars.pdf": (READY, "项目描述：负责四川省"),
    "pdf/issue-912.pdf": (READY, "Opening Balance"),
    "pdf/issue-33-lorem-ipsum.pdf": (READY, "Tempora"),
    "xlsx/null_file.xlsx": (REFUSED, "This file is empty."),
    "xlsx/null_archive.xlsx": (REFUSED, "This zip archive is not an Excel workbook or Word document."),
    "xlsx/bigfoot.xlsx": (NO_TEXT, ""),  # 1,024 sheets, all empty, read within the limits
    "xlsx/empty.xlsx": (READY, "This is cell A1 in Sheet 1"),  # "empty" holds a few cells
    "xlsx/empty_no_dimensions.xlsx": (READY, "This is cell A1 in Sheet 1"),
    "xlsx/date_1904.xlsx": (READY, "2011-10-31"),  # a date from the 1904 calendar, as a date
    "xlsx/guess_types.xlsx": (READY, "3.14; 3.14; 3/14/15; 15%"),
    "xlsx/formulae.xlsx": (READY, "24690; Simple Equation"),  # the formula's result
    "xlsx/merge_range.xlsx": (READY, "A; B; C; D"),
    "xlsx/contains_chartsheets.xlsx": (READY, "month: january; count: 18"),
    "xlsx/charts.xlsx": (READY, "A; 0; 0"),
    "xlsx/vba-test.xlsm": (NO_TEXT, ""),  # its one sheet holds no values; the macros never run
    "xlsx/libreoffice_nrt.xlsx": (READY, "Simple LibreOffice spreadsheet"),
}


@pytest.fixture(scope="module")
def count_tokens():
    return wordpiece_counter()


def ingest(path: Path, count_tokens, limits: SandboxLimits | None = None):
    """What the upload and the worker make of a file: (outcome, reason, chunk drafts)."""
    try:
        kind = detect_file_type(path, path.name)
    except RejectedFile as exc:
        return REFUSED, exc.reason, []
    try:
        extraction = extract_in_sandbox(path, kind, file_name=path.name, limits=limits)
    except ExtractionFailed as exc:
        return ERROR, exc.reason, []
    drafts = chunk_document(extraction, file_name=path.name, count_tokens=count_tokens, max_tokens=254)
    return (READY if drafts else NO_TEXT), "", drafts


def test_the_table_covers_every_corpus_file():
    documents = [path for path in CORPUS.glob("*/*") if path.suffix in (".pdf", ".xlsx", ".xlsm")]
    on_disk = {str(path.relative_to(CORPUS)) for path in documents}
    assert on_disk == set(CORPUS_OUTCOMES)


@pytest.mark.parametrize("name", sorted(CORPUS_OUTCOMES))
def test_each_corpus_file_ends_as_its_readme_says(name, count_tokens):
    expected, detail = CORPUS_OUTCOMES[name]
    outcome, reason, drafts = ingest(CORPUS / name, count_tokens)
    assert outcome == expected, reason
    if expected in (REFUSED, ERROR):
        assert reason == detail
    if expected == READY:
        assert any(detail in draft.text for draft in drafts)
        assert all(draft.token_count <= 254 for draft in drafts)


def test_pdf_chunks_carry_their_page_numbers(count_tokens):
    _, _, drafts = ingest(CORPUS / "pdf/federal-register-2020-17221.pdf", count_tokens)
    assert {draft.metadata["page_number"] for draft in drafts} == set(range(1, 16))
    # Page 8 holds only a figure (an image of a flight manual's procedure) under the running header
    # and footer: OCR reads it.
    assert any("Airspeed Unreliable" in draft.text for draft in drafts if draft.metadata["page_number"] == 8)


def test_chart_sheets_are_skipped(count_tokens):
    _, _, drafts = ingest(CORPUS / "xlsx/contains_chartsheets.xlsx", count_tokens)
    assert {draft.metadata["sheet"] for draft in drafts} == {"data", "moredata"}


def test_the_worker_hears_of_the_pages_read_while_the_child_reads_them():
    heard = []
    extraction = extract_in_sandbox(CORPUS / "pdf/federal-register-2020-17221.pdf", "pdf",
                                    progress=lambda done, total, scanned: heard.append((done, total)))
    assert extraction.page_count == 15
    assert heard[-1] == (15, 15) and {total for _, total in heard} == {15}
    assert [done for done, _ in heard] == sorted({done for done, _ in heard})  # forward, each count once


@pytest.mark.parametrize(("record", "heard"), [
    (b"3 7 2", [(3, 7, 2)]),  # what the real child writes gets through this way too
    (b"", []),
    (b"3 7", []),
    (b"8 7 0", []),
    (b"0 7 0", []),
    (b"-3 7 0", []),
    (b"3 0 0", []),
    (b"3.5 7 0", []),
    (b"3\n7 0", []),
    (b"\xd9\xa3 7 0", []),  # a digit, but not an ASCII one
    (b"1234567890 12345678901 0", []),
    (b"3 7 9", []),  # more pages to scan than there are
    (b"\xff" * 5_000_000, []),
])
def test_a_child_writing_garbage_as_its_progress_still_gives_its_extraction(tmp_path, monkeypatch, record, heard):
    """A child subverted by a malicious file may write anything to its progress record: the worker
    hears nothing of it but three counts, the first and last within the second, and still gets the answer."""
    path = tmp_path / "notes.txt"
    path.write_text("MEETING NOTES\n\nThe budget was approved.\n")
    garbage = tmp_path / "record"
    garbage.write_bytes(record)
    child = f"import os; os.pwrite(3, open({str(garbage)!r}, 'rb').read(), 0); " \
            "from datasources.sandbox import main; main()"
    monkeypatch.setattr(sandbox, "CHILD_ARGUMENTS", ("-c", child))
    received = []
    extraction = extract_in_sandbox(path, "txt", progress=lambda *counts: received.append(counts))
    assert "The budget was approved." in " ".join(section.text for section in extraction.sections)
    assert received == heard


def test_a_pdf_that_inflates_past_the_memory_limit_kills_only_the_child(tmp_path):
    bomb = hostile.pdf_inflating_to(tmp_path, megabytes=900)
    with pytest.raises(ExtractionFailed) as caught:
        extract_in_sandbox(bomb, "pdf", limits=SandboxLimits(memory_mb=512))
    assert caught.value.reason == "Reading the file needed more than 512 MB of memory."


def test_a_file_that_keeps_the_reader_busy_is_stopped_at_the_cpu_limit(tmp_path):
    busy = hostile.pdf_with_glyphs(tmp_path, count=2_000_000)
    with pytest.raises(ExtractionFailed) as caught:
        extract_in_sandbox(busy, "pdf", limits=SandboxLimits(cpu_seconds=1, memory_mb=4096))
    assert caught.value.reason == "Reading the file needed more than 1 s of processor time."


def test_a_file_that_takes_too_long_is_stopped_at_the_wall_clock_limit(tmp_path):
    busy = hostile.pdf_with_glyphs(tmp_path, count=2_000_000)
    with pytest.raises(ExtractionFailed) as caught:
        extract_in_sandbox(busy, "pdf", limits=SandboxLimits(timeout_seconds=1, cpu_seconds=60, memory_mb=4096))
    assert caught.value.reason == "The file took longer than 1 s to read."


def test_limits_come_from_settings(settings):
    settings.EXTRACT_MAX_PAGES = 10
    with pytest.raises(ExtractionFailed) as caught:
        extract_in_sandbox(CORPUS / "pdf/federal-register-2020-17221.pdf", "pdf")
    assert caught.value.reason == "The PDF has 15 pages, over the 10-page limit."


def test_the_reader_dies_with_the_worker_that_started_it(tmp_path):
    """A worker killed mid-file (SIGKILL) must not leave its extraction child running."""
    path = hostile.pdf_with_glyphs(tmp_path, count=2_000_000)
    script = textwrap.dedent(f"""
        import django, os
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
        django.setup()
        from datasources.sandbox import SandboxLimits, extract_in_sandbox
        limits = SandboxLimits(timeout_seconds=60, cpu_seconds=60, memory_mb=4096)
        extract_in_sandbox({str(path)!r}, "pdf", limits=limits)
    """)
    worker = subprocess.Popen([sys.executable, "-c", script], cwd=Path(__file__).resolve().parents[1])
    child = _wait_for_child_of(worker.pid)
    worker.kill()
    worker.wait()
    deadline = time.monotonic() + 2  # reading this file alone takes the child several seconds more
    while _alive(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(child), "the extraction child outlived its killed worker"


def _wait_for_child_of(pid: int) -> int:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        if children:
            return int(children[0])
        time.sleep(0.02)
    raise AssertionError("the worker started no extraction child within 30 s")


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split()[2]
    except FileNotFoundError:
        return False
    return state != "Z"


def test_a_crash_in_a_worker_holding_much_memory_is_not_called_out_of_memory(tmp_path):
    """The child's peak is its own: a worker holding a large model must not make every crash read 'memory'."""
    path = hostile.pdf_with_glyphs(tmp_path, count=2_000_000)
    script = textwrap.dedent(f"""
        import django, os
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
        django.setup()
        from datasources.sandbox import ExtractionFailed, SandboxLimits, extract_in_sandbox
        ballast = b"x" * 1_200_000_000  # as much as a worker that holds the embedding model, and more
        try:
            extract_in_sandbox({str(path)!r}, "pdf", limits=SandboxLimits(timeout_seconds=60, cpu_seconds=60,
                                                                          memory_mb=4096))
        except ExtractionFailed as exc:
            print(exc.reason)
    """)
    worker = subprocess.Popen([sys.executable, "-c", script], cwd=Path(__file__).resolve().parents[1],
                              stdout=subprocess.PIPE, text=True)
    os.kill(_wait_for_child_of(worker.pid), signal.SIGSEGV)  # a reader crash that is not about memory
    reason = worker.communicate(timeout=60)[0].strip()
    assert reason == "The file could not be read: the reader crashed on it."
