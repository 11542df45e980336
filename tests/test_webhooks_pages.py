"""Settings → Webhooks: endpoints, how to verify a delivery, and each endpoint's delivery log with send again."""

import pytest
from django.test import Client
from django.utils.html import escape

from tests.isolation import assert_foreign_404, assert_foreign_hidden
from tests.webhooks import run_webhooks_worker
from webhooks import services, signing
from webhooks.models import EventType

pytestmark = pytest.mark.django_db(transaction=True)


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_page_offers_every_event_and_the_verification_code(owner_a, endpoint):
    body = logged_in(owner_a).get("/settings/webhooks/").content.decode()
    for event_type in EventType.values:
        assert f'value="{event_type}"' in body
    assert endpoint.url in body and f"/settings/webhooks/{endpoint.id}/" in body
    assert "hmac.compare_digest" in body and "crypto.timingSafeEqual" in body
    assert "Docent-Signature" in body


def test_the_verification_code_shown_is_the_code_the_tests_verify_with(owner_a, endpoint):
    body = logged_in(owner_a).get("/settings/webhooks/").content.decode()
    assert escape(signing.VERIFY_PYTHON) in body


def test_the_endpoint_page_shows_the_log_with_send_again_and_never_the_secret(owner_a, endpoint, receiver):
    receiver.answer(503, body=b"maintenance until noon")
    services.emit(company_id=endpoint.company_id, type=EventType.DATA_SOURCE_READY, data={"name": "a.pdf"})
    run_webhooks_worker()
    body = logged_in(owner_a).get(f"/settings/webhooks/{endpoint.id}/").content.decode()
    assert "data_source.ready" in body and "503" in body and "maintenance until noon" in body
    assert "Send again" in body and "Rotate secret" in body and "Switch off" in body
    assert receiver.secrets[0] not in body and f"whsec_…{receiver.secrets[0][-4:]}" in body


def test_a_switched_off_endpoint_says_why(owner_a, endpoint):
    endpoint.enabled, endpoint.disabled_reason = False, "Switched off by Docent: 5 deliveries in a row failed."
    endpoint.save()
    body = logged_in(owner_a).get(f"/settings/webhooks/{endpoint.id}/").content.decode()
    assert "5 deliveries in a row failed" in body and "Switch on" in body


def test_members_cannot_open_the_pages(member_a, endpoint):
    client = logged_in(member_a)
    assert client.get("/settings/webhooks/").status_code == 403
    assert client.get(f"/settings/webhooks/{endpoint.id}/").status_code == 403


def test_the_account_menu_links_webhooks_for_admins_only(admin_a, member_a):
    assert "/settings/webhooks/" in logged_in(admin_a).get("/settings/api-keys/").content.decode()
    assert "/settings/webhooks/" not in logged_in(member_a).get("/settings/team/").content.decode()


def test_another_companys_endpoints_are_hidden_and_404(owner_b, endpoint):
    client = logged_in(owner_b)
    assert_foreign_hidden(client, "/settings/webhooks/", endpoint.url, str(endpoint.id))
    assert_foreign_404(client, "get", f"/settings/webhooks/{endpoint.id}/")
