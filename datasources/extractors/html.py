"""HTML, read with the standard library's parser: visible text, headings and tables."""

from html.parser import HTMLParser
from pathlib import Path

from datasources.extractors.model import Extraction, Sections, clean_text, title_from_name
from datasources.extractors.tables import table_rows
from datasources.filetypes import RejectedFile, decode_text


def extract_html(path: Path, file_name: str) -> Extraction:
    text = decode_text(path.read_bytes())
    if text is None:
        raise RejectedFile("The HTML file is not text in an encoding Docent knows.")
    reader = _HtmlReader()
    reader.feed(text)
    reader.close()
    reader.flush()
    title = clean_text(reader.title) or title_from_name(file_name)
    return Extraction(title=title, sections=reader.sections.items)


class _HtmlReader(HTMLParser):
    """Visible text by blocks, h1–h6 as headings, tables as rows; scripts and styles dropped."""

    SKIPPED = {"script", "style", "noscript", "template", "svg"}
    BLOCKS = {"p", "div", "li", "br", "section", "article", "header", "footer", "blockquote", "pre",
              "ul", "ol", "dl", "dt", "dd", "hr", "main", "nav", "aside", "form", "figure", "figcaption"}
    HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.sections = Sections()
        self.title = ""
        self.skipping = 0
        self.in_title = False
        self.text: list[str] = []
        self.heading: list[str] | None = None
        self.table: list[list[str]] | None = None
        self.cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "title":
            self.in_title = True
        elif tag in self.SKIPPED:
            self.skipping += 1
        elif tag in self.HEADINGS:
            self.flush()
            self.heading = []
        elif tag == "table" and self.table is None:
            self.flush()
            self.table = []
        elif tag == "tr" and self.table is not None:
            self.table.append([])
        elif tag in ("td", "th") and self.table is not None:
            self.cell = []
        elif tag in self.BLOCKS:
            self._target().append("\n")

    def handle_endtag(self, tag):
        if tag == "title":
            self.in_title = False
        elif tag in self.SKIPPED:
            self.skipping = max(0, self.skipping - 1)
        elif tag in self.HEADINGS and self.heading is not None:
            self.sections.heading = clean_text(" ".join("".join(self.heading).split()))
            self.heading = None
        elif tag in ("td", "th") and self.cell is not None and self.table is not None:
            if not self.table:
                self.table.append([])
            self.table[-1].append(" ".join("".join(self.cell).split()))
            self.cell = None
        elif tag == "table" and self.table is not None:
            self.sections.table(table_rows(self.table))
            self.table = None
        elif tag in self.BLOCKS:
            self._target().append("\n")

    def handle_data(self, data):
        if self.in_title:
            self.title += data
        elif not self.skipping:
            self._target().append(data)

    def _target(self) -> list[str]:
        if self.heading is not None:
            return self.heading
        if self.cell is not None:
            return self.cell
        return self.text

    def flush(self):
        self.sections.prose(clean_text("".join(self.text)))
        self.text = []
