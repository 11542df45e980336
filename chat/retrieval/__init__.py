"""Retrieval: the one place a question becomes passages of a chatbot's documents.

Everything is scoped to the chatbot's company and to its own ready data sources. A question that
names some of those documents (a company, a period, "the latest") is narrowed to them
(chat/retrieval/documents.py), and one that names only things those documents never use gets
nothing; two searches run over what remains, dense (the vector index) and lexical (BM25), both
through `chunk_search` (datasources/indexes/), and are fused by a weighted sum of their scaled
scores; each document's chunk with the row of figures the question names goes up, and chunks with a
line that holds the question's words together gain a little; a question below the relevance floor
of the embedder in use gets nothing; the ranked chunks become passages, with neighbouring chunks of
one page or table merged (chat/retrieval/passages.py).

Every choice below was measured on the twenty 10-Q filings of bench/chat_retrieval.py; the figures
of each step and of the values tried for each constant are in docs/BENCHMARKS.md ("Chat retrieval").
The refusal rules were measured on both development sets of bench/answers.py ("Refusal rules on any
document").
"""

import functools
import re
import uuid
from collections import Counter
from dataclasses import dataclass

from chat.retrieval import documents
from chat.retrieval.passages import READ_FACTOR, Candidate, Passage, build_passages, read_chunks
from datasources import chunk_format
from datasources.embedders import LexicalOnly, get_embedder
from datasources.indexes import ChunkSearch
from datasources.indexes.lexical import tokenize
from datasources.models import Chunk, DataSource
from datasources.selectors import chunk_search

__all__ = ["Passage", "Scope", "retrieve"]

# Candidates each search contributes to fusion: fewer miss answers, more add nothing.
POOL = 100
# fused score = DENSE_WEIGHT × dense + (1 − DENSE_WEIGHT) × lexical, each min-max scaled over its
# candidates: meaning and exact words count alike, which beat either alone and rank fusion.
DENSE_WEIGHT = 0.5
# Documents whose affinity to the question is at least this share of the best one's are searched:
# a question names its documents less sharply than its words suggest.
TARGET_SHARE = 0.75
# A chunk with one line (a table row, a sentence) that holds the question's informative words together
# gains up to this much on its fused score: words side by side answer better than words scattered.
PROXIMITY_WEIGHT = 0.1
# In each searched document, the chunk with the figure row the question names most fully (every word
# of the row's label among the question's words, the most informative such label: "operating
# expenses" in "Operating expenses 6,026 6,710") gains this much, scaled by its label's weight over
# the best document's: above 1.1 the best document's row goes ahead of anything the searches found
# (fused scores are at most 1, proximity adds at most 0.1).
ROW_WEIGHT = 1.5


def retrieve(*, chatbot, question: str, top_k: int | None = None) -> list[Passage]:
    """The passages that best answer `question` among the chatbot's documents, best first.

    Empty when the chatbot has no ready documents or nothing clears the relevance floor.
    """
    scope = Scope.of(chatbot)
    return scope.retrieve(question, top_k or chatbot.top_k)


@dataclass(frozen=True)
class Scope:
    """The company's ready data sources that one chatbot answers from, searched through both their indexes."""

    search: ChunkSearch

    @classmethod
    def of(cls, chatbot) -> "Scope":
        sources = DataSource.objects.filter(chatbots=chatbot)
        return cls(chunk_search(company_id=chatbot.company_id, data_sources=sources))

    @property
    def company_id(self) -> uuid.UUID:
        return self.search.company_id

    @property
    def sources(self) -> dict[uuid.UUID, DataSource]:
        return self.search.sources

    def retrieve(self, question: str, top_k: int) -> list[Passage]:
        terms = tokenize(question)
        if not self.sources or not terms:
            return []
        affinity = self.affinity(terms)
        targets = [source_id for source_id, share in affinity.items() if share >= TARGET_SHARE] or list(self.sources)
        if self.names_only_strangers(question, targets):
            return []
        dense = self.dense(question, POOL, targets)
        if not self.clears_floor(terms, dense):
            return []
        depth = top_k * READ_FACTOR
        weights, ranked, chunks = self.ranking(question, dense, targets, depth)
        if (spelled := spelled_out(question, [chunk.text for chunk in chunks.values()])) != question:
            # "R&D" is no word to look for: the words are searched for again as the documents spell them
            weights, ranked, chunks = self.ranking(spelled, dense, targets, depth)
        ranked = self.by_proximity(ranked, weights, chunks, depth=depth)
        if len(targets) < len(self.sources):
            ranked = interleave(ranked)
        return build_passages(self.company_id, ranked, top_k, chunks=chunks)

    def ranking(self, question: str, dense: list[Candidate], targets: list[uuid.UUID],
                depth: int) -> tuple[dict[str, float], list[Candidate], dict[str, Chunk]]:
        """The question's words' weights, the fused ranking with the named rows raised, and its first `depth`
        chunks, read."""
        weights = self.search.idf(tokenize(question), targets)
        ranked = self.by_named_rows(fuse(dense, self.lexical(question, POOL, targets)), weights, targets)
        return weights, ranked, read_chunks(self.company_id, [c.chunk_id for c in ranked[:depth]])

    def lexical(self, question: str, top_k: int, source_ids=()) -> list[Candidate]:
        return [Candidate(chunk_id, score)
                for chunk_id, score in self.search.lexical(tokenize(question), top_k, source_ids)]

    def dense(self, question: str, top_k: int, source_ids=()) -> list[Candidate]:
        """Nearest chunks by meaning; none when no embedder is configured or it fails (lexical-only)."""
        return [Candidate(chunk_id, score) for chunk_id, score in self.search.dense(question, top_k, source_ids)]

    def by_named_rows(self, ranked: list[Candidate], weights: dict[str, float], source_ids) -> list[Candidate]:
        """The ranking with each document's chunk holding the figure row the question names best raised by
        ROW_WEIGHT (scaled by its label's weight over the best one's), whether the searches found it
        or not: a table row answers "how much" better than prose that shares more of the question's
        wording, and neither search ranks a table of figures well (their words are few among numbers)."""
        scores = {candidate.chunk_id: candidate.score for candidate in ranked}
        best = []
        for source_id in source_ids:
            named = self.search.named_rows(source_id, weights)
            if named:  # ties go to the better-ranked chunk, then to the first in reading order
                best.append(max(named.items(), key=lambda item: (item[1], scores.get(item[0], 0.0))))
        if not best:
            return ranked
        top = max(weight for _, weight in best)
        for chunk_id, weight in best:
            scores[chunk_id] = scores.get(chunk_id, 0.0) + ROW_WEIGHT * weight / top
        return [Candidate(chunk_id, score) for chunk_id, score in sorted(scores.items(), key=lambda item: -item[1])]

    def by_proximity(self, ranked: list[Candidate], weights: dict[str, float], chunks: dict[str, Chunk], *,
                     depth: int) -> list[Candidate]:
        """The ranking's first `depth` chunks (those passages are built from; `chunks` holds them, read)
        reordered with each score raised by PROXIMITY_WEIGHT × its line proximity (`weights`: the
        question's words' IDF). Reordering deeper changes nothing found and costs time."""
        boosted = [Candidate(c.chunk_id, c.score + PROXIMITY_WEIGHT * proximity(chunks[c.chunk_id].text, weights)
                             if c.chunk_id in chunks else c.score)
                   for c in ranked[:depth]]
        return sorted(boosted, key=lambda candidate: -candidate.score) + ranked[depth:]

    def affinity(self, terms: list[str]) -> dict[uuid.UUID, float]:
        indexes = self.search.lexical_indexes
        return documents.affinity(terms, [
            documents.Document(source_id, documents.name_terms(source.name), indexes[source_id],
                               indexes[source_id].opening_date)
            for source_id, source in self.sources.items()])

    def names_only_strangers(self, question: str, source_ids) -> bool:
        """Everything the question names (capitalised words inside the sentence: a company, a product, a
        place) is a word that none of the documents it is aimed at (`source_ids`) uses: it asks about
        someone or something else. One unknown name beside known ones decides nothing: documents miss
        words a visitor uses for what they do cover (an abbreviation for a title they spell out, a name
        lost with a form's filled-in fields)."""
        names = [terms for terms in map(tokenize, named_things(question)) if terms]  # "The", "Your": no name
        return bool(names) and not any(self.search.uses(term, source_ids) for terms in names for term in terms)

    def clears_floor(self, terms: list[str], dense: list[Candidate]) -> bool:
        """The best chunk is close enough in meaning; without an embedder (or when it fails), the documents
        use enough of the question's informative words. The embedder in use sets the floor
        (`relevance_floor`), which a deployment may change (RELEVANCE_FLOOR)."""
        embedder = get_embedder()
        if dense:
            return dense[0].score >= embedder.relevance_floor
        floor = LexicalOnly.DEFAULT_RELEVANCE_FLOOR if embedder.enabled else embedder.relevance_floor
        return self.search.known_share(terms) >= floor


_NAME = re.compile(r"(?<![.!?:]\s)(?<!^)\b[A-Z][\w&-]*[A-Za-z]")


def named_things(question: str) -> list[str]:
    """Capitalised words of three letters or more that do not start a sentence: names."""
    return [name for name in _NAME.findall(question.strip()) if sum(c.isalpha() for c in name) >= 3]


_JOINED = re.compile(r"\b([A-Z])&([A-Z])\b")  # "R&D", "M&A"


def spelled_out(question: str, texts: list[str]) -> str:
    """The question with each abbreviation of two joined words ("R&D", "M&A") written as `texts` spell it most
    often ("research and development", not the "repurchases and dividends" of one sentence): its letters alone
    are no words to look for. Unchanged when the texts spell it nowhere."""
    def spelled(match: re.Match) -> str:
        found = re.compile(rf"\b{match.group(1)}[a-z]+\s+(?:and|&)\s+{match.group(2)}[a-z]+\b", re.IGNORECASE)
        written = Counter(" ".join(each.group().lower().split()) for text in texts for each in found.finditer(text))
        return written.most_common(1)[0][0] if written else match.group()

    return _JOINED.sub(spelled, question)


def fuse(dense: list[Candidate], found: list[Candidate]) -> list[Candidate]:
    """One ranking: each search's scores scaled to [0, 1] and mixed by DENSE_WEIGHT."""
    fused: dict[str, float] = {}
    for candidates, weight in ((dense, DENSE_WEIGHT), (found, 1 - DENSE_WEIGHT)):
        for chunk_id, share in _scaled(candidates).items():
            fused[chunk_id] = fused.get(chunk_id, 0.0) + weight * share
    return [Candidate(chunk_id, score) for chunk_id, score in sorted(fused.items(), key=lambda item: -item[1])]


def proximity(text: str, weights: dict[str, float]) -> float:
    """The largest share of the question's word weights (IDF) that one line of the chunk holds.

    The chunk's context line (datasources/chunk_format.py), which every chunk of a section shares, is
    left out.
    """
    total = sum(weights.values())
    if not total:
        return 0.0
    return max((sum(weight for term, weight in weights.items() if term in words) for words in _line_words(text)),
               default=0.0) / total


@functools.lru_cache(maxsize=1024)  # about 10 MB for chunks of 900 characters
def _line_words(text: str) -> tuple[frozenset[str], ...]:
    """The words of each line of a chunk's body. Remembered: a chunk that answers one question is read again for
    the next ones about its topic, and tokenizing its lines was most of the proximity's time."""
    return tuple(frozenset(tokenize(line)) for line in chunk_format.context_and_body(text)[1])


def interleave(ranked: list[Candidate]) -> list[Candidate]:
    """Each document's best chunk first, then each one's second best …: a question several documents
    answer (a figure over several periods) hears from each of them within the first passages."""
    rounds: dict[uuid.UUID, int] = {}
    keyed = []
    for position, candidate in enumerate(ranked):
        source_id = chunk_format.data_source_of(candidate.chunk_id)
        rounds[source_id] = rounds.get(source_id, -1) + 1
        keyed.append((rounds[source_id], position, candidate))
    return [candidate for _, _, candidate in sorted(keyed, key=lambda item: item[:2])]


def _scaled(candidates: list[Candidate]) -> dict[str, float]:
    if not candidates:
        return {}
    high = max(c.score for c in candidates)
    low = min(c.score for c in candidates)
    spread = high - low or 1.0
    return {c.chunk_id: (c.score - low) / spread for c in candidates}
