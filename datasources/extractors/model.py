"""What every reader makes of a file, and the text helpers the readers share.

A section is prose (with its page) or one table row (with its page, or its sheet and row), plus
the heading it falls under; `Sections` collects them in reading order. An extraction crosses from
the sandboxed child to the worker as JSON (`as_json`, `from_json`).
"""

import itertools
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


# A table of contents' or an index's line: a title, then dot leaders or a space, then a page (a
# four-digit figure is more often a year). Such lines are short; longer ones are never tried.
MAX_CONTENTS_LINE_CHARS = 160
_DOT_LEADERS = re.compile(r"(?:[.·…_] ?){4,} *(\d{1,3}|[ivxlc]{1,6})$", re.IGNORECASE)
_TITLE_AND_PAGE = re.compile(r"^(?=.*[^\W\d_])[^\n]{2,90}?[^\d\s.,;:%$)] (\d{1,3}|[ivxlc]{1,6})$", re.IGNORECASE)
# Titles each followed only by a page number, this many lines in a row, are a table of contents.
CONTENTS_MIN_LINES = 3


def without_contents_lines(text: str) -> str:
    """`text` without table-of-contents and index lines, which point to the answer but never hold it.

    A line with dot leaders to a page number is one; so is a line that is a title followed only by
    a page number, in a run of at least CONTENTS_MIN_LINES such lines.
    """
    lines = text.split("\n")
    short = [line.strip() if len(line) <= MAX_CONTENTS_LINE_CHARS else "" for line in lines]
    dropped = [_has_dot_leaders(line) for line in short]
    listing = [leaders or bool(_TITLE_AND_PAGE.match(line)) for line, leaders in zip(short, dropped, strict=True)]
    for start, run in _runs(listing):
        if len(run) >= CONTENTS_MIN_LINES:
            dropped[start:start + len(run)] = [True] * len(run)
    return "\n".join(line for line, drop in zip(lines, dropped, strict=True) if not drop)


def _has_dot_leaders(line: str) -> bool:
    """A title, then dot leaders to a page number ("3.2 Installation .......... 45")."""
    leaders = _DOT_LEADERS.search(line) if "...." in line.replace(" ", "") or "…" in line else None
    return leaders is not None and any(char.isalpha() for char in line[:leaders.start()])


def _runs(flags: list[bool]) -> list[tuple[int, list[bool]]]:
    """Where each run of true flags starts, and the run."""
    runs, start = [], 0
    for value, group in itertools.groupby(flags):
        group = list(group)
        if value:
            runs.append((start, group))
        start += len(group)
    return runs


def clean_text(text: str) -> str:
    """One space between words, lines without edge spaces, at most one blank line in a row."""
    text = _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def title_from_name(file_name: str) -> str:
    return Path(file_name).stem.replace("_", " ").strip() or file_name


def exception_words(exc: Exception) -> str:
    return str(exc).strip().rstrip(".")[:200] or type(exc).__name__
