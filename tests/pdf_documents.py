"""Small PDFs written by hand for the tests: pages of Helvetica text and ruled boxes, placed in points."""

from dataclasses import dataclass, field
from pathlib import Path

FONT_SIZE = 9


@dataclass
class Page:
    commands: list[bytes] = field(default_factory=list)

    def text(self, x: float, y: float, words: str) -> "Page":
        escaped = words.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
        self.commands.append(f"BT /F1 {FONT_SIZE} Tf {x} {y} Td ({escaped}) Tj ET".encode("latin-1"))
        return self

    def right_aligned(self, right: float, y: float, words: str) -> "Page":
        """Text ending about at `right` (Helvetica's digits are 0.556 em wide)."""
        return self.text(right - len(words) * 0.556 * FONT_SIZE, y, words)

    def box(self, left: float, bottom: float, right: float, top: float) -> "Page":
        self.commands.append(f"0.5 w {left} {bottom} {right - left} {top - bottom} re S".encode())
        return self

    def rule(self, left: float, right: float, y: float) -> "Page":
        """A horizontal line half a point thick."""
        self.commands.append(f"0.5 w {left} {y} m {right} {y} l S".encode())
        return self

    def ruled_row(self, top: float, columns: list[tuple[float, float]], label: str,
                  figures: dict[float, str]) -> "Page":
        """A table row 14 points high: a box per column, the label in the first, each figure ending at its key."""
        for left, right in columns:
            self.box(left, top - 14, right, top)
        self.text(columns[0][0] + 4, top - 10, label)
        for right, figure in figures.items():
            self.right_aligned(right, top - 10, figure)
        return self


def write_pdf(path: Path, pages: list[Page], encoding: bytes = b"/WinAnsiEncoding") -> Path:
    """A PDF of the pages (US Letter) in Helvetica with the `encoding`, its cross-references right."""
    count = len(pages)
    kids = " ".join(f"{3 + 2 * index} 0 R" for index in range(count))
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", f"<< /Type /Pages /Kids [{kids}] /Count {count} >>".encode()]
    font = 3 + 2 * count
    for index, page in enumerate(pages):
        content = b"\n".join(page.commands)
        objects.append(f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents {4 + 2 * index} 0 R "
                       f"/Resources << /Font << /F1 {font} 0 R >> >> >>".encode())
        objects.append(f"<< /Length {len(content)} >>\nstream\n".encode() + content + b"\nendstream")
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding " + encoding + b" >>")
    return write_objects(path, objects)


def write_objects(path: Path, objects: list[bytes]) -> Path:
    """A PDF of these objects, numbered from 1 (the first is the catalog), its cross-references right."""
    out = bytearray(b"%PDF-1.7\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    path.write_bytes(bytes(out))
    return path


def quarterly_report(path: Path) -> Path:
    """Four pages under a running header and page number: a table of contents, then a results table
    whose headings (two rows, over ruled figures) and unit are set above its grid, with a "%" in
    cells of their own; then prose."""
    pages = [Page() for _ in range(4)]
    for number, page in enumerate(pages, start=1):
        page.text(50, 760, "Acme Corp | Quarterly Report")
        page.text(300, 30, f"Page {number}")
    contents = pages[0]
    contents.text(50, 700, "Contents")
    for line, (title, page_number) in enumerate([("1 Overview", 2), ("2 Results of operations", 3),
                                                ("3.2 Installation", 4)]):
        contents.text(50, 680 - 14 * line, f"{title} .......... {page_number}")
    contents.text(50, 600, "This report covers the quarter ended July 1, 2023 for all of our regions.")
    results = pages[1]
    results.text(50, 700, "Results of operations")
    results.text(50, 680, "The following table shows our results by segment for the periods of the quarter compared.")
    results.text(290, 650, "Three Months Ended")
    results.text(262, 638, "July 1, 2023")
    results.text(342, 638, "June 25, 2022")
    results.text(300, 626, "(In millions)")
    columns = [(50, 250), (250, 320), (320, 332), (332, 400), (400, 412)]
    for row, (label, first, second) in enumerate([("Data Center", "14,514", "3,833"), ("Gaming", "2,856", "1,574"),
                                                  ("Gross margin", "74.0", "70.1")]):
        top = 618 - 14 * row
        results.ruled_row(top, columns, label, {318: first, 398: second})
        if label == "Gross margin":
            results.text(322, top - 10, "%")
            results.text(402, top - 10, "%")
    pages[2].text(50, 700, "Our Data Center platform grew with demand for accelerated computing this quarter.")
    pages[3].text(50, 700, "Installation takes about an hour; follow the steps in the guide that came with the unit.")
    return write_pdf(path, pages)


def sales_by_product(path: Path) -> Path:
    """A table whose first row is set above its ruled grid, each "$" a few points after the figure to its
    left, as typeset statements put a column's currency sign."""
    page = Page()
    page.text(50, 700, "Net sales by product were as follows (in millions):")
    page.text(300, 670, "Three Months Ended")
    page.text(290, 658, "July 1, 2023")
    page.text(368, 658, "June 25, 2022")
    page.text(54, 640, "Phones")
    page.text(292, 640, "$")
    page.right_aligned(355, 640, "40,665")
    page.text(359, 640, "$")
    page.right_aligned(430, 640, "39,570")
    for row, (label, first, second) in enumerate([("Tablets", "7,224", "7,368"), ("Services", "19,604", "17,486")]):
        page.ruled_row(632 - 14 * row, [(50, 288), (288, 360), (360, 435)], label, {355: first, 430: second})
    return write_pdf(path, [page])


def results_with_a_heading_over_three_columns(path: Path) -> Path:
    """A summary table whose "Three Months Ended", centred over the middle of three date columns, is underlined
    across the three; a fourth column has a heading of its own."""
    page = Page()
    page.text(50, 700, "Summary results were as follows (in millions):")
    page.text(275, 672, "Three Months Ended")
    page.rule(180, 450, 668)
    page.text(200, 658, "July 1, 2023")
    page.text(290, 658, "April 1, 2023")
    page.text(380, 658, "July 2, 2022")
    page.text(470, 658, "Change")
    columns = [(50, 180), (180, 270), (270, 360), (360, 450), (450, 520)]
    for row, (label, figures) in enumerate([("Revenue", ("13,507", "7,192", "6,704", "88%")),
                                            ("Operating income", ("6,800", "2,140", "499", "218%"))]):
        page.ruled_row(646 - 14 * row, columns, label, dict(zip((266, 356, 446, 516), figures, strict=True)))
    return write_pdf(path, [page])
