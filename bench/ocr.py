"""`make bench-ocr`: how fast and how well scanned pages are read (Tesseract in the extraction sandbox).

- dr_a_order.pdf (../shared/bench/mixed-docs/docs/): five scanned pages of a court order. Its text
  layer holds only the court's filing stamp atop each page, which is also drawn on the scan; the
  set has no transcription of the rest. Measured: pages per second through the sandbox, the share
  of the stamps' words OCR recovers (from the pixels alone), and, as a proxy for the body, the share
  of the words OCR reads that a text-layer document of the same set also uses (misread words rarely
  are).
- Pages scanned here: a page of a text PDF rendered to grey pixels at SCAN_DPI and wrapped as an
  image-only PDF; the words recovered are compared with the page's own text layer, counting each
  word as often as it occurs.

    python -m bench.ocr
"""

import os
import re
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import django

SHARED = Path(__file__).resolve().parents[2] / "shared"
MIXED_DOCS = SHARED / "bench" / "mixed-docs"
SCANNED_ORDER = MIXED_DOCS / "docs" / "dr_a_order.pdf"
# (file, page index): a multi-column government page and a page of a Supreme Court opinion.
PAGES_TO_SCAN = [(SHARED / "corpus" / "pdf" / "federal-register-2020-17221.pdf", 0),
                 (MIXED_DOCS / "docs" / "598us1r3_j4ek.pdf", 2)]
SCAN_DPI = 200  # an office scanner's usual setting


def words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower())


def recovered(reference: str, found: str) -> float:
    """The share of the reference's words (with their multiplicity) that the found text holds."""
    wanted = Counter(words(reference))
    return sum((wanted & Counter(words(found))).values()) / max(sum(wanted.values()), 1)


def scanned_pdf(source: Path, index: int, destination: Path, dpi: int = SCAN_DPI) -> str:
    """Write to `destination` an image-only PDF of the source's page; returns the page's text layer."""
    import pypdfium2 as pdfium

    page = pdfium.PdfDocument(str(source))[index]
    width, height = page.get_size()
    bitmap = page.render(scale=dpi / 72, grayscale=True)
    scan = pdfium.PdfDocument.new()
    scan_page = scan.new_page(width, height)
    image = pdfium.PdfImage.new(scan)
    image.set_bitmap(bitmap)
    image.set_matrix(pdfium.PdfMatrix().scale(width, height))
    scan_page.insert_obj(image)
    scan_page.gen_content()
    scan.save(str(destination))
    return page.get_textpage().get_text_range()


def order_measures(engine) -> dict:
    import pypdfium2 as pdfium

    from datasources.extractors.ocr import read_pdf_page
    from datasources.sandbox import extract_in_sandbox

    started = time.monotonic()
    extraction = extract_in_sandbox(SCANNED_ORDER, "pdf")
    seconds = time.monotonic() - started
    document = pdfium.PdfDocument(str(SCANNED_ORDER))
    stamps, read = [], []
    for page in document:
        stamps.append(page.get_textpage().get_text_range())
        read.append(read_pdf_page(page, engine))
    vocabulary = {word for path in (MIXED_DOCS / "text").glob("*.txt") if path.stem != "dr_a_order"
                  for word in words(path.read_text())}
    body = [word for word in words(" ".join(read)) if not word.isdigit()]
    return {"pages": len(document), "seconds": seconds, "pages_per_second": len(document) / seconds,
            "stamp_words_recovered": recovered(" ".join(stamps), " ".join(read)),
            "body_words_known": sum(word in vocabulary for word in body) / max(len(body), 1),
            "body_words": len(body), "chunks_text": sum(len(section.text) for section in extraction.sections)}


def scanned_page_measures() -> list[dict]:
    from datasources.sandbox import extract_in_sandbox

    results = []
    with tempfile.TemporaryDirectory() as folder:
        for source, index in PAGES_TO_SCAN:
            path = Path(folder) / f"{source.stem}-p{index + 1}.pdf"
            reference = scanned_pdf(source, index, path)
            started = time.monotonic()
            extraction = extract_in_sandbox(path, "pdf")
            seconds = time.monotonic() - started
            found = "\n".join(f"{section.heading}\n{section.text}" for section in extraction.sections)
            results.append({"page": f"{source.name} p. {index + 1}", "seconds": seconds,
                            "reference_words": len(words(reference)), "recovered": recovered(reference, found)})
    return results


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()
    from datasources.sandbox import ocr_engine

    engine = ocr_engine()
    if engine is None:
        sys.exit("Tesseract is not installed (make ocr-deps).")
    print(f"OCR: {engine.command}, languages {engine.languages}, {os.cpu_count()} cores")
    order = order_measures(engine)
    print(f"dr_a_order.pdf: {order['pages']} scanned pages in {order['seconds']:.1f} s "
          f"({order['pages_per_second']:.2f} pages/s, child start included); filing stamps' words recovered "
          f"{order['stamp_words_recovered']:.1%}; body words ({order['body_words']}) known to the set's text "
          f"layers {order['body_words_known']:.1%}")
    for result in scanned_page_measures():
        print(f"self-scanned {result['page']} at {SCAN_DPI} dpi: {result['reference_words']} words, "
              f"{result['recovered']:.1%} recovered, {result['seconds']:.1f} s")


if __name__ == "__main__":
    main()
