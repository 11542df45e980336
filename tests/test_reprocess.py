"""Extracting a company's data sources again after an upgrade: in the background, as an upload is
processed, each data source answering from its current chunks until its new ones are indexed."""

import pytest
from django.core.management import call_command
from django.db import connection

from datasources import selectors
from datasources.indexes import index_chunks
from datasources.indexes.lexical import tokenize
from datasources.models import Chunk, DataSource
from tests.ingestion import processed, run_worker, upload
from tests.pdf_documents import quarterly_report

pytestmark = pytest.mark.django_db(transaction=True)

OLD_TEXT = "Quarterly report › Results\nData Center; 14,514; 3,833 flattened"


def as_an_earlier_version_chunked_it(source: DataSource) -> None:
    """The data source's chunks as an earlier version of Docent wrote them: figures without headings."""
    Chunk.objects.filter(data_source=source).update(text=OLD_TEXT)
    index_chunks(source, list(Chunk.objects.filter(data_source=source).order_by("position")))


def found(source: DataSource, words: str) -> list[str]:
    """The texts of the company's searchable chunks that match the words, as a chatbot's search finds them."""
    search = selectors.chunk_search(company_id=source.company_id, data_sources=DataSource.objects.all())
    ids = [chunk_id for chunk_id, _ in search.lexical(tokenize(words), 10)]
    return list(Chunk.objects.filter(id__in=ids).values_list("text", flat=True))


class Observer:
    """Searches the data source each time the run reports a stage (a query the worker makes), so
    what a visitor would get in the middle of the run is seen."""

    def __init__(self, source: DataSource):
        self.source = source
        self.seen: list[tuple[str, list[str]]] = []
        self.searching = False

    def __call__(self, execute, sql, params, many, context):
        result = execute(sql, params, many, context)
        stage = next((value for value in params or () if value in ("chunking", "embedding", "indexing")), None)
        if sql.startswith("UPDATE") and stage and not self.searching:
            self.searching = True
            try:
                self.seen.append((stage, found(self.source, "flattened")))
            finally:
                self.searching = False
        return result


def test_reprocess_keeps_answering_from_the_old_chunks_and_ends_with_the_new_ones(owner_a, api_client, tmp_path):
    client = api_client(owner_a)
    (source,) = processed(client, upload(client, quarterly_report(tmp_path / "report.pdf")))
    as_an_earlier_version_chunked_it(source)

    call_command("reprocess", "--company", str(owner_a.company_id))
    observer = Observer(source)
    with connection.execute_wrapper(observer):
        run_worker()

    assert list(dict.fromkeys(stage for stage, _ in observer.seen)) == ["chunking", "embedding", "indexing"]
    assert all(texts and texts[0] == OLD_TEXT for _, texts in observer.seen)  # still searched, still answering
    source.refresh_from_db()
    assert source.status == DataSource.Status.READY and source.stage == "ready"
    texts = "\n".join(Chunk.objects.filter(data_source=source).values_list("text", flat=True))
    assert "flattened" not in texts
    assert "Unit: In millions\nData Center; Three Months Ended July 1, 2023: 14,514" in texts
    assert found(source, "flattened") == []


def test_reprocess_leaves_data_sources_being_processed_alone(owner_a, api_client, tmp_path, capsys):
    client = api_client(owner_a)
    (source,) = processed(client, upload(client, quarterly_report(tmp_path / "report.pdf")))
    DataSource.objects.filter(pk=source.pk).update(status=DataSource.Status.PROCESSING)
    call_command("reprocess")
    assert "0 data source(s) queued" in capsys.readouterr().out
