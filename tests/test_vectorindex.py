"""Vector indexes: the local one on the database, Pinecone through a local server speaking its API."""

import numpy as np
import pytest
from pinecone import Pinecone

from datasources import chunk_format
from datasources.indexes.vector import VectorIndexError, VectorRecord, get_vector_index, namespace_for
from datasources.indexes.vector.local import LocalVectorIndex, Partitions
from datasources.models import Chunk, DataSource
from tests.fakes.pinecone_server import running_pinecone

DIMENSION = 384
PINECONE_KEY = "pc-test-docent"


def unit(seed: int) -> np.ndarray:
    vector = np.random.default_rng(seed).standard_normal(DIMENSION).astype(np.float32)
    return vector / np.linalg.norm(vector)


def near(vector: np.ndarray, seed: int, noise: float = 0.3) -> np.ndarray:
    return vector + noise * unit(seed)


def add_chunks(source: DataSource, vectors: list[np.ndarray], text: str = "Some passage.") -> list[VectorRecord]:
    """Chunks stored as the worker stores them, and the records it then indexes."""
    start = Chunk.objects.filter(data_source=source).count()
    chunks = [
        Chunk(id=chunk_format.chunk_id(source.id, start + n), company_id=source.company_id, data_source=source,
              position=start + n, text=f"{text} ({start + n})",
              metadata={"file_name": source.name, "page_number": start + n + 1, "sheet": None},
              embedding=np.asarray(vector, dtype=np.float32).tobytes())
        for n, vector in enumerate(vectors)
    ]
    Chunk.objects.bulk_create(chunks)
    return [VectorRecord.from_chunk(chunk) for chunk in chunks]


def ids_of(matches) -> list[str]:
    return [chunk_id for chunk_id, _ in matches]


@pytest.fixture
def sources(company_a, company_b):
    make = DataSource.objects.create
    return {
        "a1": make(company=company_a, name="report.pdf", type="pdf"),
        "a2": make(company=company_a, name="prices.xlsx", type="xlsx"),
        "b1": make(company=company_b, name="secret.pdf", type="pdf"),
    }


@pytest.fixture
def pinecone_server():
    with running_pinecone(api_key=PINECONE_KEY, dimension=DIMENSION) as server:
        yield server


@pytest.fixture
def pinecone_settings(settings, pinecone_server):
    settings.VECTOR_BACKEND = "pinecone"
    settings.PINECONE_API_KEY = PINECONE_KEY
    settings.PINECONE_INDEX_HOST = pinecone_server.url
    return settings


@pytest.fixture(params=["local", "pinecone"])
def index(request, settings):
    if request.param == "pinecone":
        request.getfixturevalue("pinecone_settings")
    else:
        settings.VECTOR_BACKEND = "local"
    return get_vector_index()


# --- both backends -----------------------------------------------------------------------------

def test_nearest_chunks_come_first_with_cosine_scores(index, sources, company_a):
    a1 = sources["a1"]
    query = unit(1)
    records = add_chunks(a1, [unit(2), near(query, 3), query, unit(4)])
    index.upsert(records)
    matches = index.query(company_id=company_a.id, vector=query, data_source_ids=[a1.id], top_k=3)
    assert ids_of(matches)[:2] == [records[2].id, records[1].id]
    assert len(matches) == 3
    assert matches[0][1] == pytest.approx(1.0, abs=1e-5)
    assert [score for _, score in matches] == sorted((score for _, score in matches), reverse=True)


def test_another_companys_vectors_are_never_returned(index, sources, company_a, company_b):
    query = unit(1)
    index.upsert(add_chunks(sources["b1"], [query]) + add_chunks(sources["a1"], [unit(2)]))
    # Even when asked for company B's data source by id, company A's search stays in company A.
    matches = index.query(company_id=company_a.id, vector=query,
                          data_source_ids=[sources["a1"].id, sources["b1"].id], top_k=10)
    assert ids_of(matches) == [chunk_format.chunk_id(sources["a1"].id, 0)]
    matches_b = index.query(company_id=company_b.id, vector=query, data_source_ids=[sources["b1"].id], top_k=10)
    assert ids_of(matches_b) == [chunk_format.chunk_id(sources["b1"].id, 0)]


def test_query_searches_only_the_named_data_sources(index, sources, company_a):
    query = unit(1)
    in_a1 = add_chunks(sources["a1"], [near(query, 2)])
    in_a2 = add_chunks(sources["a2"], [query])
    index.upsert(in_a1 + in_a2)
    only_a1 = index.query(company_id=company_a.id, vector=query, data_source_ids=[sources["a1"].id], top_k=10)
    assert ids_of(only_a1) == [in_a1[0].id]
    assert index.query(company_id=company_a.id, vector=query, data_source_ids=[], top_k=10) == []


def test_deleting_a_data_sources_vectors_removes_them_from_results(index, sources, company_a):
    query = unit(1)
    doomed = add_chunks(sources["a1"], [query, near(query, 2)])
    kept = add_chunks(sources["a2"], [near(query, 3)])
    index.upsert(doomed + kept)
    index.delete(company_id=company_a.id, data_source_id=sources["a1"].id, ids=[r.id for r in doomed])
    matches = index.query(company_id=company_a.id, vector=query,
                          data_source_ids=[sources["a1"].id, sources["a2"].id], top_k=10)
    assert ids_of(matches) == [kept[0].id]


def test_delete_refuses_ids_of_another_data_source(index, sources, company_a):
    other = add_chunks(sources["a2"], [unit(1)])
    index.upsert(other)
    with pytest.raises(ValueError, match="not chunks of data source"):
        index.delete(company_id=company_a.id, data_source_id=sources["a1"].id, ids=[other[0].id])


# --- local ---------------------------------------------------------------------------------------

def test_a_change_made_by_another_process_is_seen_by_the_next_query(web, worker, sources, company_a):
    a1, a2 = sources["a1"], sources["a2"]
    query = unit(1)
    first = add_chunks(a1, [near(query, 2)])
    worker.upsert(first)
    search = dict(company_id=company_a.id, vector=query, data_source_ids=[a1.id, a2.id], top_k=5)
    assert ids_of(web.query(**search)) == [first[0].id]  # now cached in the web process

    added = add_chunks(a2, [query])  # the worker stores chunks through the ORM, then indexes them
    worker.upsert(added)
    assert ids_of(web.query(**search)) == [added[0].id, first[0].id]

    worker.delete(company_id=company_a.id, data_source_id=a2.id, ids=[added[0].id])
    assert ids_of(web.query(**search)) == [first[0].id]


def test_an_unchanged_company_costs_one_indexed_read_per_query(web, sources, company_a,
                                                                django_assert_num_queries):
    records = add_chunks(sources["a1"], [unit(n) for n in range(50)])
    web.upsert(records)
    search = dict(company_id=company_a.id, vector=unit(7), data_source_ids=[sources["a1"].id], top_k=3)
    web.query(**search)
    with django_assert_num_queries(1):
        assert ids_of(web.query(**search))[0] == records[7].id


def test_the_latest_company_stays_cached_when_the_budget_is_exceeded(sources, company_a, company_b,
                                                                     django_assert_num_queries):
    small = LocalVectorIndex(cache_mb=0)  # room for nothing but the company just queried
    small.upsert(add_chunks(sources["a1"], [unit(1)]) + add_chunks(sources["b1"], [unit(2)]))
    search_a = dict(company_id=company_a.id, vector=unit(1), data_source_ids=[sources["a1"].id], top_k=1)
    search_b = dict(company_id=company_b.id, vector=unit(2), data_source_ids=[sources["b1"].id], top_k=1)
    small.query(**search_a)
    with django_assert_num_queries(1):
        small.query(**search_a)
    small.query(**search_b)  # evicts company A
    with django_assert_num_queries(2):  # version, then A's vectors again
        assert small.query(**search_a)[0][0] == chunk_format.chunk_id(sources["a1"].id, 0)


def test_vectors_of_another_model_are_left_out_during_a_reindex(web, sources, company_a):
    query = unit(1)
    current = add_chunks(sources["a1"], [near(query, 2)])
    web.upsert(current)
    older_model = np.ones(1536, dtype=np.float32)
    add_chunks(sources["a1"], [older_model])  # not yet re-embedded with the configured model
    matches = web.query(company_id=company_a.id, vector=query, data_source_ids=[sources["a1"].id], top_k=5)
    assert ids_of(matches) == [current[0].id]


def test_local_upsert_refuses_vectors_without_a_chunk_of_that_company(web, sources, company_b):
    record = add_chunks(sources["a1"], [unit(1)])[0]
    foreign = VectorRecord(id=record.id, company_id=company_b.id, data_source_id=record.data_source_id,
                           vector=record.vector, text=record.text, metadata=record.metadata)
    with pytest.raises(VectorIndexError, match="no chunk of company"):
        web.upsert([foreign])


# --- Pinecone -------------------------------------------------------------------------------------

def test_pinecone_records_follow_the_spec_in_the_companys_namespace(pinecone_settings, pinecone_server,
                                                                   sources, company_a):
    a1 = sources["a1"]
    record = add_chunks(a1, [unit(1)], text="Revenue rose.")[0]
    get_vector_index().upsert([record])
    stored = Pinecone(api_key=PINECONE_KEY).Index(host=pinecone_server.url).fetch(
        ids=[record.id], namespace=namespace_for(company_a.id)).vectors[record.id]
    assert stored.metadata == {
        "company_id": str(company_a.id), "data_source_id": str(a1.id),
        "chunk_text": "Revenue rose. (0)", "file_name": "report.pdf", "page_number": 1,
    }
    assert record.id == f"datasource_{a1.id}_chunk_0"
    assert list(pinecone_server.namespaces) == [f"company_{company_a.id}"]


def test_pinecone_upserts_are_split_within_its_request_limits(pinecone_settings, pinecone_server,
                                                              sources, company_a):
    long_text = "A long passage of a spreadsheet. " * 600  # about 20 KB of metadata per record
    records = add_chunks(sources["a1"], [unit(n) for n in range(250)], text=long_text)
    get_vector_index().upsert(records)
    upserts = [r for r in pinecone_server.requests if r.path == "/vectors/upsert"]
    assert len(upserts) > 3
    assert all(len(r.json()["vectors"]) <= 100 and len(r.body) <= 2 * 1024 * 1024 for r in upserts)
    assert len(pinecone_server.namespaces[namespace_for(company_a.id)]) == 250


def test_pinecone_failures_are_reported_plainly(pinecone_settings, sources, company_a):
    pinecone_settings.PINECONE_API_KEY = "pc-wrong"
    with pytest.raises(VectorIndexError, match=r"could not search: \[401 UNAUTHENTICATED\] Invalid API Key"):
        get_vector_index().query(company_id=company_a.id, vector=unit(1),
                                 data_source_ids=[sources["a1"].id], top_k=3)


# --- local, a company too large to read every row: searched by partitions --------------------------

EXACT_ROWS = 100  # tests stand for a company of millions with a few thousand rows


def topics(count: int, per_topic: int, seed: int) -> np.ndarray:
    """Unit vectors in clusters of `per_topic`, as a document's passages are: each one about as close
    to its topic as real passages to their document (cosine ~0.7), far from other topics."""
    rng = np.random.default_rng(seed)
    centers = rng.standard_normal((count, DIMENSION)).astype(np.float32)
    centers /= np.linalg.norm(centers, axis=1, keepdims=True)
    vectors = np.repeat(centers, per_topic, axis=0) + rng.standard_normal(
        (count * per_topic, DIMENSION)).astype(np.float32) / np.sqrt(DIMENSION)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


@pytest.fixture
def partitioned():
    return LocalVectorIndex(cache_mb=64, exact_rows=EXACT_ROWS)


@pytest.fixture
def exact():
    return LocalVectorIndex(cache_mb=64)


@pytest.fixture
def rows_read(monkeypatch):
    """How many rows each query of a partitioned company scored."""
    counts = []
    nearest_rows = Partitions.nearest_rows

    def counted(self, *args, **kwargs):
        rows = nearest_rows(self, *args, **kwargs)
        counts.append(sum(len(block_rows) for block_rows in rows))
        return rows

    monkeypatch.setattr(Partitions, "nearest_rows", counted)
    return counts


def test_a_large_company_finds_nearly_all_of_the_exact_nearest_chunks(partitioned, exact, rows_read,
                                                                     sources, company_a):
    a1, a2 = sources["a1"], sources["a2"]
    vectors = topics(60, 50, seed=1)
    partitioned.upsert(add_chunks(a1, list(vectors[:1500])) + add_chunks(a2, list(vectors[1500:])))
    # Questions about a1's documents: new passages on its topics (the first 30).
    queries = topics(60, 1, seed=1)[:30]
    recalls = []
    for query in queries:
        search = dict(company_id=company_a.id, vector=query, data_source_ids=[a1.id], top_k=10)
        expected = set(ids_of(exact.query(**search)))
        recalls.append(len(expected & set(ids_of(partitioned.query(**search)))) / 10)
    assert len(rows_read) == len(queries) and max(rows_read) < 1500  # fewer than a1's rows
    assert np.mean(recalls) >= 0.95


def test_a_large_company_search_returns_only_the_named_data_sources(partitioned, rows_read, sources,
                                                                   company_a, company_b):
    a1, a2, b1 = sources["a1"], sources["a2"], sources["b1"]
    vectors = topics(30, 100, seed=2)
    # Both data sources on every topic, so every partition holds rows of both.
    in_a1 = add_chunks(a1, list(vectors[0::2]))
    in_a2 = add_chunks(a2, list(vectors[1::2]))
    in_b1 = add_chunks(b1, list(vectors[1::2]))  # company B holds copies of a2's passages
    partitioned.upsert(in_a1 + in_a2 + in_b1)
    for query in vectors[1:300:10]:  # each exactly one of a2's (and B's) passages
        matches = partitioned.query(company_id=company_a.id, vector=query,
                                    data_source_ids=[a1.id, b1.id], top_k=50)
        assert len(matches) == 50
        assert {chunk_id for chunk_id, _ in matches} <= {record.id for record in in_a1}
    assert partitioned.query(company_id=company_a.id, vector=vectors[1], data_source_ids=[], top_k=5) == []
    assert len(rows_read) == 31 and max(rows_read) < 1500


def test_a_large_company_never_returns_deleted_chunks(partitioned, rows_read, sources, company_a):
    a1, a2 = sources["a1"], sources["a2"]
    vectors = topics(30, 100, seed=3)
    in_a1 = add_chunks(a1, list(vectors[:1500]))
    in_a2 = add_chunks(a2, list(vectors[1500:]))
    partitioned.upsert(in_a1 + in_a2)
    query = vectors[20]
    search = dict(company_id=company_a.id, vector=query, data_source_ids=[a1.id, a2.id], top_k=20)
    first = ids_of(partitioned.query(**search))
    assert first[0] == in_a1[20].id
    doomed = [record.id for record in in_a1[:100]]  # the query's whole topic
    partitioned.delete(company_id=company_a.id, data_source_id=a1.id, ids=doomed)
    after = ids_of(partitioned.query(**search))
    assert len(after) == 20
    assert not set(after) & set(doomed)
    added = add_chunks(a2, [query])
    partitioned.upsert(added)
    assert ids_of(partitioned.query(**search))[0] == added[0].id
    assert len(rows_read) == 3 and max(rows_read) < 3000


def test_a_small_data_source_of_a_large_company_is_searched_exactly(partitioned, exact, rows_read,
                                                                    sources, company_a):
    a1, a2 = sources["a1"], sources["a2"]
    vectors = topics(30, 100, seed=4)
    partitioned.upsert(add_chunks(a1, list(vectors[:2950])) + add_chunks(a2, list(vectors[2950:])))
    for query in topics(10, 1, seed=5):
        search = dict(company_id=company_a.id, vector=query, data_source_ids=[a2.id], top_k=10)
        found, expected = partitioned.query(**search), exact.query(**search)
        assert ids_of(found) == ids_of(expected)
        assert [score for _, score in found] == pytest.approx([score for _, score in expected], abs=1e-6)
    assert rows_read == [50] * 10  # a2's every row, and only those
