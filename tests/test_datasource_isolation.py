"""Company B never reaches company A's data sources, by any route."""

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client

from config.routing import application
from datasources import events
from datasources.models import DataSource
from tests.isolation import assert_foreign_404, assert_foreign_hidden, record, record_websocket

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def source_a(company_a):
    return DataSource.objects.create(company=company_a, name="acme-secret-plan.pdf", type="pdf", status="ready",
                                     storage_path="companies/x/datasources/y/acme-secret-plan.pdf")


def test_file_details_of_another_company_answer_404(outsider, source_a):
    assert_foreign_404(outsider, "get", f"/api/files/{source_a.id}")
    assert_foreign_404(outsider, "get", f"/api/files/{source_a.id}/")


def test_deleting_another_companys_file_answers_404_and_deletes_nothing(outsider, source_a):
    assert_foreign_404(outsider, "delete", f"/api/files/{source_a.id}")
    assert DataSource.objects.filter(pk=source_a.pk).exists()


def test_processing_another_companys_file_answers_404(outsider, source_a):
    assert_foreign_404(outsider, "post", "/api/process-file", data={"data_source_id": str(source_a.id)},
                       format="json")
    source_a.refresh_from_db()
    assert source_a.status == "ready"


def test_the_file_list_and_page_show_only_the_requesters_files(outsider, owner_b, source_a):
    assert_foreign_hidden(outsider, "/api/files", "acme-secret-plan.pdf")
    client = Client()
    client.force_login(owner_b)
    assert_foreign_hidden(client, "/files/", "acme-secret-plan.pdf")


def test_an_upload_lands_in_the_uploaders_company_only(outsider, owner_b, company_a):
    from tests.ingestion import CORPUS, upload

    response = upload(outsider, CORPUS / "pdf" / "nics-background-checks-2015-11.pdf")
    assert response.status_code == 201
    record("/api/upload")
    assert not DataSource.objects.filter(company=company_a).exists()
    assert DataSource.objects.get().company_id == owner_b.company_id


def dashboard_socket(user, origin=b"http://localhost") -> WebsocketCommunicator:
    """A WebSocket opened by the dashboard page of a logged-in user (session cookie)."""
    client = Client()
    client.force_login(user)
    cookie = f"sessionid={client.cookies['sessionid'].value}".encode()
    headers = [(b"origin", origin), (b"host", b"localhost"), (b"cookie", cookie)]
    return WebsocketCommunicator(application, "/ws/datasources/", headers=headers)


@pytest.mark.asyncio
async def test_live_status_reaches_only_the_owning_company(owner_a, owner_b, source_a):
    listener_a = await sync_to_async(dashboard_socket)(owner_a)
    listener_b = await sync_to_async(dashboard_socket)(owner_b)
    assert (await listener_a.connect())[0] and (await listener_b.connect())[0]
    record_websocket("ws/datasources/")
    await sync_to_async(events.publish)(source_a)
    message = await listener_a.receive_json_from(timeout=2)
    assert message["data_source"]["name"] == "acme-secret-plan.pdf"
    assert await listener_b.receive_nothing(timeout=0.3)
    await listener_a.disconnect()
    await listener_b.disconnect()


@pytest.mark.asyncio
async def test_the_status_socket_refuses_anonymous_visitors(db):
    socket = WebsocketCommunicator(application, "/ws/datasources/",
                                   headers=[(b"origin", b"http://localhost"), (b"host", b"localhost")])
    connected, code = await socket.connect()
    assert not connected and code == 4401


@pytest.mark.asyncio
async def test_the_status_socket_refuses_another_sites_pages(owner_a):
    socket = await sync_to_async(dashboard_socket)(owner_a, origin=b"https://evil.example")
    connected, _ = await socket.connect()
    assert not connected
