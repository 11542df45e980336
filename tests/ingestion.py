"""Helpers for tests that upload files and let a real worker process them."""

from pathlib import Path

from django.core.management import call_command

from datasources.models import DataSource

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"
FILINGS = Path(__file__).resolve().parents[2] / "shared" / "bench" / "sec-10-q" / "docs"


def upload(client, *paths: Path, **fields):
    handles = [open(path, "rb") for path in paths]
    try:
        return client.post("/api/upload", {"files": handles, **fields}, format="multipart")
    finally:
        for handle in handles:
            handle.close()


def upload_bytes(client, name: str, content: bytes, **fields):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return client.post("/api/upload", {"files": [SimpleUploadedFile(name, content)], **fields}, format="multipart")


def run_worker() -> None:
    """Process every queued task in this process, as `manage.py db_worker --batch` does."""
    call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0)


def processed(client, response) -> list[DataSource]:
    """Upload response → run the worker → the data sources as they ended."""
    assert response.status_code in (200, 201), response.content
    run_worker()
    ids = [item["id"] for item in response.json()["data_sources"]]
    return [DataSource.objects.get(pk=pk) for pk in ids]
