"""Embedders turn chunk text and questions into vectors: a small protocol, one module per backend.

`EMBEDDING_BACKEND` chooses one: `local` (all-MiniLM-L6-v2 on this machine), `openai` (OpenAI or
any OpenAI-compatible server) or `none`. With `none` Docent runs lexical-only: `get_embedder()`
still returns an object, whose `enabled` is False, so chunking works the same and callers skip
the dense path by asking one question instead of comparing backend names.
"""

import hashlib
import math
import re
from collections.abc import Callable, Iterable
from typing import Protocol, TypeVar

import numpy as np
from django.conf import settings
from django.core.cache import caches

from config.backends import configured

T = TypeVar("T")
# Told how many of the texts given to embed_documents are embedded so far, as the backend works
# through them (after each forward pass, or each request), so progress moves within a long call.
EmbeddingProgress = Callable[[int], None]

BACKENDS = {
    "local": "datasources.embedders.local.LocalEmbedder",
    "openai": "datasources.embedders.openai.OpenAIEmbedder",
    "none": "datasources.embedders.LexicalOnly",
}


class Embedder(Protocol):
    enabled: bool  # False: lexical-only, nothing is embedded
    model: str  # recorded on each data source; "" when nothing is embedded
    max_tokens: int  # the most tokens (as count_tokens counts them) the model reads of one text
    # Below it a question is about something the documents do not cover, and gets the fallback: the best
    # chunk's cosine similarity (each model spreads its similarities differently); lexical-only, the share of
    # the question's informative words (by IDF) that the documents use. Each backend declares its default;
    # RELEVANCE_FLOOR replaces it for a deployment.
    relevance_floor: float
    # What embeds questions, where a backend has a choice ("" where it has none): part of the embedder's identity,
    # so cached question vectors and answers follow a change of it.
    question_encoder: str

    @property
    def dimension(self) -> int | None: ...

    @property
    def prepared(self) -> bool:
        """Whether an embedding would start at once: nothing left to load (config.startup, /readyz)."""

    def prepare(self) -> None:
        """Load what the first embedding needs, so that no question or file waits for it."""

    def count_tokens(self, text: str) -> int: ...

    def embed_documents(self, texts: list[str], *, progress: EmbeddingProgress | None = None) -> np.ndarray:
        """One float32 row per text, L2-normalised, so a dot product is the cosine."""

    def embed_query(self, text: str) -> np.ndarray: ...


class EmbeddingError(Exception):
    """Embedding failed; the message is worded for the person who uploaded the file or asked."""


def get_embedder() -> Embedder:
    """The configured embedder, one per configuration and process (the local model loads once)."""
    return configured(BACKENDS, settings.EMBEDDING_BACKEND)


def embedder_identity(embedder: Embedder) -> str:
    """What decides an embedder's vectors: its kind, model, dimension and what embeds the questions."""
    return f"{type(embedder).__name__}:{embedder.model}:{embedder.dimension}:{embedder.question_encoder}"


def embed_question(embedder: Embedder, text: str) -> np.ndarray:
    """The question's vector, from the shared "queries" cache when this embedder embedded the very same text
    before (for QUESTION_EMBEDDING_CACHE_SECONDS; 0 embeds every time). Keyed by the exact text, not by a
    normalised one: a vector is a function of every character embedded, and retrieval must not depend on
    which spelling of a question came first."""
    seconds = settings.QUESTION_EMBEDDING_CACHE_SECONDS
    if not seconds:
        return embedder.embed_query(text)
    key = f"question-vector:{embedder_identity(embedder)}:{hashlib.sha256(text.encode()).hexdigest()}"
    cache = caches["queries"]
    kept = cache.get(key)
    if kept is not None:
        return np.frombuffer(kept, dtype=np.float32).copy()  # writable, as a fresh vector is
    vector = np.asarray(embedder.embed_query(text), dtype=np.float32)
    cache.set(key, vector.tobytes(), seconds)
    return vector


class LexicalOnly:
    """No embedding backend: chunks are stored and found by their words alone."""

    enabled = False
    model = ""
    question_encoder = ""
    dimension = None
    # Chunks the size MiniLM reads, so turning embeddings on later keeps retrieval comparable.
    max_tokens = 256
    # The share of a question's informative words the documents must use (bench/chat_retrieval.py, lexical-only):
    # also the floor whenever an embedder fails and retrieval goes on by words alone.
    DEFAULT_RELEVANCE_FLOOR = 0.35
    prepared = True  # nothing to load

    def __init__(self, *, relevance_floor: float | None = None):
        self.relevance_floor = self.DEFAULT_RELEVANCE_FLOOR if relevance_floor is None else relevance_floor

    @staticmethod
    def options_from_settings() -> dict:
        return {"relevance_floor": settings.RELEVANCE_FLOOR}

    def prepare(self) -> None:
        pass

    def count_tokens(self, text: str) -> int:
        return estimate_tokens(text)

    def embed_documents(self, texts: list[str], *, progress: EmbeddingProgress | None = None) -> np.ndarray:
        raise EmbeddingError("No embedding backend is configured (EMBEDDING_BACKEND=none).")

    def embed_query(self, text: str) -> np.ndarray:
        raise EmbeddingError("No embedding backend is configured (EMBEDDING_BACKEND=none).")


# How GPT-style byte-pair encoders pre-split text: a letter run with its leading space, at most
# three digits, a run of other symbols, or whitespace. No piece merges across these boundaries.
_PIECES = re.compile(r" ?[^\W\d_]+| ?\d{1,3}| ?[^\s\w]+|_+|\s+")


def estimate_tokens(text: str) -> int:
    """A count of BPE tokens (cl100k-style) that errs high, computed without a vocabulary.

    A common English word is one token and we count one per four letters; digits are grouped by
    three exactly as the encoder does; every symbol counts as one token; non-Latin letters count
    one each, since such scripts take about one token per character or more.
    """
    tokens = 0
    for piece in _PIECES.findall(text):
        body = piece.lstrip(" ") or piece
        if body[0].isalpha():
            tokens += math.ceil(len(body) / 4) if body.isascii() else len(body)
        elif body[0].isdigit() or body.isspace():
            tokens += 1
        else:
            tokens += len(body)
    return tokens


def normalize_rows(vectors: np.ndarray) -> np.ndarray:
    """float32 rows of length 1 (a zero row stays zero rather than becoming NaN)."""
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=-1, keepdims=True)
    return vectors / np.maximum(norms, np.finfo(np.float32).tiny)


def batches_within(items: Iterable[T], *, max_items: int, max_cost: int,
                   cost: Callable[[T], int]) -> list[list[T]]:
    """Consecutive runs of items, each within a remote API's per-request count and size limits.

    An item costing more than `max_cost` on its own still gets a batch, for the server to judge.
    """
    batches: list[list[T]] = [[]]
    total = 0
    for item in items:
        item_cost = cost(item)
        if batches[-1] and (len(batches[-1]) == max_items or total + item_cost > max_cost):
            batches.append([])
            total = 0
        batches[-1].append(item)
        total += item_cost
    return [batch for batch in batches if batch]
