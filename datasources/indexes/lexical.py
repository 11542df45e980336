"""BM25 over the chunks' words: one small inverted index per data source, searched in each process.

The same code serves SQLite and Postgres, and a chatbot searches any subset of its company's
data sources by combining their indexes at query time (term statistics are summed over the
searched sources, so scores are those of one index over exactly those chunks). Besides the
postings, an index keeps each chunk's rows of figures by the words of their labels
(`FigureRows`) and the opening of the document (where it says what it is), with the latest date written there.

Where it lives: the pipeline builds a data source's index in its index step, from the chunks it
has just stored, and stores it in the database (`LexicalIndex`, one row per data source, deleted
with it); each web process loads it on first use and keeps it under the data source's
`updated_at`, which changes whenever processing finishes, in a cache of its own (IndexCache).
Re-processing or deleting a data source takes it out of the ready set first, so a stale index is
never searched. Built once by the worker rather than by every web process from the chunks' text:
tokenizing costs about 0.14 ms a chunk (0.6 s for the benchmark's twenty filings, 12 s at 100,000
chunks, docs/BENCHMARKS.md), paid by each web process at its first question after every change or
restart, while loading a stored index costs a fraction of that. A data source processed before
indexes were stored has its index built from its chunks, as before, until `manage.py reindex`
stores it. An index stored by a tokenizer of another version (TOKENIZER_VERSION) is likewise built
from the chunks until `manage.py reindex` stores it again: its words would not be the questions'.
"""

import datetime
import functools
import io
import itertools
import json
import math
import re
import threading
import uuid
from collections import Counter, OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from datasources import chunk_format
from datasources.models import Chunk, DataSource, LexicalIndex

K1, B = 1.2, 0.75
OPENING_CHUNKS = 8
# A row of figures: a line with at least this many numbers after a label of at most this many words
# ("Operating expenses 6,026 6,710", "Inventories; 4,319; 5,159"). Longer labels are sentences.
ROW_FIGURES = 2
ROW_LABEL_WORDS = 8
# Function words a row's label may hold: "Research and development", "Net cash provided by operations".
LABEL_CONNECTIVES = frozenset({"a", "an", "and", "at", "by", "for", "from", "in", "of", "on", "the", "to"})
CACHE_POSTINGS = 50_000_000  # about 400 MB of postings across the cached data sources
# Bumped when `tokenize` writes a word otherwise, so that indexes stored with the old words are not searched with
# the new ones (2: "taxes" folded to "tax", no longer "taxe").
TOKENIZER_VERSION = 2

_THOUSANDS_COMMA = re.compile(r"(?<=\d),(?=\d{3})")
_YEAR = re.compile(r"(19|20)\d\d")
_WORD = re.compile(r"[^\W\d_]+")
_TOKEN = re.compile(r"\d+(?:\.\d+)?|[^\W\d_]+")
_MONTHS = {name: number for number, name in enumerate(
    ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
     "november", "december"], start=1)}
_WRITTEN_DATE = re.compile(r"\b(" + "|".join(_MONTHS) + r")\s+(\d{1,2}),?\s+(\d{4})\b", re.IGNORECASE)
_ISO_DATE = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
# Words that say nothing about which passage answers: English function words and question words.
STOPWORDS = frozenset("""
a about above after again against all am an and any are as at be because been before being below between both
but by can could did do does doing down during each few for from further had has have having he her here hers
how i if in into is it its itself just me more most my no nor not now of off on once only or other our ours out
over own same she should so some such than that the their theirs them then there these they this those through
to too under until up very was we were what when where which while who whom why will with would you your yours
s t also may might must shall us
""".split())
_NOT_IN_LABELS = STOPWORDS - LABEL_CONNECTIVES


def tokenize(text: str) -> list[str]:
    """Lower-cased words and numbers (thousands commas dropped), function words out, plurals folded."""
    text = text.lower()
    words = _TOKEN.findall(_THOUSANDS_COMMA.sub("", text) if "," in text else text)
    # Only a word ending in "s" has a plural to fold: the others skip the call (tokenizing is a good share
    # of a question's CPU time: every line of every passage is read so).
    return [stem(word) if word[-1] == "s" else word for word in words if word not in STOPWORDS]


@functools.lru_cache(maxsize=1 << 16)
def stem(word: str) -> str:
    """Fold the commonest English plural forms, so "expenses" finds "expense" and "taxes" "tax"."""
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 4 and word.endswith(("sses", "xes", "ches", "shes")):  # losses, taxes, branches, wishes
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


@dataclass(frozen=True)
class SourceIndex:
    """One data source's chunks as postings: term → (rows, term frequencies)."""

    chunk_ids: list[str]
    lengths: np.ndarray  # tokens per row
    postings: dict[str, tuple[np.ndarray, np.ndarray]]
    opening: str  # the first chunks' text, in reading order: where a document says what it is
    figure_rows: "FigureRows"
    tokenizer: int = TOKENIZER_VERSION  # the version of `tokenize` that wrote its words
    # The latest date the opening writes: the period the document reports on. Read as the index is built or loaded
    # (about 0.4 ms a document), which a web process does as it starts, not at its first question.
    opening_date: datetime.date | None = field(init=False, compare=False)
    # Tokens in all its chunks, and each term's count once asked for: every question weighs its words in every
    # document searched (chat/retrieval/documents.py), where summing the arrays again took about 0.5 ms a question.
    total_length: float = field(init=False, compare=False)
    _term_counts: dict[str, float] = field(init=False, compare=False, repr=False)

    def __post_init__(self):
        object.__setattr__(self, "opening_date", latest_date(self.opening))
        object.__setattr__(self, "total_length", float(self.lengths.sum()))
        object.__setattr__(self, "_term_counts", {})

    @classmethod
    def build(cls, rows: Iterable[tuple[str, str]]) -> "SourceIndex":
        chunk_ids, lengths, opening = [], [], []
        rows_of: dict[str, list[int]] = {}
        counts_of: dict[str, list[int]] = {}
        labels: list[tuple[int, list[str]]] = []
        for row, (chunk_id, text) in enumerate(rows):
            context, body = chunk_format.context_and_body(text)
            # Tokens never span lines, so a chunk's tokens are its lines' tokens one after another.
            tokens_of = [tokenize(line) for line in [context, *body]]
            tokens = [token for line_tokens in tokens_of for token in line_tokens]
            chunk_ids.append(chunk_id)
            if row < OPENING_CHUNKS:
                opening.append(text)
            lengths.append(len(tokens))
            for term, count in Counter(tokens).items():
                rows_of.setdefault(term, []).append(row)
                counts_of.setdefault(term, []).append(count)
            # The context line says where the chunk is, not what it holds: no row of figures there.
            labels.extend((row, label) for label in map(row_label, body, tokens_of[1:]) if label)
        postings = {term: (np.array(rows_of[term], dtype=np.int32), np.array(counts_of[term], dtype=np.float32))
                    for term in rows_of}
        return cls(chunk_ids, np.array(lengths, dtype=np.float32), postings, "\n".join(opening),
                   FigureRows.build(labels))

    def to_bytes(self) -> bytes:
        """The index as it is stored: an .npz archive of its arrays, postings end to end, and of its
        strings in JSON; nothing in it is pickled, so loading it cannot run code."""
        terms, words = list(self.postings), list(self.figure_rows.lines)
        strings = {"chunk_ids": self.chunk_ids, "opening": self.opening, "terms": terms, "label_words": words,
                   "tokenizer": self.tokenizer}
        archive = io.BytesIO()
        np.savez(archive, strings=np.frombuffer(json.dumps(strings).encode(), dtype=np.uint8), lengths=self.lengths,
                 **_end_to_end("posting_rows", [self.postings[term][0] for term in terms], np.int32),
                 **_end_to_end("posting_counts", [self.postings[term][1] for term in terms], np.float32),
                 **_end_to_end("label_rows", [self.figure_rows.lines[word] for word in words], np.int32),
                 label_sizes=self.figure_rows.sizes, label_chunk_rows=self.figure_rows.chunk_rows)
        return archive.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> "SourceIndex":
        with np.load(io.BytesIO(data), allow_pickle=False) as archive:
            arrays = dict(archive)
        strings = json.loads(arrays["strings"].tobytes())
        rows, counts = _apart(arrays, "posting_rows"), _apart(arrays, "posting_counts")
        postings = {term: (rows[n], counts[n]) for n, term in enumerate(strings["terms"])}
        figure_rows = FigureRows(dict(zip(strings["label_words"], _apart(arrays, "label_rows"), strict=True)),
                                 arrays["label_sizes"], arrays["label_chunk_rows"])
        return cls(strings["chunk_ids"], arrays["lengths"], postings, strings["opening"], figure_rows,
                   strings.get("tokenizer", 1))

    @property
    def current(self) -> bool:
        """Its words are written as `tokenize` writes the questions' (TOKENIZER_VERSION)."""
        return self.tokenizer == TOKENIZER_VERSION

    @property
    def size(self) -> int:
        """Entries in its postings, the figure rows' included (what the cache's budget counts)."""
        return sum(len(rows) for rows, _ in self.postings.values()) + self.figure_rows.size

    def named_rows(self, weights: dict[str, float]) -> dict[str, float]:
        """`FigureRows.named` by chunk id."""
        return {self.chunk_ids[row]: weight for row, weight in self.figure_rows.named(weights).items()}

    def term_count(self, term: str) -> float:
        """How often the term occurs in the whole data source."""
        count = self._term_counts.get(term)
        if count is None:
            posting = self.postings.get(term)
            if posting is None:
                return 0.0  # not remembered: the words a question may use are without number, the index's are not
            count = self._term_counts[term] = float(posting[1].sum())
        return count


def latest_date(text: str) -> datetime.date | None:
    """The latest date the text writes ("July 1, 2023", "2023-07-01")."""
    dates = [_date(int(year), _MONTHS[month.lower()], int(day)) for month, day, year in _WRITTEN_DATE.findall(text)]
    dates += [_date(int(year), int(month), int(day)) for year, month, day in _ISO_DATE.findall(text)]
    return max((date for date in dates if date is not None), default=None)


def _date(year: int, month: int, day: int) -> datetime.date | None:
    try:
        return datetime.date(year, month, day)
    except ValueError:
        return None


def reads_as_row(line: str) -> bool:
    """The line is a row of figures (`row_label`)."""
    return line_label(line) is not None


@functools.lru_cache(maxsize=1 << 14)
def line_label(line: str) -> tuple[str, ...] | None:
    """`row_label` of a line, remembered: the answerer asks it of every line and sentence of every passage,
    several times, and a chunk's lines come back with every question that retrieves it."""
    label = row_label(line)
    return tuple(label) if label is not None else None


def row_label(line: str, tokens: list[str] | None = None) -> list[str] | None:
    """The label's distinct words when the line (`tokens`: its tokens, when known) is a row of figures,
    else None. A row ends with a figure ("2The flight control system for 737 MAX airplanes" is a line
    of a sentence); years are not figures ("Q1 2022 Q1 2023" is a header), single letters are not
    words ("Q" of "Q3"); a label's first word has a capital (one in lower case continues a sentence:
    "period 1 (46) 15"; "iPhone" is a name), and a label holding function words other than
    connectives is a phrase, not a row's name ("during the period 28 (19)", "Other, net (264)",
    "Revenue down $1.2B or 8%"). A table row's column headings name its columns, not the row: they
    are left out."""
    unheaded = chunk_format.without_headings(line)
    if unheaded != line:
        line, tokens = unheaded, None
    tokens = tokenize(line) if tokens is None else tokens
    figures = sum(1 for token in tokens if token[0].isdigit() and not _YEAR.fullmatch(token))
    if figures < ROW_FIGURES or not tokens[-1][0].isdigit():
        return None
    label = list(dict.fromkeys(token for token in tokens if not token[0].isdigit() and len(token) > 1))
    if not 0 < len(label) <= ROW_LABEL_WORDS:
        return None
    words = _WORD.findall(line)
    if words[0].islower() or any(word.lower() in _NOT_IN_LABELS for word in words):
        return None
    return label


@dataclass(frozen=True)
class FigureRows:
    """A data source's rows of figures, by the words of their labels."""

    lines: dict[str, np.ndarray]  # label word → the figure rows (numbered in reading order) whose label has it
    sizes: np.ndarray  # figure row → distinct words in its label
    chunk_rows: np.ndarray  # figure row → the chunk (its row in the SourceIndex) that holds it

    @classmethod
    def build(cls, labels: list[tuple[int, list[str]]]) -> "FigureRows":
        lines: dict[str, list[int]] = {}
        for line, (_, label) in enumerate(labels):
            for word in label:
                lines.setdefault(word, []).append(line)
        return cls({word: np.array(rows, dtype=np.int32) for word, rows in lines.items()},
                   np.array([len(label) for _, label in labels], dtype=np.int32),
                   np.array([row for row, _ in labels], dtype=np.int32))

    @property
    def size(self) -> int:
        return sum(len(rows) for rows in self.lines.values())

    def named(self, weights: dict[str, float]) -> dict[int, float]:
        """Chunks (by row) holding a figure row whose label the question names in full (every word of
        it among the question's words), each with the largest such label's weight (its words' IDF),
        in reading order."""
        named = [(self.lines[term], weight) for term, weight in weights.items() if term in self.lines]
        if not named:
            return {}
        lines = np.concatenate([rows for rows, _ in named])
        label_weights = np.concatenate([np.full(len(rows), weight) for rows, weight in named])
        found, position, words = np.unique(lines, return_inverse=True, return_counts=True)
        weight = np.bincount(position, weights=label_weights)
        whole = words == self.sizes[found]
        best: dict[int, float] = {}
        for row, value in zip(self.chunk_rows[found[whole]].tolist(), weight[whole].tolist(), strict=True):
            best[row] = max(best.get(row, 0.0), value)
        return best


def _end_to_end(name: str, parts: list[np.ndarray], dtype) -> dict[str, np.ndarray]:
    """Arrays as one array and the offsets where each starts (and the last ends)."""
    return {name: np.concatenate([np.zeros(0, dtype=dtype), *parts]),
            f"{name}_bounds": np.cumsum([0, *map(len, parts)], dtype=np.int64)}


def _apart(arrays: dict[str, np.ndarray], name: str) -> list[np.ndarray]:
    joined, bounds = arrays[name], arrays[f"{name}_bounds"].tolist()
    return [joined[start:end] for start, end in itertools.pairwise(bounds)]


def search(indexes: list[SourceIndex], terms: list[str], top_k: int) -> list[tuple[str, float]]:
    """(chunk id, BM25 score) of the best chunks across these indexes, best first."""
    total_rows = sum(len(index.chunk_ids) for index in indexes)
    weights = idf(indexes, terms)
    if not weights:
        return []
    average_length = max(sum(index.total_length for index in indexes) / total_rows, 1.0)
    found: list[tuple[float, str]] = []
    for index in indexes:
        scores = np.zeros(len(index.chunk_ids), dtype=np.float32)
        norms = K1 * (1 - B + B * index.lengths / average_length)
        for term, weight in weights.items():
            posting = index.postings.get(term)
            if posting is not None:
                rows, counts = posting
                scores[rows] += weight * counts * (K1 + 1) / (counts + norms[rows])
        best = np.flatnonzero(scores)
        if len(best) > top_k:
            best = best[np.argpartition(-scores[best], top_k - 1)[:top_k]]
        found.extend((float(scores[row]), index.chunk_ids[row]) for row in best)
    found.sort(key=lambda pair: -pair[0])
    return [(chunk_id, score) for score, chunk_id in found[:top_k]]


def known_share(indexes: list[SourceIndex], terms: list[str]) -> float:
    """The share of the question's informative weight (IDF) carried by words the documents use."""
    weights = _weights(indexes, terms)
    total = sum(weight for _, weight in weights.values())
    return sum(weight for frequency, weight in weights.values() if frequency) / total if total else 0.0


def idf(indexes: list[SourceIndex], terms: list[str]) -> dict[str, float]:
    """Each of the question's words the searched chunks use, with its BM25 inverse document frequency."""
    return {term: weight for term, (frequency, weight) in _weights(indexes, terms).items() if frequency}


def _weights(indexes: list[SourceIndex], terms: list[str]) -> dict[str, tuple[int, float]]:
    """Per distinct term: in how many of the searched chunks it occurs, and its IDF over them."""
    total_rows = sum(len(index.chunk_ids) for index in indexes)
    weights = {}
    for term in dict.fromkeys(terms):
        frequency = sum(len(index.postings[term][0]) for index in indexes if term in index.postings)
        weights[term] = (frequency, math.log(1 + (total_rows - frequency + 0.5) / (frequency + 0.5)))
    return weights


class IndexCache:
    """Each process's loaded indexes, least recently used dropped beyond a budget of postings."""

    def __init__(self, budget: int = CACHE_POSTINGS):
        self.budget = budget
        self._indexes: OrderedDict[tuple[uuid.UUID, str], SourceIndex] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, data_source_id: uuid.UUID, stamp: str) -> SourceIndex:
        key = (data_source_id, stamp)
        with self._lock:
            index = self._indexes.get(key)
            if index is not None:
                self._indexes.move_to_end(key)
                return index
        index = load(data_source_id)
        with self._lock:
            for stale in [key for key in self._indexes if key[0] == data_source_id]:
                del self._indexes[stale]
            self._indexes[key] = index
            while len(self._indexes) > 1 and sum(i.size for i in self._indexes.values()) > self.budget:
                self._indexes.popitem(last=False)
        return index


source_indexes = IndexCache()


def store(data_source: DataSource, chunks: Sequence[Chunk]) -> None:
    """Build the data source's index from its chunks, in reading order, and store it in place of the last."""
    index = SourceIndex.build((chunk.id, chunk.text) for chunk in chunks)
    LexicalIndex.objects.update_or_create(data_source=data_source, defaults={"data": index.to_bytes()})


def load(data_source_id: uuid.UUID) -> SourceIndex:
    """The data source's stored index; built from its chunks when none is stored yet (processed before
    indexes were stored, and `manage.py reindex` not run since) or the stored one holds another tokenizer's words."""
    stored = LexicalIndex.objects.filter(data_source_id=data_source_id).values_list("data", flat=True).first()
    if stored is not None and (index := SourceIndex.from_bytes(stored)).current:
        return index
    rows = (Chunk.objects.filter(data_source_id=data_source_id).order_by("position")
            .values_list("id", "text").iterator(chunk_size=2000))
    return SourceIndex.build(rows)
