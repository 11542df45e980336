"""Real files through upload and the worker's processing, with each engine Docent supports."""

import pytest
from django.core.management import call_command

from datasources.models import Chunk, DataSource
from tests.clamav import REPORTED_SIGNATURE, eicar
from tests.fakes.pinecone_server import running_pinecone
from tests.ingestion import CORPUS, processed, upload, upload_bytes

pytestmark = pytest.mark.django_db(transaction=True)

NO_TEXT = "No text found"

# What ../shared/corpus/README.md says Docent must do with each file, and a passage that proves it.
CORPUS_OUTCOMES = [
    ("pdf/empty.pdf", "refused", "empty"),
    ("pdf/password-example.pdf", "error", "password-protected PDF"),
    ("pdf/issue-297-example.pdf", "error", NO_TEXT),
    ("pdf/malformed-from-issue-932.pdf", "ready", "2021"),
    ("pdf/nics-background-checks-2015-11.pdf", "ready", "Alabama"),
    ("pdf/nics-background-checks-2015-11-rotated.pdf", "ready", "Alabama"),
    ("pdf/federal-register-2020-17221.pdf", "ready", "Federal Register"),
    ("pdf/scotus-transcript-p1.pdf", "ready", "SUPREME COURT"),
    ("pdf/senate-expenditures.pdf", "ready", "STAFF TRANSPORTATION"),
    ("pdf/issue-336-example.pdf", "ready", ""),
    ("pdf/la-precinct-bulletin-2014-p1.pdf", "ready", "PRECINCT"),
    ("pdf/cupertino_usd_4-6-16.pdf", "ready", "Cupertino"),
    ("pdf/WARN-Report-for-7-1-2015-to-03-25-2016.pdf", "ready", "San Jose"),
    ("pdf/issue-71-duplicate-chars.pdf", "ready", ""),
    ("pdf/issue-912.pdf", "ready", ""),
    ("pdf/issue-33-lorem-ipsum.pdf", "ready", "Consectetur quisquam dolor porro neque"),
    ("xlsx/null_file.xlsx", "refused", "empty"),
    ("xlsx/null_archive.xlsx", "refused", "not an Excel workbook"),
    ("xlsx/bigfoot.xlsx", "error", NO_TEXT),
    ("xlsx/empty.xlsx", "ready", "cell A1"),
    ("xlsx/empty_no_dimensions.xlsx", "ready", "cell A1"),
    ("xlsx/date_1904.xlsx", "ready", "2011-10-31"),
    ("xlsx/guess_types.xlsx", "ready", "15%"),
    ("xlsx/formulae.xlsx", "ready", "24690"),
    ("xlsx/merge_range.xlsx", "ready", ""),
    ("xlsx/contains_chartsheets.xlsx", "ready", ""),
    ("xlsx/charts.xlsx", "ready", ""),
    ("xlsx/vba-test.xlsm", "error", NO_TEXT),
    ("xlsx/libreoffice_nrt.xlsx", "ready", ""),
]


def test_the_table_covers_every_corpus_file():
    on_disk = {f"{p.parent.name}/{p.name}" for p in CORPUS.glob("*/*") if p.suffix in {".pdf", ".xlsx", ".xlsm"}}
    assert on_disk == {name for name, *_ in CORPUS_OUTCOMES}


@pytest.mark.parametrize("name, outcome, evidence", CORPUS_OUTCOMES, ids=[n for n, *_ in CORPUS_OUTCOMES])
def test_each_corpus_file_ends_as_the_corpus_readme_says(owner_a, api_client, name, outcome, evidence):
    client = api_client(owner_a)
    response = upload(client, CORPUS / name)
    if outcome == "refused":
        assert response.status_code in (400, 422)
        assert evidence in response.json()["error"]["message"]
        assert not DataSource.objects.exists()
        return
    (source,) = processed(client, response)
    assert source.status == outcome, source.error_message
    if outcome == "error":
        assert evidence in source.error_message
        return
    chunks = Chunk.objects.filter(data_source=source)
    assert source.chunk_count == chunks.count() > 0
    assert evidence in " ".join(chunks.values_list("text", flat=True))


def test_chart_sheets_are_skipped_and_data_sheets_read(owner_a, api_client):
    client = api_client(owner_a)
    (source,) = processed(client, upload(client, CORPUS / "xlsx" / "contains_chartsheets.xlsx"))
    sheets = {chunk.metadata.get("sheet") for chunk in Chunk.objects.filter(data_source=source)}
    assert sheets == {"data", "moredata"}


def test_the_eicar_test_file_is_refused_by_clamav_before_it_is_stored(owner_a, api_client, settings, clamd,
                                                                       media_root):
    settings.CLAMD_SOCKET = clamd.socket_path
    response = upload_bytes(api_client(owner_a), "notes.txt", eicar())
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "not_clean"
    assert REPORTED_SIGNATURE in response.json()["error"]["message"]
    assert not DataSource.objects.exists()
    assert not [path for path in media_root.rglob("*") if path.is_file()]


def test_a_clean_file_passes_clamav(owner_a, api_client, settings, clamd):
    settings.CLAMD_SOCKET = clamd.socket_path
    response = upload(api_client(owner_a), CORPUS / "pdf" / "issue-33-lorem-ipsum.pdf")
    assert response.status_code == 201


def test_an_unreachable_scanner_refuses_the_file(owner_a, api_client, settings, tmp_path):
    settings.CLAMD_SOCKET = str(tmp_path / "no-clamd.sock")
    response = upload(api_client(owner_a), CORPUS / "pdf" / "issue-33-lorem-ipsum.pdf")
    assert response.status_code == 422
    assert "could not check this file" in response.json()["error"]["message"]


def test_with_pinecone_vectors_go_to_the_companys_namespace_and_leave_on_delete(owner_a, api_client, settings):
    with running_pinecone(api_key="pc-test-key", dimension=384) as pinecone:
        settings.VECTOR_BACKEND = "pinecone"
        settings.PINECONE_API_KEY = "pc-test-key"
        settings.PINECONE_INDEX_HOST = pinecone.url
        client = api_client(owner_a)
        (source,) = processed(client, upload(client, CORPUS / "pdf" / "nics-background-checks-2015-11.pdf"))
        assert source.status == "ready", source.error_message
        namespace = pinecone.namespaces[source.pinecone_namespace]
        assert set(namespace) == set(Chunk.objects.filter(data_source=source).values_list("id", flat=True))
        record = next(iter(namespace.values()))
        assert record["metadata"]["company_id"] == str(owner_a.company_id)
        assert record["metadata"]["file_name"] == "nics-background-checks-2015-11.pdf"
        assert record["metadata"]["page_number"] == 1

        assert client.delete(f"/api/files/{source.id}").status_code == 204
        assert not pinecone.namespaces.get(source.pinecone_namespace)


def test_delete_keeps_everything_when_the_vector_index_cannot_be_reached(owner_a, api_client, settings):
    client = api_client(owner_a)
    (source,) = processed(client, upload(client, CORPUS / "pdf" / "nics-background-checks-2015-11.pdf"))
    settings.VECTOR_BACKEND = "pinecone"
    settings.PINECONE_API_KEY = "pc-test-key"
    settings.PINECONE_INDEX_HOST = "http://127.0.0.1:9"
    response = client.delete(f"/api/files/{source.id}")
    assert response.status_code == 503
    assert "vector index" in response.json()["error"]["message"]
    assert DataSource.objects.filter(pk=source.pk).exists()


def test_ingest_command_loads_a_folder_into_a_company(owner_a, tmp_path, capsys):
    folder = tmp_path / "docs"
    folder.mkdir()
    for name in ["nics-background-checks-2015-11.pdf", "issue-33-lorem-ipsum.pdf", "password-example.pdf"]:
        (folder / name).write_bytes((CORPUS / "pdf" / name).read_bytes())
    call_command("ingest", str(folder), "--company", "Acme Analytics")
    assert "2 ready, 1 error" in capsys.readouterr().out
    assert DataSource.objects.filter(company=owner_a.company, status="ready").count() == 2


def test_reindex_re_embeds_data_sources_of_another_model(owner_a, api_client):
    client = api_client(owner_a)
    (source,) = processed(client, upload(client, CORPUS / "pdf" / "nics-background-checks-2015-11.pdf"))
    DataSource.objects.filter(pk=source.pk).update(embedding_model="text-embedding-3-small", embedding_dimension=1536)
    call_command("reindex")
    source.refresh_from_db()
    assert source.status == "ready"
    assert source.embedding_dimension == 384 and "MiniLM" in source.embedding_model
