"""Uploads stored through the S3 protocol (django-storages), against a local S3 server (moto)."""

import socket

import boto3
import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.test import Client
from moto.server import ThreadedMotoServer

from chatbots.models import Chatbot
from datasources.models import Chunk, DataSource
from integrations.documents import DocumentLinks
from tests.ingestion import CORPUS, processed, upload

pytestmark = pytest.mark.django_db(transaction=True)

BUCKET = "docent-files"
CREDENTIALS = {"aws_access_key_id": "test-key", "aws_secret_access_key": "test-secret", "region_name": "us-east-1"}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def s3_server():
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=_free_port(), verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def bucket(s3_server, settings):
    s3 = boto3.resource("s3", endpoint_url=s3_server, **CREDENTIALS)
    bucket = s3.Bucket(BUCKET)
    bucket.create()
    settings.STORAGES = {**settings.STORAGES, "default": {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {"bucket_name": BUCKET, "endpoint_url": s3_server, "access_key": CREDENTIALS["aws_access_key_id"],
                    "secret_key": CREDENTIALS["aws_secret_access_key"], "region_name": "us-east-1",
                    "file_overwrite": False},
    }}
    yield bucket
    bucket.objects.all().delete()
    bucket.delete()


def test_an_upload_is_stored_in_the_bucket_processed_from_it_and_deleted_from_it(owner_a, api_client, bucket):
    client = api_client(owner_a)
    (source,) = processed(client, upload(client, CORPUS / "pdf" / "nics-background-checks-2015-11.pdf"))
    keys = [item.key for item in bucket.objects.all()]
    assert keys == [f"companies/{owner_a.company_id}/datasources/{source.id}/nics-background-checks-2015-11.pdf"]
    assert source.status == "ready", source.error_message
    assert Chunk.objects.filter(data_source=source).exists()

    assert client.delete(f"/api/files/{source.id}").status_code == 204
    assert list(bucket.objects.all()) == []


def test_a_cited_document_is_streamed_from_the_bucket_through_its_link(company_a, bucket):
    source = DataSource.objects.create(company=company_a, name="handbook.pdf", type="pdf", status="ready")
    source.storage_path = default_storage.save(f"companies/{company_a.id}/datasources/{source.id}/handbook.pdf",
                                               ContentFile(b"%PDF-1.4 kept in the bucket"))
    source.save()
    assert [item.key for item in bucket.objects.all()] == [source.storage_path]
    chatbot = Chatbot.objects.create(company=company_a, name="Helper", show_source_documents=True)
    chatbot.data_sources.add(source)
    response = Client().get(DocumentLinks(chatbot.id, "").url(source.id))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert b"".join(response.streaming_content) == b"%PDF-1.4 kept in the bucket"
