"""Vectors stored with the chunks (`chunks.embedding`), searched exactly with numpy in this process.

Each process keeps each company's vectors as one contiguous float32 matrix, rows of length 1, so
a query is one matrix-vector product. The web process and the worker are separate processes:
every write bumps the company's VectorIndexVersion in the same transaction, and every query
compares its cached version with one indexed read, reloading the matrix when they differ.
"""

import threading
import uuid
from collections import OrderedDict
from collections.abc import Collection, Sequence
from dataclasses import dataclass

import numpy as np
from django.conf import settings
from django.db import transaction
from django.db.models import F

from datasources.embedders import normalize_rows
from datasources.models import Chunk, VectorIndexVersion
from datasources.vectorindex import (
    Match,
    VectorIndexError,
    VectorRecord,
    as_uuid,
    by_company,
    check_ids_belong,
)

WRITE_BATCH = 500  # rows per statement, well under SQLite's limit on query parameters


@dataclass(frozen=True)
class CompanyMatrix:
    version: int
    matrix: np.ndarray  # (rows, dimension) float32
    chunk_ids: list[str]  # row → chunk id
    source_codes: np.ndarray  # row → small integer standing for the row's data source
    codes: dict[uuid.UUID, int]  # data source id → its code

    def rows_of(self, data_source_ids: Collection[uuid.UUID]) -> np.ndarray | None:
        """A boolean mask of the rows of these data sources; None when that is every row."""
        wanted = {self.codes[source] for source in map(as_uuid, data_source_ids) if source in self.codes}
        if len(wanted) == len(self.codes):
            return None
        allowed = np.zeros(len(self.codes), dtype=bool)
        allowed[list(wanted)] = True
        return allowed[self.source_codes]


class LocalVectorIndex:
    def __init__(self, *, cache_mb: int):
        self.cache_bytes = cache_mb * 1024 * 1024
        self._cache: OrderedDict[tuple[uuid.UUID, int], CompanyMatrix] = OrderedDict()
        self._cache_lock = threading.Lock()

    @staticmethod
    def options_from_settings() -> dict:
        return {"cache_mb": settings.LOCAL_VECTOR_CACHE_MB}

    def upsert(self, records: Sequence[VectorRecord]) -> None:
        """The vectors already live in `chunks.embedding` (the pipeline writes them with the chunks,
        the source of truth): check they are there and announce the change to every process."""
        for company_id, group in by_company(records).items():
            with transaction.atomic():
                for start in range(0, len(group), WRITE_BATCH):
                    _check_stored(company_id, group[start:start + WRITE_BATCH])
                _bump_version(company_id)

    def delete(self, *, company_id, data_source_id, ids: Sequence[str]) -> None:
        check_ids_belong(data_source_id, ids)
        ids = list(ids)
        with transaction.atomic():
            for start in range(0, len(ids), WRITE_BATCH):
                Chunk.objects.filter(
                    company_id=company_id, data_source_id=data_source_id,
                    id__in=ids[start:start + WRITE_BATCH],
                ).update(embedding=None)
            _bump_version(company_id)

    def query(self, *, company_id, vector: np.ndarray, data_source_ids: Collection,
              top_k: int) -> list[Match]:
        query = normalize_rows(vector)
        company = self._company_matrix(as_uuid(company_id), query.shape[-1])
        if not company.codes:
            return []
        mask = company.rows_of(data_source_ids)
        scores = company.matrix @ query
        if mask is not None:
            scores[~mask] = -np.inf
        return [(company.chunk_ids[row], float(scores[row])) for row in _best_rows(scores, top_k)]

    def _company_matrix(self, company_id: uuid.UUID, dimension: int) -> CompanyMatrix:
        # Read the version before the rows: a write committed in between makes the cached copy
        # look older than it is (reloaded next time), never newer.
        version = _current_version(company_id)
        key = (company_id, dimension)
        with self._cache_lock:
            cached = self._cache.get(key)
            if cached is not None and cached.version == version:
                self._cache.move_to_end(key)
                return cached
        loaded = _load_matrix(company_id, dimension, version)
        with self._cache_lock:
            self._cache[key] = loaded
            self._cache.move_to_end(key)
            self._evict_beyond_budget()
        return loaded

    def _evict_beyond_budget(self) -> None:
        """Drop the least recently queried companies; the latest stays, however large."""
        while len(self._cache) > 1 and sum(c.matrix.nbytes for c in self._cache.values()) > self.cache_bytes:
            self._cache.popitem(last=False)


def _check_stored(company_id: uuid.UUID, records: list[VectorRecord]) -> None:
    ids = {record.id for record in records}
    # Only the company's own chunks are found, so a record cannot index another company's chunk.
    stored = set(Chunk.objects.filter(company_id=company_id, id__in=ids, embedding__isnull=False)
                 .values_list("id", flat=True))
    if stored != ids:
        missing = sorted(ids - stored)
        raise VectorIndexError(
            f"{len(missing)} vectors have no chunk of company {company_id} stored with them "
            f"(first: {missing[0]}); store the chunks with their vectors before indexing them."
        )


def _bump_version(company_id: uuid.UUID) -> None:
    VectorIndexVersion.objects.get_or_create(company_id=company_id)
    VectorIndexVersion.objects.filter(company_id=company_id).update(version=F("version") + 1)


def _current_version(company_id: uuid.UUID) -> int:
    return VectorIndexVersion.objects.filter(company_id=company_id).values_list("version", flat=True).first() or 0


def _load_matrix(company_id: uuid.UUID, dimension: int, version: int) -> CompanyMatrix:
    row_bytes = dimension * np.dtype(np.float32).itemsize
    buffer, chunk_ids, source_codes, codes = bytearray(), [], [], {}
    rows = (
        Chunk.objects.filter(company_id=company_id, embedding__isnull=False)
        .order_by()
        .values_list("id", "data_source_id", "embedding")
        .iterator(chunk_size=2000)
    )
    for chunk_id, source_id, embedding in rows:
        if len(embedding) != row_bytes:
            continue  # another model's vector: a re-index to a new model is under way
        buffer += embedding
        chunk_ids.append(chunk_id)
        source_codes.append(codes.setdefault(source_id, len(codes)))
    return CompanyMatrix(
        version=version,
        matrix=normalize_rows(np.frombuffer(buffer, dtype=np.float32).reshape(-1, dimension)),
        chunk_ids=chunk_ids,
        source_codes=np.array(source_codes, dtype=np.int32),
        codes=codes,
    )


def _best_rows(scores: np.ndarray, top_k: int) -> np.ndarray:
    """Indices of the top_k highest finite scores, best first, without sorting every row."""
    k = min(top_k, int(np.isfinite(scores).sum()))
    if k <= 0:
        return np.empty(0, dtype=np.intp)
    best = np.argpartition(-scores, k - 1)[:k]
    return best[np.argsort(-scores[best], kind="stable")]
