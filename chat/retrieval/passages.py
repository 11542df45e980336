"""Ranked chunks become passages: neighbours of one page or table merged, repeats dropped, lines a better-ranked
passage of the same document gives left out."""

import uuid
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from chat import table_rows
from datasources import chunk_format
from datasources.models import Chunk

# How many ranked chunks are read to fill top_k passages, since merging and repeats consume some.
READ_FACTOR = 4
# Two passages whose word sets overlap this much say the same thing; the lower-ranked one is dropped.
DUPLICATE_OVERLAP = 0.9
# Chunks just before each passage, on the same page or sheet, added to it when the passage opens with a table
# row (the table's caption, headings and first rows often sit before the chunk that matched) or when the chunk
# holds TABLE_ROWS_AFTER table rows (the figures a paragraph comments on). Prose before prose is left out, which
# leaves room for more passages within a reader's budget (measured on both development sets: docs/BENCHMARKS.md,
# "Why the retrieval constants have their values").
WIDEN_BEFORE = 1
# A line this long that a better-ranked passage of the same document already gives is left out of a passage.
REPEATED_LINE_CHARS = 30
# A passage also takes the next chunk of its page when that chunk holds this many table rows: a table's
# caption and first rows match a question best, and the rows it asks about often follow in the next chunk.
TABLE_ROWS_AFTER = 3


@dataclass(frozen=True)
class Candidate:
    chunk_id: str
    score: float


@dataclass
class Passage:
    chunk_id: str  # the best-ranked chunk of the passage
    data_source_id: uuid.UUID
    file_name: str
    page_number: int | None
    sheet: str | None
    row_start: int | None
    row_end: int | None
    text: str
    score: float
    rank: int  # 1 for the best passage
    chunk_ids: list[str] = field(default_factory=list)  # every chunk merged in, in reading order
    positions: tuple[int, int] = (0, 0)  # first and last chunk position within the data source
    page_url: str | None = None  # the web page it was read from (a website data source): http or https only

    @property
    def location(self) -> str:
        """Where a reader finds it: "report.pdf page 2", "prices.xlsx sheet Q3 rows 15-20", a page's URL."""
        if self.page_url:
            return self.page_url
        if self.sheet is not None:
            if self.row_start is None:
                return f"{self.file_name} sheet {self.sheet}"
            if self.row_start == self.row_end:
                return f"{self.file_name} sheet {self.sheet} row {self.row_start}"
            return f"{self.file_name} sheet {self.sheet} rows {self.row_start}-{self.row_end}"
        if self.page_number is not None:
            return f"{self.file_name} page {self.page_number}"
        return self.file_name


def build_passages(company_id: uuid.UUID, ranked: list[Candidate], top_k: int, *, merge: bool = True,
                   chunks: dict[str, Chunk] | None = None) -> list[Passage]:
    """The first `top_k` passages of a ranking, reading its chunks from the company's own rows only
    (those of `chunks`, from `read_chunks`, are not read again).

    With `merge=False` every chunk is a passage of its own (to measure a search by itself).
    """
    head = ranked[: top_k * READ_FACTOR]
    chunks = dict(chunks or {})
    chunks.update(read_chunks(company_id, [c.chunk_id for c in head if c.chunk_id not in chunks]))
    passages: list[Passage] = []
    for candidate in head:
        chunk = chunks.get(candidate.chunk_id)
        if chunk is None:
            continue  # deleted since it was indexed
        neighbour = next((p for p in passages if _adjacent(p, chunk)), None) if merge else None
        if neighbour is not None:
            _merge(neighbour, chunk)
        elif not merge or not any(_repeats(p.text, chunk.text) for p in passages):
            if len(passages) == top_k:
                break
            passages.append(_passage(chunk, candidate.score))
    if merge and passages:
        _widen(company_id, passages)
        passages = _without_repeated_lines(_distinct(passages))
    for rank, passage in enumerate(passages, start=1):
        passage.rank = rank
    return passages


def read_chunks(company_id: uuid.UUID, chunk_ids: list[str]) -> dict[str, Chunk]:
    """The company's own chunks among these ids, by id."""
    if not chunk_ids:
        return {}
    return {chunk.id: chunk for chunk in _own(company_id, Chunk.objects.filter(id__in=chunk_ids))}


def _widen(company_id: uuid.UUID, passages: list[Passage]) -> None:
    """Add the chunk just before each passage on the same page or sheet when the passage opens with a table
    row (the table's caption, headings and first rows often sit before the chunk that matched) or that chunk
    holds a table (the figures a paragraph comments on), and the next chunk when the passage's table goes on
    there."""
    # Read by primary key (a chunk's id is its data source's and its position's): one OR per passage of data
    # source and positions took longer to compile than to run.
    wanted = [chunk_format.chunk_id(passage.data_source_id, position) for passage in passages
              for position in [*range(passage.positions[0] - WIDEN_BEFORE, passage.positions[0]),
                               passage.positions[1] + 1]
              if position >= 0]
    near = {(chunk.data_source_id, chunk.position): chunk for chunk in read_chunks(company_id, wanted).values()}
    for passage in passages:
        after = near.get((passage.data_source_id, passage.positions[1] + 1))
        if after is not None and _table_rows(after.text) >= TABLE_ROWS_AFTER:
            _join(passage, after)
        for _ in range(WIDEN_BEFORE):
            before = near.get((passage.data_source_id, passage.positions[0] - 1))
            if before is None or not (_opens_with_row(passage.text) or _table_rows(before.text) >= TABLE_ROWS_AFTER):
                break
            _join(passage, before)


def _join(passage: Passage, chunk: Chunk) -> None:
    if _adjacent(passage, chunk) and chunk.id not in passage.chunk_ids:
        _merge(passage, chunk)


def _without_repeated_lines(passages: list[Passage]) -> list[Passage]:
    """Each passage without the lines of REPEATED_LINE_CHARS or more that a better-ranked passage of its document
    already gives (a sentence the syllabus and the opinion share, the overlap of two chunks, a form's repeated
    labels), so that the passages within a reader's budget say more; a passage left with nothing of its own is
    dropped. A line that gives a table its shape stays: a context line, a unit line, a line of column headings."""
    given: set[tuple[uuid.UUID, str]] = set()
    kept_passages: list[Passage] = []
    for passage in passages:
        context, *lines = passage.text.split("\n")
        kept = [line for line in lines if len(line) < REPEATED_LINE_CHARS
                or (passage.data_source_id, line) not in given or _shapes_table(line)]
        given.update((passage.data_source_id, line) for line in lines)
        if len(kept) == len(lines) or any(line.strip() and not _shapes_table(line) for line in kept):
            passage.text = "\n".join([context, *kept])
            kept_passages.append(passage)
    return kept_passages


def _shapes_table(line: str) -> bool:
    return (chunk_format.CONTEXT_SEPARATOR in line or chunk_format.stated_unit(line) is not None
            or table_rows.heads_columns(line))


def _opens_with_row(text: str) -> bool:
    """The first line of the text's body is a table row."""
    first = next((line for line in chunk_format.context_and_body(text)[1] if line.strip()), "")
    return chunk_format.is_table_row(first)


def _table_rows(text: str) -> int:
    return sum(1 for line in text.split("\n") if chunk_format.is_table_row(line))


def _own(company_id: uuid.UUID, rows) -> list[Chunk]:
    """The company's chunks among `rows`. Checked here rather than in SQL: with the company in the
    WHERE clause SQLite walks the company's index instead of the primary key or (data source,
    position), a scan of every chunk the company has (about 30 ms a query at 100,000 chunks)."""
    # Unordered: the model's ordering by data source would join the data sources' table to sort rows that the
    # callers look up by id or position anyway.
    rows = rows.order_by().only("id", "company_id", "data_source_id", "position", "text", "metadata")
    return [chunk for chunk in rows if chunk.company_id == company_id]


def _distinct(passages: list[Passage]) -> list[Passage]:
    """Widening can grow a passage into chunks a better-ranked one already holds all of: it is dropped."""
    kept: list[Passage] = []
    for passage in passages:
        if not any(set(passage.chunk_ids) <= set(other.chunk_ids) for other in kept):
            kept.append(passage)
    return kept


def _passage(chunk: Chunk, score: float) -> Passage:
    metadata = chunk.metadata
    return Passage(
        chunk_id=chunk.id, data_source_id=chunk.data_source_id, file_name=metadata.get("file_name", ""),
        page_number=metadata.get("page_number"), sheet=metadata.get("sheet"),
        row_start=metadata.get("row_start"), row_end=metadata.get("row_end"), text=chunk.text, score=score,
        rank=0, chunk_ids=[chunk.id], positions=(chunk.position, chunk.position),
        page_url=web_url(metadata.get("url")),
    )


def web_url(url) -> str | None:
    """A crawled page's URL, kept only when it is http or https: it is shown to visitors as a link."""
    if not isinstance(url, str) or urlsplit(url).scheme not in ("http", "https"):
        return None
    return url


def _adjacent(passage: Passage, chunk: Chunk) -> bool:
    """The chunk continues the passage (or precedes it) on the same page or sheet."""
    metadata = chunk.metadata
    first, last = passage.positions
    return (chunk.data_source_id == passage.data_source_id
            and chunk.position in (first - 1, last + 1)
            and metadata.get("page_number") == passage.page_number
            and web_url(metadata.get("url")) == passage.page_url
            and metadata.get("sheet") == passage.sheet)


def _merge(passage: Passage, chunk: Chunk) -> None:
    first, last = passage.positions
    if chunk.position == last + 1:
        passage.text = join_overlapping(passage.text, chunk.text)
        passage.chunk_ids.append(chunk.id)
        passage.positions = (first, chunk.position)
    else:
        passage.text = join_overlapping(chunk.text, passage.text)
        passage.chunk_ids.insert(0, chunk.id)
        passage.positions = (chunk.position, last)
    rows = [r for r in (passage.row_start, passage.row_end, chunk.metadata.get("row_start"),
                        chunk.metadata.get("row_end")) if r is not None]
    if rows:
        passage.row_start, passage.row_end = min(rows), max(rows)


def join_overlapping(before: str, after: str) -> str:
    """`before` then `after`, without the context lines they share at the top nor the text they overlap by."""
    before_lines, after_lines = before.split("\n"), after.split("\n")
    shared = 0
    while shared < min(len(before_lines), len(after_lines)) - 1 and before_lines[shared] == after_lines[shared]:
        shared += 1
    body = "\n".join(after_lines[shared:])
    overlap = _overlap(before, body)
    return before + body[overlap:] if overlap else before + "\n" + body


def _overlap(before: str, after: str) -> int:
    """The length of the longest end of `before` that `after` starts with."""
    probe = after[:20]
    start = before.find(probe, max(0, len(before) - len(after)))
    while start != -1:
        if after.startswith(before[start:]):
            return len(before) - start
        start = before.find(probe, start + 1)
    return 0


def _repeats(kept: str, text: str) -> bool:
    kept_words, words = set(kept.lower().split()), set(text.lower().split())
    if not words:
        return True
    return len(kept_words & words) / len(words) >= DUPLICATE_OVERLAP
