"""POST /api/upload, GET /api/files, POST /api/process-file, DELETE /api/files/<id>, end to end."""

import pytest
from django.core.files.storage import default_storage
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from datasources.models import Chunk, DataSource
from tests.ingestion import CORPUS, processed, run_worker, upload, upload_bytes

pytestmark = pytest.mark.django_db(transaction=True)

LOREM = CORPUS / "pdf" / "issue-33-lorem-ipsum.pdf"
NICS = CORPUS / "pdf" / "nics-background-checks-2015-11.pdf"


@pytest.fixture
def staff(owner_a, api_client):
    return api_client(owner_a)


def test_an_uploaded_pdf_is_stored_and_queued_then_processed_to_ready(staff, owner_a):
    response = upload(staff, NICS)
    assert response.status_code == 201
    record = response.json()["data_sources"][0]
    assert record["status"] == "processing" and record["stage"] == "queued"
    assert record["type"] == "pdf" and record["name"] == NICS.name
    assert record["storage_path"] == (f"companies/{owner_a.company_id}/datasources/{record['id']}/"
                                      "nics-background-checks-2015-11.pdf")
    assert default_storage.exists(record["storage_path"])

    run_worker()
    details = staff.get(f"/api/files/{record['id']}").json()
    assert details["status"] == "ready", details["error_message"]
    assert details["progress"] == 100
    assert details["page_count"] == 1
    assert details["chunk_count"] == Chunk.objects.filter(data_source_id=record["id"]).count() > 0
    assert details["embedding_model"] and details["embedding_dimension"] == 384
    assert set(details["timings"]) == {"extract", "chunk", "embed", "index"}


def test_chunks_carry_their_file_and_page_and_deterministic_ids(staff):
    (source,) = processed(staff, upload(staff, NICS))
    chunks = list(Chunk.objects.filter(data_source=source).order_by("position"))
    assert [c.id for c in chunks] == [f"datasource_{source.id}_chunk_{n}" for n in range(len(chunks))]
    assert all(c.metadata["file_name"] == NICS.name and c.metadata["page_number"] == 1 for c in chunks)
    assert any("Alabama" in c.text for c in chunks)


def test_several_files_in_one_upload(staff):
    response = upload(staff, NICS, LOREM)
    assert response.status_code == 201
    assert sorted(d["name"] for d in response.json()["data_sources"]) == sorted([NICS.name, LOREM.name])


def test_the_same_file_again_returns_the_existing_record(staff):
    first = upload(staff, NICS).json()["data_sources"][0]
    again = upload(staff, NICS)
    assert again.status_code == 200
    assert again.json()["duplicates"] == [first["id"]]
    assert again.json()["data_sources"][0]["id"] == first["id"]
    assert DataSource.objects.count() == 1


def test_the_same_file_as_a_new_version_when_asked(staff):
    first = upload(staff, NICS).json()["data_sources"][0]
    again = upload(staff, NICS, new_version="true")
    assert again.status_code == 201
    second = again.json()["data_sources"][0]
    assert second["id"] != first["id"] and second["version"] == 2


def test_an_empty_file_is_refused_with_a_reason(staff):
    response = upload(staff, CORPUS / "pdf" / "empty.pdf")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "empty_file"
    assert "empty" in response.json()["error"]["message"]
    assert not DataSource.objects.exists()


def test_a_file_over_the_size_limit_is_refused_naming_the_limit(staff, settings):
    settings.MAX_UPLOAD_MB = 1
    response = upload_bytes(staff, "big.txt", b"word " * 300_000)
    assert response.status_code == 413
    assert "1 MB limit" in response.json()["error"]["message"]
    assert not DataSource.objects.exists()


def test_a_file_of_unknown_type_is_refused_whatever_its_extension(staff, media_root):
    response = upload_bytes(staff, "report.pdf", bytes(range(256)) * 40)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "unsupported_file"
    assert not DataSource.objects.exists()
    assert not [path for path in media_root.rglob("*") if path.is_file()]  # nothing kept of it


def test_one_bad_file_does_not_block_the_good_ones(staff):
    response = upload(staff, NICS, CORPUS / "xlsx" / "null_archive.xlsx")
    assert response.status_code == 201
    body = response.json()
    assert [d["name"] for d in body["data_sources"]] == [NICS.name]
    assert body["rejected"][0]["file_name"] == "null_archive.xlsx"
    assert "not an Excel workbook" in body["rejected"][0]["error"]["message"]


def test_an_upload_without_files_is_a_clear_400(staff):
    response = staff.post("/api/upload", {}, format="multipart")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "no_files"


def test_the_plan_limit_on_files_answers_403_naming_it(staff, settings):
    settings.PLANS = {**settings.PLANS, "free": {**settings.PLANS["free"], "max_files": 1}}
    upload(staff, NICS)
    response = upload(staff, LOREM)
    assert response.status_code == 403
    assert "allows 1 files" in response.json()["error"]["message"]


def test_the_plan_limit_on_storage_answers_403_naming_it(staff, settings):
    settings.PLANS = {**settings.PLANS, "free": {**settings.PLANS["free"], "max_storage_mb": 0}}
    response = upload(staff, NICS)
    assert response.status_code == 403
    assert "MB of files" in response.json()["error"]["message"]


def test_a_password_protected_pdf_ends_in_error_saying_so(staff):
    (source,) = processed(staff, upload(staff, CORPUS / "pdf" / "password-example.pdf"))
    assert source.status == "error"
    assert "password-protected PDF" in source.error_message


def test_the_list_filters_by_status(staff):
    processed(staff, upload(staff, NICS, CORPUS / "pdf" / "password-example.pdf"))
    ready = staff.get("/api/files?status=ready").json()["results"]
    errors = staff.get("/api/files", {"status": "error"}).json()["results"]
    assert [d["name"] for d in ready] == [NICS.name]
    assert [d["name"] for d in errors] == ["password-example.pdf"]
    assert staff.get("/api/files?status=bogus").status_code == 400


def test_process_file_is_idempotent_while_queued(staff):
    record = upload(staff, NICS).json()["data_sources"][0]
    for _ in range(3):
        response = staff.post("/api/process-file", {"data_source_id": record["id"]}, format="json")
        assert response.status_code == 202
    assert DBTaskResult.objects.filter(status=TaskResultStatus.READY).count() == 1


def test_reprocessing_replaces_chunks_without_duplicates(staff):
    (source,) = processed(staff, upload(staff, NICS))
    before = sorted(Chunk.objects.filter(data_source=source).values_list("id", flat=True))
    response = staff.post("/api/process-file", {"data_source_id": str(source.id)}, format="json")
    assert response.json()["status"] == "processing"
    run_worker()
    source.refresh_from_db()
    assert source.status == "ready"
    assert sorted(Chunk.objects.filter(data_source=source).values_list("id", flat=True)) == before


def test_process_file_needs_a_valid_id(staff):
    response = staff.post("/api/process-file", {"data_source_id": "nope"}, format="json")
    assert response.status_code == 400
    assert "data_source_id" in response.json()["error"]["details"]


def test_delete_removes_the_file_the_chunks_and_the_vectors(staff):
    (source,) = processed(staff, upload(staff, NICS))
    assert Chunk.objects.filter(data_source=source, embedding__isnull=False).exists()
    response = staff.delete(f"/api/files/{source.id}")
    assert response.status_code == 204
    assert not default_storage.exists(source.storage_path)
    assert not Chunk.objects.filter(data_source_id=source.id).exists()
    assert not DataSource.objects.filter(pk=source.pk).exists()


def test_a_member_may_upload_and_delete(member_a, api_client):
    client = api_client(member_a)
    record = upload(client, NICS).json()["data_sources"][0]
    assert client.delete(f"/api/files/{record['id']}").status_code == 204
