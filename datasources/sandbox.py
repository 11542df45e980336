"""Extraction in a child process with CPU-time, memory and wall-clock limits.

A hostile file (a decompression bomb, a page that takes forever to lay out, a crash in a C
library) can only take down the child: the caller gets the extraction, or ExtractionFailed with
a reason a person understands. The child is `python -m datasources.sandbox`: it reads its request
as JSON on stdin, sets its own limits before it opens the file, and answers in JSON on stdout.
JSON rather than pickle, so that a child subverted by a malicious file cannot run code in the
worker through its answer. While it reads, the child rewrites one short record ("pages read, pages
in all, pages read by OCR") in a file of its own, which the worker reads as it polls and believes only
as bounded counts, the first moving forward. Reading a scanned page takes seconds, so the time and
processor limits grow by EXTRACT_OCR_SECONDS_PER_PAGE for each page the child says it reads by OCR,
up to the limit for the most pages a file may have. Starting a fresh interpreter costs about 0.2 s per file, and nothing
of the worker (threads, database connections, the embedding model) is inherited.
"""

import contextlib
import ctypes
import functools
import json
import logging
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from datasources.extractors import DEFAULT_MAX_PAGES, DEFAULT_MAX_ROWS, Extraction, OcrEngine, extract_file
from datasources.filetypes import RejectedFile

logger = logging.getLogger(__name__)

PROJECT_ROOT = Path(__file__).resolve().parents[1]
# How a process that ran out of memory in a C or C++ library says so before it dies.
_OUT_OF_MEMORY_MARKERS = ("MemoryError", "bad_alloc", "out of memory", "Out of memory", "Cannot allocate memory")
# A child killed by a signal after using this share of its memory allowance ran out of memory.
MEMORY_CRASH_SHARE = 0.25
PR_SET_PDEATHSIG = 1  # prctl option, from <linux/prctl.h>
CHILD_ARGUMENTS = ("-m", "datasources.sandbox")  # the interpreter's arguments that make it the child
# The child's progress record: its descriptor (after stdin, stdout and stderr), its size, its form.
PROGRESS_FD = 3
PROGRESS_BYTES = 32
_PROGRESS_RECORD = re.compile(rb"(\d{1,9}) (\d{1,9}) (\d{1,9}) *")


class ExtractionFailed(RejectedFile):
    """The file could not be read within the limits; the reason is worded for the uploader."""


@dataclass(frozen=True)
class SandboxLimits:
    timeout_seconds: int = 120
    cpu_seconds: int = 100
    memory_mb: int = 2048
    max_pages: int = DEFAULT_MAX_PAGES
    max_rows: int = DEFAULT_MAX_ROWS
    ocr: OcrEngine | None = None  # None: scanned pages are not read

    @classmethod
    def from_settings(cls) -> "SandboxLimits":
        return cls(
            timeout_seconds=settings.EXTRACT_TIMEOUT_SECONDS,
            cpu_seconds=settings.EXTRACT_CPU_SECONDS,
            memory_mb=settings.EXTRACT_MEMORY_MB,
            max_pages=settings.EXTRACT_MAX_PAGES,
            max_rows=settings.EXTRACT_MAX_ROWS,
            ocr=ocr_engine(),
        )

    def ocr_allowance(self, scanned_pages: int) -> int:
        """The seconds added to the time and processor limits for this many pages read by OCR."""
        if self.ocr is None:
            return 0
        return self.ocr.seconds_per_page * min(scanned_pages, self.max_pages)


# What /readyz and the dashboard say where Tesseract is missing.
SCANS_UNREADABLE = ("Tesseract (OCR) is not installed on this server: scanned pages and images cannot be read "
                    "(install the Debian packages tesseract-ocr and tesseract-ocr-eng).")


def ocr_engine() -> OcrEngine | None:
    """Tesseract as the settings name it, or None where it is not installed."""
    command = shutil.which(settings.TESSERACT_COMMAND)
    if command is None:
        return None
    return OcrEngine(command=command, languages=settings.OCR_LANGUAGES,
                     seconds_per_page=settings.EXTRACT_OCR_SECONDS_PER_PAGE)


def ocr_notices() -> list[str]:
    """What /readyz and the dashboard say about reading scans: nothing when Tesseract and every
    language of OCR_LANGUAGES are installed."""
    engine = ocr_engine()
    if engine is None:
        return [SCANS_UNREADABLE]
    missing = [language for language in engine.languages.split("+")
               if language not in _installed_languages(engine.command)]
    if missing:
        return [f"The OCR languages {', '.join(missing)} are not installed on this server: scanned pages and "
                f"images cannot be read (install tesseract-ocr-{missing[0]}, or change OCR_LANGUAGES)."]
    return []


@functools.cache
def _installed_languages(command: str) -> frozenset[str]:
    try:
        listing = subprocess.run([command, "--list-langs"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.TimeoutExpired):
        return frozenset()
    return frozenset(line.strip() for line in listing.splitlines()[1:])  # after "List of available languages"


def extract_in_sandbox(path: str | os.PathLike, kind: str, *, file_name: str = "",
                       limits: SandboxLimits | None = None,
                       progress: Callable[[int, int, int], None] | None = None) -> Extraction:
    """The extraction of the file at `path`, read as `kind` in a limited child process.

    `progress(done, total, scanned)` hears, while the child works, how many of a PDF's pages it has
    read, and how many of them it reads by OCR.
    """
    limits = limits or SandboxLimits.from_settings()
    request = {"path": str(path), "kind": str(kind), "file_name": file_name or Path(path).name,
               "cpu_seconds": limits.cpu_seconds, "memory_mb": limits.memory_mb,
               "max_pages": limits.max_pages, "max_rows": limits.max_rows, "parent_pid": os.getpid(),
               "ocr": limits.ocr.as_json() if limits.ocr else None,
               "most_cpu_seconds": limits.cpu_seconds + limits.ocr_allowance(limits.max_pages)}
    # Files rather than pipes: the child's answer may be large, and nobody has to read it while
    # the parent waits with os.wait4, which reports the child's peak memory and CPU time.
    with tempfile.TemporaryFile() as request_file, tempfile.TemporaryFile() as answer_file, \
            tempfile.TemporaryFile() as error_file, tempfile.TemporaryFile() as progress_file:
        request_file.write(json.dumps(request).encode())
        request_file.seek(0)
        watch = _ProgressWatch(progress_file, progress)
        status, usage, peak_bytes = _run_child(
            [request_file, answer_file, error_file, progress_file],
            lambda: limits.timeout_seconds + limits.ocr_allowance(watch.scanned), watch.poll)
        answer_file.seek(0)
        error_file.seek(0)
        errors = error_file.read().decode(errors="replace")
        cpu_seconds = limits.cpu_seconds + limits.ocr_allowance(watch.scanned)
        return _outcome(status, usage, peak_bytes, answer_file.read(), errors, limits, cpu_seconds)


def _run_child(files: list, timeout_seconds: Callable[[], int], poll: Callable[[], None]):
    """Run the child on `files` (its stdin, stdout, stderr and progress record), calling `poll` while
    it runs and once after it ends, for at most `timeout_seconds()` (which may grow as it runs);
    returns its wait status, resource usage and peak memory in bytes."""
    # The child parses hostile files: it gets none of the worker's secrets from the environment.
    environment = {"PATH": os.environ.get("PATH", ""), "LANG": "C.UTF-8", "PYTHONPATH": str(PROJECT_ROOT)}
    pid = os.posix_spawn(
        sys.executable, [sys.executable, *CHILD_ARGUMENTS], environment,
        file_actions=[(os.POSIX_SPAWN_DUP2, file.fileno(), descriptor) for descriptor, file in enumerate(files)],
        setsid=True,
    )
    started = time.monotonic()
    delay = 0.005
    peak_bytes = 0
    try:
        while True:
            # ru_maxrss would carry the worker's own figure across exec (a worker holding the
            # model looks like a child near 1 GB), so the child's peak is read from /proc instead.
            peak_bytes = max(peak_bytes, _peak_memory(pid))
            waited, status, usage = os.wait4(pid, os.WNOHANG)
            poll()  # after the wait: a child that has ended has written its last record
            if waited:
                return status, usage, peak_bytes
            if time.monotonic() > started + timeout_seconds():
                raise ExtractionFailed(f"The file took longer than {timeout_seconds()} s to read.")
            time.sleep(delay)
            delay = min(delay * 2, 0.05)
    except BaseException:
        os.kill(pid, signal.SIGKILL)  # our own child, by its id
        os.wait4(pid, 0)
        raise


class _ProgressWatch:
    """Hands on what the child's progress record says, when it says more than before.

    The record is read from the worker's own descriptor, at most PROGRESS_BYTES of it, so a child
    cannot make the worker block or read much; anything but three counts, the first and third within
    the second, is ignored, and so is a count that would move the bar back. The count of pages read
    by OCR (which lengthens the time allowed) is kept even before a page is read.
    """

    def __init__(self, progress_file, progress: Callable[[int, int, int], None] | None):
        self.descriptor = progress_file.fileno()
        self.progress = progress
        self.done, self.total, self.scanned = 0, 1, 0

    def poll(self) -> None:
        record = _PROGRESS_RECORD.fullmatch(os.pread(self.descriptor, PROGRESS_BYTES, 0))
        if record is None:
            return
        done, total, scanned = int(record[1]), int(record[2]), int(record[3])
        if not (done <= total and scanned <= total):
            return
        self.scanned = max(self.scanned, scanned)
        if 0 < done and done * self.total > self.done * total:
            self.done, self.total = done, total
            if self.progress is not None:
                self.progress(done, total, self.scanned)


def _peak_memory(pid: int) -> int:
    """The process's peak resident memory so far (VmHWM), in bytes; 0 once it is gone."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except (FileNotFoundError, ProcessLookupError, ValueError):
        pass
    return 0


def _outcome(status: int, usage, peak_bytes: int, answer: bytes, errors: str, limits: SandboxLimits,
             cpu_limit: int) -> Extraction:
    exit_code = os.waitstatus_to_exitcode(status)
    if exit_code == 0:
        return _answer(answer, limits)
    cpu_seconds = usage.ru_utime + usage.ru_stime
    if exit_code == -signal.SIGXCPU or (exit_code == -signal.SIGKILL and cpu_seconds >= cpu_limit):
        # The soft CPU limit sends SIGXCPU; a child that outlives it meets the hard limit's SIGKILL.
        raise ExtractionFailed(f"Reading the file needed more than {cpu_limit} s of processor time.")
    # A C library that cannot allocate often aborts without a word; by then the child had used
    # much of its allowance, while a crash for another reason rarely comes near it.
    if _ran_out_of_memory(errors) or peak_bytes > limits.memory_mb * 1024 * 1024 * MEMORY_CRASH_SHARE:
        raise ExtractionFailed(_memory_reason(limits))
    logger.warning("The extraction child ended with code %s: %s", exit_code, errors[-2000:])
    raise ExtractionFailed("The file could not be read: the reader crashed on it.")


def _answer(answer: bytes, limits: SandboxLimits) -> Extraction:
    try:
        reply = json.loads(answer)
        if "rejected" in reply:
            raise ExtractionFailed(reply["rejected"])
        if "out_of_memory" in reply:
            raise ExtractionFailed(_memory_reason(limits))
        return Extraction.from_json(reply["extraction"])
    except (ValueError, KeyError, TypeError):
        logger.warning("The extraction child answered nonsense: %r", answer[:500])
        raise ExtractionFailed("The file could not be read: the reader gave an answer Docent "
                               "does not understand.") from None


def _ran_out_of_memory(errors: str) -> bool:
    return any(marker in errors for marker in _OUT_OF_MEMORY_MARKERS)


def _memory_reason(limits: SandboxLimits) -> str:
    amount = f"{limits.memory_mb / 1024:g} GB" if limits.memory_mb >= 1024 else f"{limits.memory_mb} MB"
    return f"Reading the file needed more than {amount} of memory."


# ---------------------------------------------------------------------------------------------
# The child


def main() -> None:
    request = json.load(sys.stdin)
    answer_stream = os.fdopen(os.dup(sys.stdout.fileno()), "w")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # what libraries print must not garble the answer
    _die_with_parent(parent=int(request["parent_pid"]))
    _limit_resources(cpu_seconds=request["cpu_seconds"], most_cpu_seconds=request["most_cpu_seconds"],
                     memory_mb=request["memory_mb"])
    ocr = OcrEngine.from_json(request["ocr"])

    def report_pages(done: int, total: int, scanned: int) -> None:
        if scanned:  # the worker allows this much more time too, once it reads the record
            _allow_cpu_seconds(request["cpu_seconds"] + ocr.seconds_per_page * scanned)
        _report_pages(done, total, scanned)

    try:
        extraction = extract_file(request["path"], request["kind"], file_name=request["file_name"],
                                  max_pages=request["max_pages"], max_rows=request["max_rows"],
                                  on_page=report_pages, ocr=ocr)
        reply = {"extraction": extraction.as_json()}
    except RejectedFile as exc:
        reply = {"rejected": exc.reason}
    except MemoryError:
        reply = {"out_of_memory": True}
    except Exception as exc:  # the file broke a library in a way it does not name
        reply = {"rejected": f"The file could not be read: {type(exc).__name__}: {str(exc)[:200]}"}
    json.dump(reply, answer_stream)
    answer_stream.close()


def _report_pages(done: int, total: int, scanned: int) -> None:
    """Rewrite the progress record in place: the worker wants the latest count, not each one."""
    with contextlib.suppress(OSError):  # no record to write (run by hand): the reading goes on
        os.pwrite(PROGRESS_FD, f"{done} {total} {scanned}".encode().ljust(PROGRESS_BYTES), 0)


def _die_with_parent(*, parent: int) -> None:
    """A worker killed mid-file must not leave its reader running: the child has its own session,
    so a signal to the worker's process group does not reach it; the kernel's parent-death signal does."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:
        os._exit(1)  # the parent died before the signal was armed


def _limit_resources(*, cpu_seconds: int, most_cpu_seconds: int, memory_mb: int) -> None:
    """The soft CPU limit is the one for a file without scanned pages; the hard one lets it grow to
    the most that scanned pages may be allowed."""
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, most_cpu_seconds + 2))
    resource.setrlimit(resource.RLIMIT_AS, (memory_mb * 1024 * 1024,) * 2)
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # SIGXCPU would otherwise leave a core file


def _allow_cpu_seconds(seconds: int) -> None:
    _, hard = resource.getrlimit(resource.RLIMIT_CPU)
    resource.setrlimit(resource.RLIMIT_CPU, (min(seconds, hard), hard))


if __name__ == "__main__":
    main()
