"""The indexes of a data source: written by the pipeline's index step, searched through `chunk_search`.

The lexical index is stored by the pipeline and loaded by each web process; it must search exactly
like one built from the chunks (as every process did before), and go with its data source.
"""

import datetime
import io
import uuid

import numpy as np
import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from datasources import chunk_format
from datasources.indexes import lexical
from datasources.models import Chunk, DataSource, LexicalIndex
from datasources.pipeline import process
from datasources.selectors import chunk_search
from datasources.services import datasource_delete, datasource_upload
from tests.chatting import WAREHOUSE, add_source
from tests.ingestion import CORPUS

QUESTIONS = ["How many firearm background checks were there in Texas?", "handgun permit totals",
             "What were the inventory reserves?"]


@pytest.fixture
def lexical_only(settings):
    settings.EMBEDDING_BACKEND = "none"


def processed_source(company) -> DataSource:
    name = "nics-background-checks-2015-11.pdf"
    source = datasource_upload(company=company, user=None, path=CORPUS / "pdf" / name, name=name,
                               enqueue=False).data_source
    process(str(source.id))
    source.refresh_from_db()
    assert source.status == DataSource.Status.READY
    return source


def built_from_chunks(source: DataSource) -> lexical.SourceIndex:
    return lexical.SourceIndex.build(Chunk.objects.filter(data_source=source).order_by("position")
                                     .values_list("id", "text"))


def test_an_index_knows_the_latest_date_its_document_opens_with_as_it_is_built_and_loaded():
    # The period a document reports on, which "the latest report" questions prefer (chat/retrieval/documents.py).
    index = lexical.SourceIndex.build([
        ("c1", "Quarterly report › Cover\nFor the quarter ended July 1, 2023, against June 25, 2022"),
        ("c2", "Quarterly report › Signatures\nFiled 2023-08-04; a misprint: February 30, 2024")])
    assert index.opening_date == datetime.date(2023, 8, 4)
    assert lexical.SourceIndex.from_bytes(index.to_bytes()).opening_date == datetime.date(2023, 8, 4)
    assert lexical.SourceIndex.build([("c1", "Menu › Soups\nTomato soup; 4.50")]).opening_date is None


@pytest.mark.django_db(transaction=True)
def test_the_stored_lexical_index_searches_exactly_like_one_built_from_the_chunks(company_a, lexical_only):
    source = processed_source(company_a)
    stored = lexical.SourceIndex.from_bytes(LexicalIndex.objects.get(data_source=source).data)
    built = built_from_chunks(source)
    assert stored.chunk_ids == built.chunk_ids and stored.opening == built.opening
    assert stored.opening_date == built.opening_date
    assert np.array_equal(stored.lengths, built.lengths)
    assert list(stored.postings) == list(built.postings)
    assert all(stored.term_count(term) == built.term_count(term) for term in built.postings)
    for question in QUESTIONS:
        terms = lexical.tokenize(question)
        weights = lexical.idf([built], terms)
        assert lexical.search([stored], terms, 20) == lexical.search([built], terms, 20)
        assert stored.named_rows(weights) == built.named_rows(weights)


@pytest.mark.django_db(transaction=True)
def test_a_web_process_loads_the_stored_index_without_reading_the_chunks(company_a, lexical_only):
    source = processed_source(company_a)
    with CaptureQueriesContext(connection) as queries:
        index = lexical.IndexCache().get(source.id, source.updated_at.isoformat())
    assert len(index.chunk_ids) == source.chunk_count
    assert not any('"chunks"' in query["sql"] for query in queries.captured_queries)


def test_a_data_source_processed_before_indexes_were_stored_is_searched_from_its_chunks(company_a, lexical_only):
    source = add_source(company_a, "handbook.pdf", WAREHOUSE)
    LexicalIndex.objects.filter(data_source=source).delete()
    index = lexical.IndexCache().get(source.id, source.updated_at.isoformat())
    assert index.chunk_ids == [chunk_format.chunk_id(source.id, n) for n in range(len(WAREHOUSE))]
    call_command("reindex", stdout=io.StringIO())  # and `reindex` stores it
    assert LexicalIndex.objects.get(data_source=source).data == lexical.SourceIndex.build(
        (index.chunk_ids[n], text) for n, text in enumerate(WAREHOUSE)).to_bytes()


def test_an_index_stored_with_another_tokenizers_words_is_searched_from_the_chunks(company_a, lexical_only):
    # Stored before plurals in -xes were folded: the index holds "taxe", where a question now asks for "tax"
    source = add_source(company_a, "statement.pdf", ["Statement › Activity\nTaxes withheld this month: 963.01"])
    stored = LexicalIndex.objects.get(data_source=source)
    old = lexical.SourceIndex.from_bytes(stored.data)
    postings = {("taxe" if term == "tax" else term): rows for term, rows in old.postings.items()}
    stored.data = lexical.SourceIndex(old.chunk_ids, old.lengths, postings, old.opening, old.figure_rows,
                                      tokenizer=1).to_bytes()
    stored.save()
    index = lexical.IndexCache().get(source.id, source.updated_at.isoformat())
    assert index.tokenizer == lexical.TOKENIZER_VERSION and "tax" in index.postings and "taxe" not in index.postings
    assert lexical.search([index], lexical.tokenize("How much tax was withheld?"), 5)
    call_command("reindex", stdout=io.StringIO())  # and `reindex` stores it again
    assert lexical.SourceIndex.from_bytes(LexicalIndex.objects.get(data_source=source).data).tokenizer == 2


def test_plurals_are_folded_to_the_word_a_question_uses():
    assert [lexical.stem(word) for word in ("taxes", "losses", "branches", "wishes", "expenses", "countries",
                                            "business", "status", "analysis")] == [
        "tax", "loss", "branch", "wish", "expense", "country", "business", "status", "analysis"]


def test_a_lexical_index_goes_with_its_data_source(company_a, lexical_only):
    source = add_source(company_a, "handbook.pdf", WAREHOUSE)
    assert LexicalIndex.objects.filter(data_source=source).exists()
    datasource_delete(data_source=source)
    assert not LexicalIndex.objects.filter(data_source_id=source.id).exists()


def test_chunk_search_holds_only_the_companys_ready_data_sources(company_a, company_b, lexical_only):
    own = add_source(company_a, "handbook.pdf", WAREHOUSE)
    processing = add_source(company_a, "draft.pdf", WAREHOUSE, status=DataSource.Status.PROCESSING)
    stranger = add_source(company_b, "theirs.pdf", WAREHOUSE)
    search = chunk_search(company_id=company_a.id, data_sources=DataSource.objects.all())
    assert list(search.sources) == [own.id] and list(search.lexical_indexes) == [own.id]
    found = search.lexical(lexical.tokenize("forklift licence"), 5)
    assert [chunk_id for chunk_id, _ in found] == [chunk_format.chunk_id(own.id, 1)]
    assert {processing.id, stranger.id}.isdisjoint(chunk_format.data_source_of(chunk_id) for chunk_id, _ in found)


def test_a_chunk_id_names_its_data_source_and_position():
    data_source_id = uuid.uuid4()
    assert chunk_format.chunk_id(data_source_id, 7) == f"datasource_{data_source_id}_chunk_7"
    assert chunk_format.data_source_of(chunk_format.chunk_id(data_source_id, 7)) == data_source_id
    assert chunk_format.chunk_id(data_source_id, 7).startswith(chunk_format.id_prefix(data_source_id))


def test_a_table_row_is_read_back_cell_by_cell():
    row = chunk_format.row_text([chunk_format.headed_cell("Region", "West"), chunk_format.headed_cell("Revenue",
                                                                                                      "1,204")])
    assert row == "Region: West; Revenue: 1,204"
    assert chunk_format.cells(row) == ["Region: West", "Revenue: 1,204"]
    assert chunk_format.is_table_row(row) and chunk_format.is_headed_row(row)
    assert not chunk_format.is_headed_row(chunk_format.row_text(["Inventories", "4,779", "5,159"]))
    text = chunk_format.chunk_text(chunk_format.context_line("Sales report", "Q3"), row)
    assert chunk_format.context_and_body(text) == ("Sales report › Q3", [row])
