"""Text of scanned pages and images, read by Tesseract.

Tesseract runs as a subprocess of the extraction child, so it inherits the child's CPU and memory
limits and gets only a minimal environment; each run also has a wall-clock limit of its own. The
`tesseract` binary is called directly rather than through pytesseract: one command line, its
image on stdin and its text on stdout, needs no wrapper library and no temporary files.
"""

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from datasources.extractors.model import Extraction, Sections, clean_text, title_from_name
from datasources.filetypes import RejectedFile

# Scans are read at this resolution; Tesseract is tuned for text about 10 pixels high and up.
OCR_DPI = 300
# A page is rendered with at most this many pixels (a poster-sized page is read at a lower
# resolution), so that a hostile page size cannot exhaust memory.
MAX_PAGE_PIXELS = 40_000_000


@dataclass(frozen=True)
class OcrEngine:
    """How the child runs Tesseract: its command, the languages to read (`eng`, `eng+deu`) and
    the wall-clock seconds one page may take."""

    command: str
    languages: str = "eng"
    seconds_per_page: int = 30

    @classmethod
    def from_json(cls, data: dict | None) -> "OcrEngine | None":
        return cls(**data) if data else None

    def as_json(self) -> dict:
        return {"command": self.command, "languages": self.languages, "seconds_per_page": self.seconds_per_page}

    def read(self, image: bytes, *, pages: int = 1) -> list[str]:
        """The text of each page of the image (PNM, PNG, JPEG or TIFF bytes)."""
        # One thread: the child is one of several workers on few cores, and OpenMP's thread pools
        # would each reserve address space under the child's memory limit.
        environment = {"PATH": os.environ.get("PATH", ""), "LANG": "C.UTF-8", "OMP_THREAD_LIMIT": "1"}
        timeout = self.seconds_per_page * pages
        try:
            result = subprocess.run([self.command, "stdin", "stdout", "-l", self.languages, "--psm", "3"],
                                    input=image, capture_output=True, timeout=timeout, env=environment)
        except FileNotFoundError:
            raise RejectedFile("Scanned pages cannot be read: Tesseract (OCR) is not installed on this "
                               "server.") from None
        except subprocess.TimeoutExpired:
            raise RejectedFile(f"Reading a scanned page took longer than {timeout} s.") from None
        errors = result.stderr.decode(errors="replace")
        # With one of several languages missing Tesseract reads on without it, and would misread
        # every word of that language: the setting is wrong, and the reason says so.
        if "Failed loading language" in errors:
            raise RejectedFile(f"Scanned pages cannot be read: the OCR languages {self.languages!r} are "
                               "not installed on this server.")
        if result.returncode != 0:
            if any(marker in errors.lower() for marker in ("out of memory", "alloc")):
                raise MemoryError  # the child answers with the memory limit it holds
            if result.returncode < 0:
                raise RejectedFile("Reading a scanned page took more processor time or memory than allowed.")
            raise RejectedFile("A scanned page could not be read: the image is damaged or in a form "
                               "Tesseract does not read.")
        return result.stdout.decode("utf-8", errors="replace").split("\f")


def read_pdf_page(page, engine: OcrEngine) -> str:
    """The text Tesseract reads on a PDF page (pypdfium2), rendered in grey at OCR_DPI."""
    width, height = page.get_size()
    scale = min(OCR_DPI / 72, (MAX_PAGE_PIXELS / max(width * height, 1.0)) ** 0.5)
    bitmap = page.render(scale=scale, grayscale=True)
    try:
        return engine.read(_portable_graymap(bitmap))[0]
    finally:
        bitmap.close()


def _portable_graymap(bitmap) -> bytes:
    """The 8-bit grey bitmap as a PGM file, which Tesseract reads without a codec."""
    rows = bytes(bitmap.buffer)
    if bitmap.stride != bitmap.width:
        rows = b"".join(rows[row * bitmap.stride:row * bitmap.stride + bitmap.width] for row in range(bitmap.height))
    return b"P5\n%d %d\n255\n" % (bitmap.width, bitmap.height) + rows


def extract_image(path: Path, file_name: str, *, engine: OcrEngine | None,
                  on_page=None) -> Extraction:
    """A PNG, JPEG or TIFF upload: each of its pages read by OCR."""
    if engine is None:
        raise RejectedFile("Images are read by OCR, and Tesseract (OCR) is not installed on this server.")
    if on_page is not None:
        on_page(0, 1, 1)  # the whole image is a scan: the worker allows time for it
    texts = engine.read(path.read_bytes())
    sections = Sections()
    for number, text in enumerate(texts, start=1):
        sections.text_with_headings(clean_text(text), page_number=number)
    if on_page is not None:
        on_page(1, 1, 1)
    return Extraction(title=title_from_name(file_name), sections=sections.items,
                      page_count=len([text for text in texts if text.strip()]) or 1)
