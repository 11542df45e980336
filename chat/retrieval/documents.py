"""Which of the chatbot's documents a question is about, learned from the documents themselves.

A question such as "Apple's latest quarterly revenue" names things ("Apple") that some documents
talk about much more than others, and periods ("Q2 2023", "latest") that the documents' names and
dates tell apart. Nothing here knows any company, product or calendar: each document is profiled
by its own words (how concentrated each word is in it, compared with the other documents searched),
its file name, and the latest date written near its start.
"""

import datetime
import math
import uuid
from dataclasses import dataclass

from datasources.indexes.lexical import SourceIndex, tokenize

# Words that ask for the newest document rather than name one.
RECENCY_WORDS = frozenset({"latest", "recent", "newest", "current", "last"})


@dataclass(frozen=True)
class Document:
    id: uuid.UUID
    name_terms: frozenset[str]  # the words of its file name
    index: SourceIndex
    date: datetime.date | None  # the latest date written near the start: the period it reports on


def name_terms(*names: str) -> frozenset[str]:
    return frozenset(term for name in names for term in tokenize(name.replace("_", " ")))


def affinity(question_terms: list[str], documents: list[Document]) -> dict[uuid.UUID, float]:
    """Each document's share of the best document's score for the question: 1.0 for the best.

    What a document talks about: a question word counts for a document by how concentrated it is
    there (occurrences per 10,000 words, log-damped) times how few of the searched documents use it
    at all; words every document uses say nothing about which one is meant. What a document is
    called: a question word in some documents' names (a period, a product line) multiplies their
    score, since a name is precise where text is noisy. A question that tells no document apart
    gets nothing, unless it asks for the latest one.
    """
    if len(documents) < 2:
        return {}
    terms = set(question_terms) - RECENCY_WORDS
    weights = {term: _weight(term, documents) for term in terms}
    about = _normalized({d.id: sum(weights[term] * _concentration(term, d) for term in terms if weights[term])
                         for d in documents})
    named = _normalized({d.id: sum(_name_weight(term, documents) for term in terms & d.name_terms)
                         for d in documents})
    if about or named:
        scores = _normalized({d.id: about.get(d.id, 1.0) * (1 + named.get(d.id, 0.0)) for d in documents})
    else:
        scores = dict.fromkeys((d.id for d in documents), 1.0)
    if set(question_terms) & RECENCY_WORDS:
        return _prefer_latest(scores, documents)
    return scores if about or named else {}


def _weight(term: str, documents: list[Document]) -> float:
    using = sum(1 for d in documents if d.index.term_count(term))
    return math.log(len(documents) / using) if using else 0.0


def _concentration(term: str, document: Document) -> float:
    length = max(document.index.total_length, 1.0)
    return math.log1p(10_000 * document.index.term_count(term) / length)


def _name_weight(term: str, documents: list[Document]) -> float:
    return math.log(len(documents) / sum(1 for d in documents if term in d.name_terms))


def _normalized(scores: dict[uuid.UUID, float]) -> dict[uuid.UUID, float]:
    """Scores as shares of the best; empty when none is positive."""
    best = max(scores.values(), default=0.0)
    return {key: value / best for key, value in scores.items()} if best > 0 else {}


def _prefer_latest(scores: dict[uuid.UUID, float], documents: list[Document]) -> dict[uuid.UUID, float]:
    """Among the documents the question is mostly about, the newest becomes the best."""
    contenders = [d for d in documents if scores[d.id] >= 0.5 and d.date is not None]
    if not contenders:
        return scores
    newest = max(contenders, key=lambda d: d.date)
    return {key: (1.0 if key == newest.id else value * 0.5) for key, value in scores.items()}
