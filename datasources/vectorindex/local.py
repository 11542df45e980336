"""Vectors stored with the chunks (`chunks.embedding`), searched with numpy in this process.

Each process keeps each company's vectors as one contiguous float32 matrix, rows of length 1, so
a query is one matrix-vector product. The web process and the worker are separate processes:
every write bumps the company's VectorIndexVersion in the same transaction, and every query
compares its cached version with one indexed read, reloading the matrix when they differ.

Searching every row costs time in proportion to the rows: about 10 ms for 100,000 on two cores, too
slow for a company with a million chunks (bench/search_latency.py). A company with more than
`exact_rows` vectors is therefore also partitioned when it is loaded (an inverted file: k-means
centroids, the rows sorted by their nearest centroid), and a query reads only the partitions
nearest to it until it has seen PROBE_SHARE of the rows it may search. Rows are still filtered by
data source before they are scored, so an approximate search can miss a near chunk but never
return one of another data source, and it scores the rows it reads exactly. A query whose data
sources hold at most `exact_rows` vectors reads all of them, in any company.
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
from threadpoolctl import ThreadpoolController

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
# Measured with bench/search_latency.py on 2 cores (docs/BENCHMARKS.md, "Search latency"):
EXACT_ROWS = 20_000  # up to here reading every row takes a few milliseconds and is exact
LISTS_PER_SQRT_ROW = 4  # partitions: 4 × √rows (1,264 for 100,000 rows, 4,000 for a million)
PROBE_SHARE = 0.02  # a query reads the nearest partitions until it has 2% of the rows it may search …
PROBE_ROWS_PER_RESULT = 20  # … and at least 20 rows for each result asked for
KMEANS_SAMPLE_PER_LIST = 16
KMEANS_ROUNDS = 8

# A query's products are too small to share between threads: on a busy machine, BLAS threads waiting
# for each other took 11 ms for a product that one thread does in 0.2 ms (5,000 rows, 2 cores).
_blas = ThreadpoolController()


@dataclass(frozen=True)
class CompanyMatrix:
    version: int
    matrix: np.ndarray  # (rows, dimension) float32
    chunk_ids: list[str]  # row → chunk id
    source_codes: np.ndarray  # row → small integer standing for the row's data source
    codes: dict[uuid.UUID, int]  # data source id → its code
    partitions: "Partitions | None"  # set above `exact_rows` rows, which are then in partition order

    @property
    def nbytes(self) -> int:
        """Memory of the vectors and partitions (the chunk ids' strings are not counted)."""
        return self.matrix.nbytes + self.source_codes.nbytes + (self.partitions.nbytes if self.partitions else 0)

    def nearest(self, query: np.ndarray, data_source_ids: Collection, top_k: int) -> list[Match]:
        allowed = self.sources_of(data_source_ids)
        if self.partitions is not None:
            rows = self.partitions.nearest_rows(query, allowed, self.source_codes, top_k)
        else:
            rows = None if allowed is None else np.flatnonzero(allowed[self.source_codes])
        scores = self.matrix @ query if rows is None else self.matrix[rows] @ query
        best = _best_rows(scores, top_k)
        found = best if rows is None else rows[best]
        return [(self.chunk_ids[row], float(score)) for row, score in zip(found, scores[best], strict=True)]

    def sources_of(self, data_source_ids: Collection[uuid.UUID]) -> np.ndarray | None:
        """Which data source codes may be searched, a boolean for each; None when every one."""
        wanted = {self.codes[source] for source in map(as_uuid, data_source_ids) if source in self.codes}
        if len(wanted) == len(self.codes):
            return None
        allowed = np.zeros(len(self.codes), dtype=bool)
        allowed[list(wanted)] = True
        return allowed


class LocalVectorIndex:
    def __init__(self, *, cache_mb: int, exact_rows: int = EXACT_ROWS):
        self.cache_bytes = cache_mb * 1024 * 1024
        self.exact_rows = exact_rows
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
        with _blas.limit(limits=1, user_api="blas"):
            return company.nearest(query, data_source_ids, top_k)

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
        loaded = _load_matrix(company_id, dimension, version, self.exact_rows)
        with self._cache_lock:
            self._cache[key] = loaded
            self._cache.move_to_end(key)
            self._evict_beyond_budget()
        return loaded

    def _evict_beyond_budget(self) -> None:
        """Drop the least recently queried companies; the latest stays, however large."""
        while len(self._cache) > 1 and sum(c.nbytes for c in self._cache.values()) > self.cache_bytes:
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


def _load_matrix(company_id: uuid.UUID, dimension: int, version: int, exact_rows: int) -> CompanyMatrix:
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
    matrix = normalize_rows(np.frombuffer(buffer, dtype=np.float32).reshape(-1, dimension))
    source_codes = np.array(source_codes, dtype=np.int32)
    partitions = None
    if len(matrix) > exact_rows:
        partitions, order = Partitions.build(matrix, source_codes, exact_rows)
        matrix, source_codes, chunk_ids = matrix[order], source_codes[order], [chunk_ids[row] for row in order]
    return CompanyMatrix(version=version, matrix=matrix, chunk_ids=chunk_ids, source_codes=source_codes,
                         codes=codes, partitions=partitions)


@dataclass(frozen=True)
class Partitions:
    """An inverted file over a matrix whose rows are sorted by partition: partition p holds rows
    bounds[p]:bounds[p + 1], the rows nearer to centroids[p] than to any other centroid."""

    centroids: np.ndarray  # (partitions, dimension) float32, rows of length 1
    bounds: np.ndarray
    # Rows of each data source in each partition, as three aligned arrays (only pairs that have rows:
    # a company may have thousands of data sources, most of them in few partitions).
    pair_partition: np.ndarray
    pair_source: np.ndarray
    pair_rows: np.ndarray
    exact_rows: int

    @property
    def nbytes(self) -> int:
        return sum(array.nbytes for array in (self.centroids, self.bounds, self.pair_partition, self.pair_source,
                                              self.pair_rows))

    @classmethod
    def build(cls, matrix: np.ndarray, source_codes: np.ndarray, exact_rows: int) -> tuple["Partitions", np.ndarray]:
        """The partitions of `matrix`'s rows, and the order that sorts the rows by partition."""
        count = max(1, int(LISTS_PER_SQRT_ROW * np.sqrt(len(matrix))))
        centroids = _kmeans(matrix, count, np.random.default_rng(0))  # seeded: a reload partitions alike
        nearest = _nearest_centroid(matrix, centroids)
        sources = int(source_codes.max()) + 1
        pairs, pair_rows = np.unique(nearest.astype(np.int64) * sources + source_codes, return_counts=True)
        bounds = np.concatenate([[0], np.cumsum(np.bincount(nearest, minlength=count))])
        partitions = cls(centroids, bounds, pairs // sources, pairs % sources, pair_rows, exact_rows)
        return partitions, np.argsort(nearest, kind="stable")

    def nearest_rows(self, query: np.ndarray, allowed: np.ndarray | None, source_codes: np.ndarray,
                     top_k: int) -> np.ndarray:
        """The rows of the allowed data sources (every one when `allowed` is None) to score: all of
        them when they are at most `exact_rows`, else those of the partitions nearest the query, until
        PROBE_SHARE of them (and PROBE_ROWS_PER_RESULT for each result) are taken."""
        rows_of_pairs = self.pair_rows if allowed is None else self.pair_rows * allowed[self.pair_source]
        per_partition = np.bincount(self.pair_partition, rows_of_pairs, len(self.centroids)).astype(np.int64)
        searchable = int(per_partition.sum())
        wanted = searchable
        if searchable > self.exact_rows:
            wanted = max(PROBE_SHARE * searchable, PROBE_ROWS_PER_RESULT * top_k)
        holding = np.flatnonzero(per_partition)
        order = holding[np.argsort(-(self.centroids[holding] @ query))]
        taken = order[:int(np.searchsorted(np.cumsum(per_partition[order]), wanted)) + 1]
        rows = np.concatenate([np.arange(self.bounds[p], self.bounds[p + 1]) for p in taken] or [[]]).astype(np.intp)
        return rows if allowed is None else rows[allowed[source_codes[rows]]]


def _kmeans(matrix: np.ndarray, count: int, rng: np.random.Generator) -> np.ndarray:
    """Spherical k-means (cosine) on a sample of the rows; a centroid left without rows stays put."""
    sample = matrix[np.sort(rng.choice(len(matrix), min(len(matrix), count * KMEANS_SAMPLE_PER_LIST),
                                       replace=False))]
    centroids = sample[rng.choice(len(sample), count, replace=False)]
    for _ in range(KMEANS_ROUNDS):
        nearest = _nearest_centroid(sample, centroids)
        sizes = np.bincount(nearest, minlength=count)
        filled = sizes > 0
        starts = (np.cumsum(sizes) - sizes)[filled]
        centroids = centroids.copy()
        centroids[filled] = normalize_rows(np.add.reduceat(sample[np.argsort(nearest, kind="stable")], starts))
    return centroids


def _nearest_centroid(rows: np.ndarray, centroids: np.ndarray, block: int = 8192) -> np.ndarray:
    nearest = np.empty(len(rows), dtype=np.int32)
    for start in range(0, len(rows), block):
        nearest[start:start + block] = np.argmax(rows[start:start + block] @ centroids.T, axis=1)
    return nearest


def _best_rows(scores: np.ndarray, top_k: int) -> np.ndarray:
    """Indices of the top_k highest scores, best first, without sorting every row."""
    k = min(top_k, len(scores))
    if k <= 0:
        return np.empty(0, dtype=np.intp)
    best = np.argpartition(-scores, k - 1)[:k]
    return best[np.argsort(-scores[best], kind="stable")]
