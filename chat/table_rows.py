"""A table row told as an answer: its label, then each figure under its column heading, with the table's unit.

A row comes as one line of cells (datasources/chunk_format.py): "Data Center; Three Months Ended July 30,
2023: $ 14,514; Three Months Ended July 31, 2022: $ 3,833", maybe after a unit line ("Unit: in millions").
The answer keeps the label and the figures the question asks for, each with its heading, and states the
unit once: "Data Center — Three Months Ended July 30, 2023: $14,514 million; …". Only the spaces inside a
figure ("$ 14,514", "15.7 %") and the scale word change; every figure, heading and label is the table's.
Rows extracted before tables kept their headings have bare cells ("Data Center; $ 14,514; $ 3,833"), and
sometimes a "%" or "$" split into a cell of its own; such a cell is joined back to its figure.
"""

import re
from dataclasses import dataclass

from datasources import chunk_format
from datasources.indexes.lexical import reads_as_row, tokenize

# A cell's value that is one figure: "$ 14,514", "(1,204)", "15.7 %", "-3.2", "1,204.5 €", or a dash for none.
_FIGURE = re.compile(r"^(?:[-−–(]?\s*[$€£¥]?\s*\(?\d[\d,]*(?:\.\d+)?\)?\s*%?\s*[$€£¥]?\)?|[-−–—])$")
_DIGIT = re.compile(r"\d")
_SPACE_IN_FIGURE = re.compile(r"(?<=[$€£¥(])\s+(?=[\d(])|(?<=\d)\s+(?=%)")
# A unit that is only a scale ("in millions", "$ in millions") is said after each figure ("$14,514 million"); any other
# ("in millions, except per share data", "USD") once, after the label, in its own words.
_SCALE = re.compile(r"^\(?(?:[$€£¥]\s*|dollars\s+)?in (thousands|millions|billions)\)?$", re.IGNORECASE)
_HEADING = chunk_format.HEADING_SEPARATOR
_SYMBOLS = chunk_format.CURRENCY | {chunk_format.PERCENT}
_YEAR = re.compile(r"^(?:19|20)\d\d$")
_SPACE_IN_BRACKETS = re.compile(r"(?<=\()\s+|\s+(?=\))")
# Column headings on one line above an unruled table have at most this many words each ("Sep 30, 2024"), over at
# most this many columns.
HEADING_WORDS = 4
MAX_COLUMNS = 12
# Words of a question asking for a share: with no column heading naming what it asks for, a row's percentages are
# shown first ("5.000%", the coupon rate at the end of a holdings row, not its quantity and price).
SHARE_WORDS = frozenset({"percent", "percentage", "rate", "ratio", "yield"})
# A word's signs (`_shape`): ASCII digits, capitals and small letters by a table (one pass, where three regular
# expressions took twice the time; other digits by `_DIGIT`), then each run of one sign as one.
_SIGNS = str.maketrans({**dict.fromkeys("0123456789", "9"), **dict.fromkeys("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "A"),
                        **dict.fromkeys("abcdefghijklmnopqrstuvwxyz", "a")})
_RUNS = re.compile(r"9+|A+|a+")


@dataclass(frozen=True)
class Figure:
    heading: str  # "" in a row whose cells have no headings
    value: str

    def terms(self) -> set[str]:
        return set(tokenize(self.heading))


@dataclass(frozen=True)
class Row:
    label: str  # the cells before its first figure, as written
    figures: list[Figure]
    unit: str | None  # what the table's unit line states

    @property
    def headed(self) -> bool:
        return any(figure.heading for figure in self.figures)

    def label_terms(self) -> list[str]:
        """The label's words, as a row's label is matched to a question (datasources/indexes/lexical.py)."""
        return [term for term in dict.fromkeys(tokenize(self.label)) if len(term) > 1 and not term[0].isdigit()]

    def heading_terms(self) -> frozenset[str]:
        return frozenset(term for figure in self.figures for term in figure.terms())

    def words(self) -> str:
        """What the row says, its headings aside: the headings name its columns, which every row shares."""
        return " ".join([self.label, *(figure.value for figure in self.figures)])


def parse(line: str, unit: str | None = None) -> Row | None:
    """The row a line holds, when it is a labelled row of figures; None for prose, for a row of dashes,
    or for a row whose label was lost (its figures would be told as someone else's). A line of a table
    drawn without rules ("Total operating expenses $ 6,026 $ 6,710 17,156") is split into its label and
    its figures when the index reads it as a row (datasources/indexes/lexical.py, `row_label`)."""
    if chunk_format.is_table_row(line):
        pieces = chunk_format.cells(line)
    elif reads_as_row(line):
        pieces = _unruled_cells(line)
    else:
        return None
    label: list[str] = []
    figures: list[Figure] = []
    for _, cell in chunk_format.joined_symbols([("", cell) for cell in pieces]):
        heading, _, value = cell.rpartition(_HEADING)
        if _FIGURE.match(value.strip()):
            figures.append(Figure(heading.strip(), value.strip()))
        elif not figures:
            label.append(cell)
    if not label or not any(_DIGIT.search(figure.value) for figure in figures):
        return None
    return Row(chunk_format.CELL_SEPARATOR.join(label), figures, unit)


def _unruled_cells(line: str) -> list[str]:
    """A row without rules as cells: the words before its figures, then each figure. A "$" or "%" set
    apart is joined to its figure by `chunk_format.joined_symbols`, a bracket here ("(525 )": "(525)").
    No cells when the line ends in a date or in years, not figures."""
    words = _SPACE_IN_BRACKETS.sub("", line).split()
    start = len(words)
    while start and (_FIGURE.match(words[start - 1]) or words[start - 1] in _SYMBOLS):
        start -= 1
    figures = words[start:]
    if any(_YEAR.match(word) or word.endswith(",") for word in figures):
        return []  # a date ("July 1 – July 31, 2015") or a line of column headings, not figures
    return [" ".join(words[:start]).rstrip(":"), *figures]  # "Balance at 1 March: £44,079.83"


def column_headings(line: str, count: int) -> list[str] | None:
    """The `count` (two or more) column headings a line ends in, when it ends in that many alike ones, each with a
    digit in it and none a figure but a year ("Firm ($ millions, except per share data) 3Q 2024 3Q 2023": "3Q
    2024", "3Q 2023"; "Sep 30, 2024 Sep 30, 2023"; "2023 2022"): the headings over an unruled table's figures,
    written on one line. None when it does not: a line of figures ("17.5% 13.5%") heads nothing."""
    return _headings(*_shaped_ending(line.split()), count)


def heads_columns(line: str) -> bool:
    """The line ends in two to MAX_COLUMNS column headings (`column_headings`)."""
    words = line.split()
    if not words or _DIGIT.search(words[-1]) is None:
        return False
    ending, shapes = _shaped_ending(words)
    return any(_headings(ending, shapes, count) for count in range(2, min(len(ending), MAX_COLUMNS) + 1))


def only_headings(line: str) -> bool:
    """The line is column headings and nothing else ("3Q 2024 3Q 2023", "TSM-360 TSM-365 TSM-370"): quoted alone,
    it names columns without their figures."""
    words = line.split()
    if len(words) > MAX_COLUMNS * HEADING_WORDS:
        return False
    shapes = [_shape(word) for word in words]
    return any(sum(len(heading.split()) for heading in headings) == len(words)
               for count in range(2, min(len(words), MAX_COLUMNS) + 1)
               if (headings := _headings(words, shapes, count)))


def one_heading_repeated(line: str) -> bool:
    """The line is one column heading over and over ("DE08.M.08(II) DE08.M.08(II) …"): a second row of headings,
    under one naming what tells the columns apart ("TSM-360 TSM-365 …"). Quoted, it names no column."""
    words = line.split()
    for size in range(1, HEADING_WORDS + 1):
        count, rest = divmod(len(words), size)
        if count < 2 or count > MAX_COLUMNS:
            continue
        heading = words[:size]
        if not rest and words == heading * count and _DIGIT.search(" ".join(heading)):
            return True
    return False


def _shaped_ending(words: list[str]) -> tuple[list[str], list[str]]:
    """The words at a line's end that column headings may take (MAX_COLUMNS headings of HEADING_WORDS words at
    most), and each one's shape: a heading's shape is its words' (runs of signs do not cross a space)."""
    ending = words[-MAX_COLUMNS * HEADING_WORDS:]
    return ending, [_shape(word) for word in ending]


def _headings(words: list[str], shapes: list[str], count: int) -> list[str] | None:
    if not 2 <= count <= MAX_COLUMNS:
        return None
    for size in range(1, HEADING_WORDS + 1):
        if size * count > len(words):
            break
        starts = range(len(words) - size * count, len(words), size)
        if len({" ".join(shapes[start:start + size]) for start in starts}) != 1:
            continue  # column headings are alike in shape
        headings = [" ".join(words[start:start + size]) for start in starts]
        if len(set(headings)) == count and all(_DIGIT.search(heading) and (_YEAR.match(heading) or not _FIGURE.match(
                heading)) for heading in headings):
            return headings
    return None


def with_headings(row: Row, headings: list[str]) -> Row:
    return Row(row.label, [Figure(heading, figure.value) for heading, figure in zip(headings, row.figures,
                                                                                     strict=True)], row.unit)


def _shape(text: str) -> str:
    """Digits, capitals and small letters each as one sign, runs of them as one: "Sep 30, 2024" is "Aa 9, 9"."""
    signs = text.translate(_SIGNS) if text.isascii() else _DIGIT.sub("9", text.translate(_SIGNS))
    return _RUNS.sub(lambda run: run.group()[0], signs)


def chosen_figures(row: Row, wanted: set[str], most: int) -> list[Figure]:
    """At most `most` of the row's figures: those under the headings that name what the question names
    (a period, a date, a region) when some do, else the first ones (a table's latest period comes first),
    its percentages first when the question asks for a share (SHARE_WORDS)."""
    shared = set.intersection(*(figure.terms() for figure in row.figures))
    named = [len((figure.terms() - shared) & wanted) for figure in row.figures]
    best = max(named)
    if not best:
        if wanted & SHARE_WORDS:
            return sorted(row.figures, key=lambda figure: not _is_share(figure))[:most]
        return row.figures[:most]
    return [figure for figure, count in zip(row.figures, named, strict=True) if count == best][:most]


def _is_share(figure: Figure) -> bool:
    return figure.value.rstrip().endswith(chunk_format.PERCENT)


def told(row: Row, figures: list[Figure]) -> str:
    """The row as a line of the answer: label, unit, and each figure with its heading."""
    scale = _SCALE.match(row.unit or "")
    suffix = f" {scale.group(1).lower()[:-1]}" if scale else ""
    unit = f" ({row.unit})" if row.unit and not scale else ""
    shown = [_tidy(figure.value, suffix) for figure in figures]
    if row.headed:
        shown = [f"{figure.heading}{_HEADING}{value}" if figure.heading else value
                 for figure, value in zip(figures, shown, strict=True)]
    return f"{row.label}{unit} — {chunk_format.CELL_SEPARATOR.join(shown)}"


def _tidy(value: str, suffix: str) -> str:
    value = _SPACE_IN_FIGURE.sub("", value)
    return value if value.endswith("%") or not _DIGIT.search(value) else value + suffix
