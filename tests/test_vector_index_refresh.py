"""The local vector index after another process changed a company's vectors: the next query sees the
change, having read again only the data sources that changed (datasources/indexes/vector/local.py)."""

import numpy as np
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from datasources.indexes.vector import VectorRecord
from datasources.indexes.vector.local import LocalVectorIndex, Partitions
from datasources.models import Chunk, DataSource
from datasources.services import datasource_delete
from tests.test_vectorindex import DIMENSION, add_chunks, ids_of, topics, unit

EXACT_ROWS = 50  # the partitioned tests stand for a company of millions with a few hundred rows


@pytest.fixture
def make_source(company_a):
    def make(name: str, company=company_a) -> DataSource:
        return DataSource.objects.create(company=company, name=name, type="pdf", status=DataSource.Status.READY)
    return make


@pytest.fixture
def partitionings(monkeypatch):
    """How many times a company was partitioned (k-means over all of its rows)."""
    calls = []
    build = Partitions.build

    def counted(*args, **kwargs):
        calls.append(1)
        return build(*args, **kwargs)

    monkeypatch.setattr(Partitions, "build", staticmethod(counted))
    return calls


def reprocess(index: LocalVectorIndex, source: DataSource, vectors: np.ndarray) -> list[VectorRecord]:
    """What the worker does when a file is processed again: its chunks replaced in one transaction, then
    the new ones indexed and those no longer there deleted (datasources/pipeline.py, Run.store)."""
    earlier = set(Chunk.objects.filter(data_source=source).values_list("id", flat=True))
    Chunk.objects.filter(data_source=source).delete()
    records = add_chunks(source, list(vectors), text="Processed again.")
    index.upsert(records)
    dropped = sorted(earlier - {record.id for record in records})
    if dropped:
        index.delete(company_id=source.company_id, data_source_id=source.id, ids=dropped)
    return records


def chunk_reads(queries: CaptureQueriesContext) -> list[str]:
    """The statements that read chunks' vectors, with ids written as 32 hex digits (as on SQLite)."""
    return [query["sql"].replace("-", "") for query in queries.captured_queries
            if 'FROM "chunks"' in query["sql"] and '"chunks"."embedding"' in query["sql"]]


def test_a_new_data_source_is_found_after_reading_only_its_rows(web, worker, make_source, company_a):
    report, prices = make_source("report.pdf"), make_source("prices.xlsx")
    query = unit(1)
    worker.upsert(add_chunks(report, [unit(100 + n) for n in range(200)]))
    search = dict(company_id=company_a.id, vector=query, data_source_ids=[report.id, prices.id], top_k=3)
    assert ids_of(web.query(**search))[0].startswith(f"datasource_{report.id}_")  # now cached

    added = add_chunks(prices, [query, unit(2)])
    worker.upsert(added)
    with CaptureQueriesContext(connection) as queries:
        assert ids_of(web.query(**search))[0] == added[0].id
    # The version, the data sources changed since the cached one, and the rows of those only.
    assert len(queries.captured_queries) == 3
    [read] = chunk_reads(queries)
    assert prices.id.hex in read and report.id.hex not in read


def test_deleted_chunks_and_deleted_data_sources_are_gone_from_the_next_query(web, worker, make_source,
                                                                            company_a, settings):
    settings.VECTOR_BACKEND = "local"
    report, prices = make_source("report.pdf"), make_source("prices.xlsx")
    query = unit(1)
    in_report = add_chunks(report, [query] + [unit(100 + n) for n in range(200)])
    in_prices = add_chunks(prices, [unit(2 + n) for n in range(10)] + [query])
    worker.upsert(in_report + in_prices)
    search = dict(company_id=company_a.id, vector=query, data_source_ids=[report.id, prices.id], top_k=300)
    assert {in_report[0].id, in_prices[-1].id} <= set(ids_of(web.query(**search)))

    worker.delete(company_id=company_a.id, data_source_id=report.id, ids=[in_report[0].id])
    assert in_report[0].id not in ids_of(web.query(**search))

    datasource_delete(data_source=prices)  # through the configured index, another cache than `web`'s
    found = ids_of(web.query(**search))
    assert len(found) == 200 and all(chunk_id.startswith(f"datasource_{report.id}_") for chunk_id in found)
    assert web.query(**{**search, "data_source_ids": [in_prices[0].data_source_id]}) == []


def test_results_after_changes_equal_those_of_a_fresh_load(web, worker, make_source, company_a, settings):
    """A copy kept up to date change by change answers exactly as one loaded from the database."""
    settings.VECTOR_BACKEND = "local"
    large, small, doomed = make_source("large.pdf"), make_source("small.pdf"), make_source("doomed.pdf")
    vectors = topics(20, 40, seed=1)  # 800 passages on 20 topics
    worker.upsert(add_chunks(large, list(vectors[:600])) + add_chunks(small, list(vectors[600:620]))
                  + add_chunks(doomed, list(vectors[620:640])))
    queries = topics(20, 1, seed=1)
    added = make_source("added.pdf")
    changes = [
        lambda: worker.upsert(add_chunks(added, list(vectors[640:670]))),
        lambda: reprocess(worker, small, vectors[700:712]),  # fewer chunks, other passages
        lambda: datasource_delete(data_source=doomed),
        lambda: reprocess(worker, added, vectors[670:690]),  # a data source changed twice
    ]
    scopes = [[large.id, small.id, doomed.id, added.id], [small.id, added.id], [doomed.id], [large.id]]

    def answers(index):
        return [index.query(company_id=company_a.id, vector=query, data_source_ids=scope, top_k=10)
                for scope in scopes for query in queries]

    answers(web)
    for change in changes:
        change()
        with CaptureQueriesContext(connection) as reads:
            incremental = answers(web)
        assert chunk_reads(reads) and all('"chunks"."data_source_id" IN' in read for read in chunk_reads(reads))
        fresh = answers(LocalVectorIndex(cache_mb=64))
        assert [ids_of(matches) for matches in incremental] == [ids_of(matches) for matches in fresh]
        assert [score for matches in incremental for _, score in matches] == pytest.approx(
            [score for matches in fresh for _, score in matches], abs=1e-6)
    assert all(matches == [] for matches in answers(web)[2 * len(queries):3 * len(queries)])  # the doomed one


def test_another_companys_change_neither_reaches_nor_reloads_a_company(web, worker, make_source, company_a,
                                                                      company_b, django_assert_num_queries):
    report, secret = make_source("report.pdf"), make_source("secret.pdf", company=company_b)
    query = unit(1)
    worker.upsert(add_chunks(report, [unit(2 + n) for n in range(100)]) + add_chunks(secret, [unit(200)]))
    search_a = dict(company_id=company_a.id, vector=query, data_source_ids=[report.id, secret.id], top_k=5)
    search_b = dict(company_id=company_b.id, vector=query, data_source_ids=[secret.id], top_k=5)
    web.query(**search_a)
    web.query(**search_b)

    in_b = add_chunks(secret, [query])
    worker.upsert(in_b)
    with django_assert_num_queries(1):  # company A's version only: its copy is still current
        assert in_b[0].id not in ids_of(web.query(**search_a))
    assert ids_of(web.query(**search_b))[0] == in_b[0].id

    in_a = add_chunks(make_source("new.pdf"), [query])
    worker.upsert(in_a)
    with CaptureQueriesContext(connection) as queries:
        found = ids_of(web.query(**{**search_a, "data_source_ids": [report.id, secret.id, in_a[0].data_source_id]}))
    assert found[0] == in_a[0].id and not any(chunk_id.startswith(f"datasource_{secret.id}") for chunk_id in found)
    [read] = chunk_reads(queries)
    assert company_a.id.hex in read and company_b.id.hex not in read


def test_a_query_holding_the_earlier_copy_finishes_on_it_unchanged(web, worker, make_source, company_a):
    report, notes = make_source("report.pdf"), make_source("notes.txt")
    query = unit(1)
    in_notes = add_chunks(notes, [query] + [unit(2 + n) for n in range(4)])
    worker.upsert(add_chunks(report, list(topics(4, 25, seed=3))) + in_notes)
    held = web._company_matrix(company_a.id, DIMENSION)  # as a query in another thread holds it
    before = held.nearest(query, [report.id, notes.id], 5)
    assert before[0][0] == in_notes[0].id

    newer = add_chunks(make_source("new.pdf"), [query])
    worker.upsert(newer)
    worker.delete(company_id=company_a.id, data_source_id=notes.id, ids=[in_notes[0].id])
    scope = [report.id, notes.id, newer[0].data_source_id]
    found = ids_of(web.query(company_id=company_a.id, vector=query, data_source_ids=scope, top_k=5))
    assert found[0] == newer[0].id and in_notes[0].id not in found
    assert held.nearest(query, [report.id, notes.id], 5) == before


# --- a company above `exact_rows`, searched by partitions -------------------------------------------

def test_a_partitioned_company_stays_correct_through_small_changes(partitionings, worker, make_source, company_a):
    web = LocalVectorIndex(cache_mb=64, exact_rows=EXACT_ROWS)
    large, small = make_source("large.pdf"), make_source("small.pdf")
    vectors = topics(20, 50, seed=4)  # 1,000 passages on 20 topics
    worker.upsert(add_chunks(large, list(vectors[:800])) + add_chunks(small, list(vectors[800:840])))
    questions = topics(20, 1, seed=4)
    web.query(company_id=company_a.id, vector=questions[0], data_source_ids=[large.id], top_k=10)
    assert len(partitionings) == 1

    added, later = make_source("added.pdf"), make_source("later.pdf")
    in_added = add_chunks(added, list(vectors[840:880]) + [questions[17]])
    worker.upsert(in_added)
    deleted = list(Chunk.objects.filter(data_source=small).order_by("position").values_list("id", flat=True))[:20]
    worker.delete(company_id=company_a.id, data_source_id=small.id, ids=deleted)
    in_later = add_chunks(later, list(vectors[880:910]))
    worker.upsert(in_later)

    everyone = [large.id, small.id, added.id, later.id]
    recalls = []
    for scope in (everyone, [large.id, added.id], [small.id, later.id]):
        for question in questions:
            search = dict(company_id=company_a.id, vector=question, data_source_ids=scope, top_k=10)
            found = ids_of(web.query(**search))
            expected = ids_of(LocalVectorIndex(cache_mb=64).query(**search))  # exact, loaded afresh
            assert len(found) == 10 and not set(found) & set(deleted)
            assert all(any(chunk_id.startswith(f"datasource_{source}_") for source in scope) for chunk_id in found)
            recalls.append(len(set(found) & set(expected)) / 10)
            if scope[0] == small.id:  # 50 rows: at most `exact_rows`, so searched exactly
                assert found == expected
    assert np.mean(recalls) >= 0.95
    assert ids_of(web.query(company_id=company_a.id, vector=questions[17], data_source_ids=everyone,
                            top_k=1)) == [in_added[-1].id]
    assert len(partitionings) == 1  # new rows joined the existing partitions

    reprocess(worker, large, vectors[100:500])  # most of the company changed: partitioned anew
    search = dict(company_id=company_a.id, vector=questions[3], data_source_ids=[large.id], top_k=10)
    found = ids_of(web.query(**search))
    assert len(partitionings) == 2
    assert found == ids_of(LocalVectorIndex(cache_mb=64, exact_rows=EXACT_ROWS).query(**search))  # as loaded afresh


def test_a_company_growing_past_exact_rows_is_partitioned(partitionings, worker, make_source, company_a):
    web = LocalVectorIndex(cache_mb=64, exact_rows=EXACT_ROWS)
    report = make_source("report.pdf")
    vectors = topics(4, 25, seed=5)
    worker.upsert(add_chunks(report, list(vectors[:45])))
    search = dict(company_id=company_a.id, vector=vectors[50], data_source_ids=[report.id], top_k=5)
    web.query(**search)
    assert partitionings == []

    added = add_chunks(make_source("added.pdf"), list(vectors[45:55]))
    worker.upsert(added)
    search["data_source_ids"] = [report.id, added[0].data_source_id]
    assert ids_of(web.query(**search))[0] == added[5].id  # vectors[50] itself
    assert len(partitionings) == 1
