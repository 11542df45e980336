"""Vectors stored with the chunks (`chunks.embedding`), searched with numpy in this process.

Each process keeps each company's vectors in memory as float32 matrices, rows of length 1, so a
query is a matrix-vector product or two. The web process and the worker are separate processes:
every write bumps the company's VectorIndexVersion in the same transaction, and records that
version against each data source it changed (VectorIndexChange); every query compares its cached
version with one indexed read. When they differ, only the data sources changed since the cached
version are read again: a company of a million chunks that gains a file of a thousand does not
read a million rows (nor partition them again) before its next answer.

Searching every row costs time in proportion to the rows: about 10 ms for 100,000 on two cores, too
slow for a company with a million chunks (bench/search_latency.py). A company with more than
`exact_rows` vectors is therefore also partitioned when it is loaded (an inverted file: k-means
centroids, the rows sorted by their nearest centroid), and a query reads only the partitions
nearest to it until it has seen PROBE_SHARE of the rows it may search. Rows are still filtered by
data source before they are scored, so an approximate search can miss a near chunk but never
return one of another data source, and it scores the rows it reads exactly. A query whose data
sources hold at most `exact_rows` vectors reads all of them, in any company.

The rows of a full load stay as they were loaded (the first block); the rows of data sources read
again since are a second, smaller block, assigned to the existing centroids, and their earlier rows
in the first block are left out of every search by their code. When these replaced and re-read rows
reach REBUILD_SHARE of the company, or the company crosses `exact_rows`, it is loaded and partitioned
anew. A copy in the cache is never changed: a refresh builds a new one, so a query that holds the old
copy finishes on it.
"""

import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from functools import partial

import numpy as np
from django.conf import settings
from django.db import transaction
from django.db.models import F
from threadpoolctl import ThreadpoolController

from datasources.embedders import normalize_rows
from datasources.indexes.vector import (
    Match,
    VectorIndexError,
    VectorRecord,
    as_uuid,
    by_company,
    check_ids_belong,
)
from datasources.models import Chunk, VectorIndexChange, VectorIndexVersion

WRITE_BATCH = 500  # rows per statement, well under SQLite's limit on query parameters
# Measured with bench/search_latency.py on 2 cores (docs/BENCHMARKS.md, "Search latency"):
EXACT_ROWS = 20_000  # up to here reading every row takes a few milliseconds and is exact
LISTS_PER_SQRT_ROW = 4  # partitions: 4 × √rows (1,264 for 100,000 rows, 4,000 for a million)
PROBE_SHARE = 0.02  # a query reads the nearest partitions until it has 2% of the rows it may search …
PROBE_ROWS_PER_RESULT = 20  # … and at least 20 rows for each result asked for
KMEANS_SAMPLE_PER_LIST = 16
KMEANS_ROUNDS = 8
# A company is loaded and partitioned anew once the rows replaced since its last load and those read
# again reach this share of its rows (new rows join the existing partitions until then).
REBUILD_SHARE = 0.25

# A query's products are too small to share between threads: on a busy machine, BLAS threads waiting
# for each other took 11 ms for a product that one thread does in 0.2 ms (5,000 rows, 2 cores).
_blas = ThreadpoolController()


@dataclass(frozen=True)
class Block:
    """Rows of a company: vectors, their chunk ids and the codes of their data sources.

    In a partitioned company the rows are sorted by partition: partition p holds rows
    bounds[p]:bounds[p + 1], and three aligned arrays count the rows of each data source in each
    partition (only pairs that have rows: a company may have thousands of data sources, most of them
    in few partitions).
    """

    matrix: np.ndarray  # (rows, dimension) float32
    chunk_ids: list[str]
    source_codes: np.ndarray
    bounds: np.ndarray | None = None
    pair_partition: np.ndarray | None = None
    pair_source: np.ndarray | None = None
    pair_rows: np.ndarray | None = None

    @classmethod
    def by_partition(cls, matrix: np.ndarray, chunk_ids: list[str], source_codes: np.ndarray,
                     partition_of_rows: np.ndarray, partitions: int) -> "Block":
        order = np.argsort(partition_of_rows, kind="stable")
        nearest, source_codes = partition_of_rows[order], source_codes[order]
        sources = int(source_codes.max(initial=0)) + 1
        pairs, pair_rows = np.unique(nearest.astype(np.int64) * sources + source_codes, return_counts=True)
        bounds = np.concatenate([[0], np.cumsum(np.bincount(nearest, minlength=partitions))])
        return cls(matrix[order], [chunk_ids[row] for row in order], source_codes, bounds,
                   pairs // sources, pairs % sources, pair_rows)

    @property
    def nbytes(self) -> int:
        """Memory of the vectors and partitions (the chunk ids' strings are not counted)."""
        arrays = (self.matrix, self.source_codes, self.bounds, self.pair_partition, self.pair_source,
                  self.pair_rows)
        return sum(array.nbytes for array in arrays if array is not None)

    def partition_of_rows(self) -> np.ndarray:
        return np.repeat(np.arange(len(self.bounds) - 1, dtype=np.int32), np.diff(self.bounds))

    def rows_in(self, partitions: np.ndarray) -> np.ndarray:
        return np.concatenate([np.arange(self.bounds[p], self.bounds[p + 1]) for p in partitions]
                              or [[]]).astype(np.intp)


@dataclass(frozen=True)
class CompanyMatrix:
    version: int
    # The rows of the last full load, then (when any data source changed since) the changed ones' rows.
    blocks: tuple[Block, ...]
    codes: dict[uuid.UUID, int]  # data source id → the code of its current rows
    # Codes in the blocks; a code not in `codes` stands for rows since replaced, never searched.
    code_count: int
    partitions: "Partitions | None"  # set above `exact_rows` rows, which are then in partition order

    @property
    def nbytes(self) -> int:
        return sum(block.nbytes for block in self.blocks) + (self.partitions.nbytes if self.partitions else 0)

    def nearest(self, query: np.ndarray, data_source_ids: Collection, top_k: int) -> list[Match]:
        allowed = self.sources_of(data_source_ids)
        if self.partitions is not None:
            rows = self.partitions.nearest_rows(query, allowed, self.blocks, top_k)
        else:
            rows = [None if allowed is None else np.flatnonzero(allowed[block.source_codes])
                    for block in self.blocks]
        scores = [block.matrix @ query if read is None else block.matrix[read] @ query
                  for block, read in zip(self.blocks, rows, strict=True)]
        ends = np.cumsum([len(block_scores) for block_scores in scores])
        scores = np.concatenate(scores)
        best = _best_rows(scores, top_k)
        # The blocks' scores are end to end: the block each of the best is in, and its row there.
        block_of = np.searchsorted(ends, best, side="right")
        row_of = best - np.concatenate([[0], ends])[block_of]
        for block, read in enumerate(rows):
            if read is not None:
                in_block = block_of == block
                row_of[in_block] = read[row_of[in_block]]
        return [(self.blocks[block].chunk_ids[row], score)
                for block, row, score in zip(block_of.tolist(), row_of.tolist(), scores[best].tolist(), strict=True)]

    def sources_of(self, data_source_ids: Collection[uuid.UUID]) -> np.ndarray | None:
        """Which data source codes may be searched, a boolean for each; None when every row may be."""
        wanted = {self.codes[source] for source in map(as_uuid, data_source_ids) if source in self.codes}
        if len(wanted) == self.code_count:
            return None
        allowed = np.zeros(self.code_count, dtype=bool)
        allowed[list(wanted)] = True
        return allowed

    def refreshed(self, version: int, changed: set[uuid.UUID], read: Callable[[set[uuid.UUID]], "Rows"],
                  exact_rows: int) -> "CompanyMatrix | None":
        """This copy with the rows of the `changed` data sources replaced by theirs now, as `read` returns
        them; None when the company should rather be loaded anew (see REBUILD_SHARE)."""
        codes = {source: code for source, code in self.codes.items() if source not in changed}
        live = np.zeros(self.code_count, dtype=bool)
        live[list(codes.values())] = True
        first, *since = self.blocks
        kept = [(block, np.flatnonzero(live[block.source_codes])) for block in since]
        first_live = int(np.count_nonzero(live[first.source_codes]))
        replaced = len(first.chunk_ids) - first_live
        rows_since = sum(len(rows) for _, rows in kept)
        # Checked before reading too: the changed data sources' rows can only add to the share.
        if replaced + rows_since > REBUILD_SHARE * (first_live + rows_since):
            return None
        fresh = read(changed)
        added: dict[uuid.UUID, int] = {}
        fresh_codes = np.array([added.setdefault(source, self.code_count + len(added)) for source in fresh.source_ids],
                               dtype=np.int32)
        rows_since += len(fresh.chunk_ids)
        total = first_live + rows_since
        if replaced + rows_since > REBUILD_SHARE * total or (total > exact_rows) != (self.partitions is not None):
            return None
        matrix = np.concatenate([*(block.matrix[rows] for block, rows in kept), fresh.matrix])
        chunk_ids = [block.chunk_ids[row] for block, rows in kept for row in rows] + fresh.chunk_ids
        source_codes = np.concatenate([*(block.source_codes[rows] for block, rows in kept), fresh_codes])
        if self.partitions is None:
            block = Block(matrix, chunk_ids, source_codes)
        else:
            partition_of_rows = np.concatenate([*(block.partition_of_rows()[rows] for block, rows in kept),
                                                _nearest_centroid(fresh.matrix, self.partitions.centroids)])
            block = Block.by_partition(matrix, chunk_ids, source_codes, partition_of_rows,
                                       len(self.partitions.centroids))
        return CompanyMatrix(version=version, blocks=(first, block) if chunk_ids else (first,), codes=codes | added,
                             code_count=self.code_count + len(added), partitions=self.partitions)


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
                _record_change(company_id, {as_uuid(record.data_source_id) for record in group})

    def delete(self, *, company_id, data_source_id, ids: Sequence[str]) -> None:
        check_ids_belong(data_source_id, ids)
        ids = list(ids)
        with transaction.atomic():
            for start in range(0, len(ids), WRITE_BATCH):
                Chunk.objects.filter(
                    company_id=company_id, data_source_id=data_source_id,
                    id__in=ids[start:start + WRITE_BATCH],
                ).update(embedding=None)
            _record_change(as_uuid(company_id), {as_uuid(data_source_id)})

    def query(self, *, company_id, vector: np.ndarray, data_source_ids: Collection,
              top_k: int) -> list[Match]:
        query = normalize_rows(vector)
        company = self._company_matrix(as_uuid(company_id), query.shape[-1])
        if not company.codes:
            return []
        with _blas.limit(limits=1, user_api="blas"):
            return company.nearest(query, data_source_ids, top_k)

    def warm(self, *, company_id, dimension: int) -> None:
        self._company_matrix(as_uuid(company_id), dimension)

    def _company_matrix(self, company_id: uuid.UUID, dimension: int) -> CompanyMatrix:
        # Read the version before the rows: a write committed in between makes the cached copy
        # look older than it is (its data sources read again next time), never newer.
        version = _current_version(company_id)
        key = (company_id, dimension)
        with self._cache_lock:
            cached = self._cache.get(key)
            if cached is not None and cached.version == version:
                self._cache.move_to_end(key)
                return cached
        loaded = None
        if cached is not None and cached.version < version:
            loaded = cached.refreshed(version, _changed_since(company_id, cached.version),
                                      partial(_read_rows, company_id, dimension), self.exact_rows)
        if loaded is None:
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


def _record_change(company_id: uuid.UUID, data_source_ids: set[uuid.UUID]) -> None:
    """Bump the company's version, and record the new version against each data source changed."""
    VectorIndexVersion.objects.get_or_create(company_id=company_id)
    # The update locks the company's row until the transaction ends: versions are recorded in the
    # order their transactions commit.
    VectorIndexVersion.objects.filter(company_id=company_id).update(version=F("version") + 1)
    version = _current_version(company_id)
    VectorIndexChange.objects.bulk_create(
        [VectorIndexChange(company_id=company_id, data_source_id=source, version=version)
         for source in data_source_ids],
        update_conflicts=True, unique_fields=["company", "data_source_id"], update_fields=["version"],
    )


def _current_version(company_id: uuid.UUID) -> int:
    return VectorIndexVersion.objects.filter(company_id=company_id).values_list("version", flat=True).first() or 0


def _changed_since(company_id: uuid.UUID, version: int) -> set[uuid.UUID]:
    return set(VectorIndexChange.objects.filter(company_id=company_id, version__gt=version)
               .values_list("data_source_id", flat=True))


@dataclass(frozen=True)
class Rows:
    matrix: np.ndarray  # (rows, dimension) float32, rows of length 1
    chunk_ids: list[str]
    source_ids: list[uuid.UUID]


def _read_rows(company_id: uuid.UUID, dimension: int, data_source_ids: Collection[uuid.UUID] | None = None) -> Rows:
    """The company's vectors of this dimension: every one, or those of these data sources."""
    chunks = Chunk.objects.filter(company_id=company_id, embedding__isnull=False).order_by()
    if data_source_ids is None:
        selections = [chunks]
    else:
        sources = sorted(data_source_ids)
        selections = [chunks.filter(data_source_id__in=sources[start:start + WRITE_BATCH])
                      for start in range(0, len(sources), WRITE_BATCH)]
    row_bytes = dimension * np.dtype(np.float32).itemsize
    buffer, chunk_ids, source_ids = bytearray(), [], []
    for selection in selections:
        for chunk_id, source_id, embedding in (selection.values_list("id", "data_source_id", "embedding")
                                               .iterator(chunk_size=2000)):
            if len(embedding) != row_bytes:
                continue  # another model's vector: a re-index to a new model is under way
            buffer += embedding
            chunk_ids.append(chunk_id)
            source_ids.append(source_id)
    matrix = normalize_rows(np.frombuffer(buffer, dtype=np.float32).reshape(-1, dimension))
    return Rows(matrix, chunk_ids, source_ids)


def _load_matrix(company_id: uuid.UUID, dimension: int, version: int, exact_rows: int) -> CompanyMatrix:
    rows = _read_rows(company_id, dimension)
    codes: dict[uuid.UUID, int] = {}
    source_codes = np.array([codes.setdefault(source, len(codes)) for source in rows.source_ids], dtype=np.int32)
    block = Block(rows.matrix, rows.chunk_ids, source_codes)
    partitions = None
    if len(rows.chunk_ids) > exact_rows:
        partitions, block = Partitions.build(block, exact_rows)
    return CompanyMatrix(version=version, blocks=(block,), codes=codes, code_count=len(codes), partitions=partitions)


@dataclass(frozen=True)
class Partitions:
    """An inverted file: the k-means centroids that a company's rows are sorted by (each row is in
    the partition of its nearest centroid), whichever block the rows are in."""

    centroids: np.ndarray  # (partitions, dimension) float32, rows of length 1
    exact_rows: int

    @property
    def nbytes(self) -> int:
        return self.centroids.nbytes

    @classmethod
    def build(cls, block: Block, exact_rows: int) -> tuple["Partitions", Block]:
        """The partitions of the block's rows, and the block sorted by partition."""
        count = max(1, int(LISTS_PER_SQRT_ROW * np.sqrt(len(block.matrix))))
        centroids = _kmeans(block.matrix, count, np.random.default_rng(0))  # seeded: a reload partitions alike
        nearest = _nearest_centroid(block.matrix, centroids)
        return cls(centroids, exact_rows), Block.by_partition(block.matrix, block.chunk_ids, block.source_codes,
                                                              nearest, count)

    def nearest_rows(self, query: np.ndarray, allowed: np.ndarray | None, blocks: Sequence[Block],
                     top_k: int) -> list[np.ndarray]:
        """The rows of the allowed data sources (every one when `allowed` is None) to score, in each
        block: all of them when they are at most `exact_rows`, else those of the partitions nearest the
        query, until PROBE_SHARE of them (and PROBE_ROWS_PER_RESULT for each result) are taken."""
        per_partition = np.zeros(len(self.centroids), dtype=np.int64)
        for block in blocks:
            rows_of_pairs = block.pair_rows if allowed is None else block.pair_rows * allowed[block.pair_source]
            per_partition += np.bincount(block.pair_partition, rows_of_pairs, len(self.centroids)).astype(np.int64)
        searchable = int(per_partition.sum())
        wanted = searchable
        if searchable > self.exact_rows:
            wanted = max(PROBE_SHARE * searchable, PROBE_ROWS_PER_RESULT * top_k)
        holding = np.flatnonzero(per_partition)
        order = holding[np.argsort(-(self.centroids[holding] @ query))]
        taken = order[:int(np.searchsorted(np.cumsum(per_partition[order]), wanted)) + 1]
        found = []
        for block in blocks:
            rows = block.rows_in(taken)
            found.append(rows if allowed is None else rows[allowed[block.source_codes[rows]]])
        return found


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
