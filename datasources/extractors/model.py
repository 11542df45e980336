"""What every reader makes of a file, and the text helpers the readers share.

A section is prose (with its page) or one table row (with its page, or its sheet and row), plus
the heading it falls under; `Sections` collects them in reading order. An extraction crosses from
the sandboxed child to the worker as JSON (`as_json`, `from_json`).
"""

import re
from dataclasses import asdict, dataclass, field
from pathlib import Path

DEFAULT_MAX_PAGES = 2_000
DEFAULT_MAX_ROWS = 100_000


@dataclass(frozen=True)
class Section:
    text: str
    heading: str = ""  # the nearest heading above; for a spreadsheet row, its sheet
    page_number: int | None = None
    sheet: str | None = None
    row_number: int | None = None  # spreadsheet or CSV row, numbered as the program shows it
    table: int | None = None  # rows of one table share this number; None for prose
    caption: str = ""  # for a table row: the lines just above its table (often column headings)
    unit: str = ""  # for a table row: the unit or scale its table states ("in millions")


@dataclass(frozen=True)
class Extraction:
    title: str
    sections: list[Section] = field(default_factory=list)
    page_count: int | None = None
    row_count: int | None = None

    def as_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> "Extraction":
        return cls(title=data["title"], sections=[Section(**section) for section in data["sections"]],
                   page_count=data["page_count"], row_count=data["row_count"])


class Sections:
    """Collects sections in reading order, remembering the heading they fall under."""

    def __init__(self):
        self.items: list[Section] = []
        self.heading = ""
        self.table_count = 0

    def prose(self, text: str, **where) -> None:
        text = without_contents_lines(text).strip()
        if text:
            self.items.append(Section(text=text, heading=self.heading, **where))

    def table(self, rows: list[tuple[str, int | None]], caption: str = "", unit: str = "", **where) -> None:
        self.table_count += 1
        for text, row_number in rows:
            self.items.append(Section(text=text, heading=self.heading, row_number=row_number,
                                      table=self.table_count, caption=caption, unit=unit, **where))

    def text_with_headings(self, text: str, **where) -> None:
        """Prose whose heading lines (see `looks_like_heading`) start new sections."""
        lines = without_contents_lines(text).split("\n")
        # A few lines in capitals are headings; where many are, capitals are just the style.
        in_capitals = sum(map(_in_capitals, lines))
        capitals_are_headings = in_capitals <= 3 or in_capitals * 4 < sum(1 for line in lines if line.strip())
        body: list[str] = []
        for line in lines:
            if looks_like_heading(line.strip(), capitals_are_headings=capitals_are_headings):
                self.prose("\n".join(body), **where)
                body = []
                self.heading = line.strip()
            else:
                body.append(line)
        self.prose("\n".join(body), **where)


# ---------------------------------------------------------------------------------------------
# Plain text and headings


_NUMBERED_HEADING = re.compile(r"^(PART\s+[IVX]+\b|(Item|ITEM)\s+\d+[A-Z]?\.|(Note|NOTE)\s+\d+\b|"
                               r"(Chapter|CHAPTER|Section|SECTION)\s+\d+\b)")
_SPACES = re.compile(r"[ \t\u00a0]+")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]")


def looks_like_heading(line: str, *, capitals_are_headings: bool = True) -> bool:
    """A short line numbered like 'Item 2.' or 'Note 4', or in capitals, in text without styles."""
    if not 3 <= len(line) <= 100:
        return False
    if _NUMBERED_HEADING.match(line):
        return True
    return capitals_are_headings and _in_capitals(line)


def _in_capitals(line: str) -> bool:
    letters = [char for char in line if char.isalpha()]
    if len(letters) < 4 or len(line) > 100 or any(char.isdigit() for char in line):
        return False
    if line.rstrip().endswith((".", ",", ";", ":")):
        return False
    return sum(char.isupper() for char in letters) >= 0.8 * len(letters)


# A table of contents' or an index's line: a title, then dot leaders or a space, then a page. Such
# lines are short; longer ones are never tried.
MAX_CONTENTS_LINE_CHARS = 160
_DOT_LEADERS = re.compile(r"(?:[.·…_] ?){4,} *(\d{1,3}|[ivxlc]{1,6})$", re.IGNORECASE)
# A page number ends the line after a word or a year, not after a figure or a symbol: "Gaming 73 73"
# and "Total assets $ 2,932 $ 3" are rows of figures.
_AFTER_WORD_A_PAGE = re.compile(r"(?:^|\s)(?P<before>\S+) (?P<page>\d{1,3})$")
_YEAR = re.compile(r"^(19|20)\d\d$")
# Lines ending in page numbers in page order, at least this many and with at most CONTENTS_GAP_LINES
# lines between two of them (a title wrapped onto a second line, a part's heading), are a table of
# contents, when they are at least half of its lines.
CONTENTS_MIN_LINES = 3
CONTENTS_GAP_LINES = 2


def without_contents_lines(text: str) -> str:
    """`text` without table-of-contents and index lines, which point to the answer but never hold it:
    a line with dot leaders to a page number, and listings of titles each followed by its page."""
    lines = text.split("\n")
    short = [line.strip() if len(line) <= MAX_CONTENTS_LINE_CHARS else "" for line in lines]
    dropped = [_has_dot_leaders(line) for line in short]
    for start, end in _listings([_page_at_end(line) for line in short]):
        dropped[start:end] = [True] * (end - start)
    return "\n".join(line for line, drop in zip(lines, dropped, strict=True) if not drop)


def _has_dot_leaders(line: str) -> bool:
    """A title, then dot leaders to a page number ("3.2 Installation .......... 45")."""
    leaders = _DOT_LEADERS.search(line) if "...." in line.replace(" ", "") or "…" in line else None
    return leaders is not None and any(char.isalpha() for char in line[:leaders.start()])


def _page_at_end(line: str) -> int | None:
    match = _AFTER_WORD_A_PAGE.search(line)
    if match is None or not (any(char.isalpha() for char in match["before"]) or _YEAR.match(match["before"])):
        return None
    return int(match["page"])


def _listings(pages: list[int | None]) -> list[tuple[int, int]]:
    """(first line, line after the last) of each stretch of lines that is a table of contents."""
    found = []
    entries: list[int] = []  # the lines of the current stretch that end in a page number
    for index, page in enumerate([*pages, None]):
        close = entries and (index == len(pages) or index - entries[-1] > CONTENTS_GAP_LINES + 1
                             or (page is not None and page < pages[entries[-1]]))
        if close:
            start, end = entries[0], entries[-1] + 1
            if len(entries) >= CONTENTS_MIN_LINES and 2 * len(entries) >= end - start:
                found.append((start, end))
            entries = []
        if page is not None:
            entries.append(index)
    return found


def clean_text(text: str) -> str:
    """One space between words, lines without edge spaces, at most one blank line in a row."""
    text = _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def title_from_name(file_name: str) -> str:
    return Path(file_name).stem.replace("_", " ").strip() or file_name


def exception_words(exc: Exception) -> str:
    return str(exc).strip().rstrip(".")[:200] or type(exc).__name__
