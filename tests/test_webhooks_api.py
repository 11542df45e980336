"""/api/webhooks: admins register endpoints (URL, events, on or off), get the signing secret once, rotate it,
read each endpoint's delivery log and send a delivery again. URLs into Docent's own network are refused."""

import pytest

from tests.isolation import assert_foreign_404, assert_foreign_hidden
from tests.webhooks import only_delivery, run_webhooks_worker
from webhooks import services
from webhooks.models import Delivery, Endpoint, EventType

pytestmark = pytest.mark.django_db(transaction=True)

EVENTS = ["data_source.ready", "conversation.unanswered"]


@pytest.fixture
def staff(owner_a, api_client):
    return api_client(owner_a)


def create(client, url="https://hooks.example.com/docent", events=EVENTS, **fields):
    return client.post("/api/webhooks", {"url": url, "events": events, **fields}, format="json")


def test_an_admin_registers_an_endpoint_and_sees_its_secret_once(admin_a, api_client):
    client = api_client(admin_a)
    response = create(client, description="Support desk")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["secret"].startswith("whsec_") and "only once" in body["secret_warning"]
    assert (body["url"], body["events"], body["enabled"]) == ("https://hooks.example.com/docent", EVENTS, True)
    assert body["secret_preview"] == "whsec_…" + body["secret"][-4:]
    listed = client.get("/api/webhooks").json()
    assert body["secret"] not in str(listed) and listed["results"][0]["id"] == body["id"]
    assert body["secret"] not in client.get(f"/api/webhooks/{body['id']}").content.decode()


def test_members_cannot_see_or_manage_endpoints(member_a, staff, api_client):
    endpoint_id = create(staff).json()["id"]
    member = api_client(member_a)
    assert member.get("/api/webhooks").status_code == 403
    assert member.get(f"/api/webhooks/{endpoint_id}").status_code == 403
    assert create(member).status_code == 403


@pytest.mark.parametrize("url", [
    "http://127.0.0.1/hook", "http://10.0.0.8/hook", "http://192.168.1.1/hook", "http://169.254.169.254/latest",
    "http://100.64.0.1/hook", "http://0.0.0.0/hook", "http://[::ffff:127.0.0.1]/hook", "http://[::1]/hook",
    "http://localhost:8000/hook", "http://[fe80::1]/hook",
])
def test_addresses_inside_the_network_are_refused(staff, url):
    response = create(staff, url=url)
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "invalid" and "public internet addresses only" in error["details"]["url"][0]
    assert not Endpoint.objects.exists()


def test_the_metadata_address_is_refused_even_when_private_addresses_are_allowed(staff, settings):
    settings.OUTBOUND_ALLOW_PRIVATE_ADDRESSES = True
    assert create(staff, url="http://127.0.0.1:9000/hook").status_code == 201
    response = create(staff, url="http://169.254.169.254/latest")
    assert response.status_code == 400 and "cloud metadata" in response.json()["error"]["message"]


@pytest.mark.parametrize(("body", "field"), [
    ({"url": "ftp://hooks.example.com/", "events": EVENTS}, "url"),
    ({"url": "https://user:pw@hooks.example.com/", "events": EVENTS}, "url"),
    ({"url": "https://hooks.example.com/", "events": []}, "events"),
    ({"url": "https://hooks.example.com/", "events": ["data_source.deleted"]}, "events"),
    ({"events": EVENTS}, "url"),
])
def test_invalid_fields_get_a_400_naming_them(staff, body, field):
    response = staff.post("/api/webhooks", body, format="json")
    assert response.status_code == 400 and field in response.json()["error"]["details"], response.content


def test_an_endpoint_is_changed_and_switched_off_and_on(staff):
    endpoint_id = create(staff).json()["id"]
    response = staff.patch(f"/api/webhooks/{endpoint_id}", {"events": ["feedback.created"], "enabled": False},
                           format="json")
    assert response.status_code == 200 and response.json()["events"] == ["feedback.created"]
    assert response.json()["enabled"] is False
    assert staff.patch(f"/api/webhooks/{endpoint_id}", {"url": "http://10.0.0.1/"}, format="json").status_code == 400
    assert staff.patch(f"/api/webhooks/{endpoint_id}", {"enabled": True}, format="json").json()["enabled"] is True


def test_rotating_gives_a_new_secret_once_and_keeps_the_old_one_signing_for_a_while(staff):
    created = create(staff).json()
    response = staff.post(f"/api/webhooks/{created['id']}/rotate-secret")
    assert response.status_code == 200
    rotated = response.json()
    assert rotated["secret"] != created["secret"] and rotated["previous_secret_valid_until"]


def test_the_delivery_log_shows_each_attempt_and_send_again_sends_the_same_event(staff, owner_a, receiver):
    issued = services.endpoint_create(company=owner_a.company, created_by=owner_a, url=receiver.url,
                                      events=[EventType.FEEDBACK_CREATED])
    receiver.secrets.append(issued.secret)
    receiver.answer(500, body=b"database is down")
    services.emit(company_id=owner_a.company_id, type=EventType.FEEDBACK_CREATED, data={"rating": "up"})
    run_webhooks_worker()
    log = staff.get(f"/api/webhooks/{issued.record.id}/deliveries").json()["results"]
    assert [(d["status"], d["response_code"], d["attempts"], d["response_body"]) for d in log] == [
        ("pending", 500, 1, "database is down")]
    response = staff.post(f"/api/webhooks/{issued.record.id}/deliveries/{log[0]['id']}/resend")
    assert response.status_code == 202
    run_webhooks_worker()
    again = Delivery.objects.get(pk=response.json()["id"])
    assert again.status == "succeeded" and again.event_id == Delivery.objects.get(pk=log[0]["id"]).event_id
    first, second = receiver.requests
    assert first.headers["docent-event-id"] == second.headers["docent-event-id"]


def test_send_again_on_a_switched_off_endpoint_is_refused(staff, endpoint):
    services.emit(company_id=endpoint.company_id, type=EventType.DATA_SOURCE_READY, data={})
    staff.patch(f"/api/webhooks/{endpoint.id}", {"enabled": False}, format="json")
    response = staff.post(f"/api/webhooks/{endpoint.id}/deliveries/{only_delivery().id}/resend")
    assert response.status_code == 409 and response.json()["error"]["code"] == "endpoint_disabled"


def test_deleting_an_endpoint_deletes_its_log(staff, endpoint):
    services.emit(company_id=endpoint.company_id, type=EventType.DATA_SOURCE_READY, data={})
    assert staff.delete(f"/api/webhooks/{endpoint.id}").status_code == 204
    assert not Endpoint.objects.exists() and not Delivery.objects.exists()


def test_another_companys_endpoints_answer_404_on_every_route(outsider, endpoint):
    services.emit(company_id=endpoint.company_id, type=EventType.DATA_SOURCE_READY, data={})
    delivery = only_delivery()
    assert_foreign_hidden(outsider, "/api/webhooks", str(endpoint.id), endpoint.url)
    assert_foreign_404(outsider, "get", f"/api/webhooks/{endpoint.id}")
    assert_foreign_404(outsider, "patch", f"/api/webhooks/{endpoint.id}", data={"enabled": False}, format="json")
    assert_foreign_404(outsider, "delete", f"/api/webhooks/{endpoint.id}")
    assert_foreign_404(outsider, "post", f"/api/webhooks/{endpoint.id}/rotate-secret")
    assert_foreign_404(outsider, "get", f"/api/webhooks/{endpoint.id}/deliveries")
    assert_foreign_404(outsider, "post", f"/api/webhooks/{endpoint.id}/deliveries/{delivery.id}/resend")
    endpoint.refresh_from_db()
    assert endpoint.enabled and Endpoint.objects.count() == 1


def test_a_delivery_of_another_endpoint_is_404_through_mine(staff, owner_a, endpoint):
    services.emit(company_id=endpoint.company_id, type=EventType.DATA_SOURCE_READY, data={})
    mine = create(staff).json()["id"]
    response = staff.post(f"/api/webhooks/{mine}/deliveries/{only_delivery().id}/resend")
    assert response.status_code == 404
    assert staff.post(f"/api/webhooks/{mine}/deliveries/not-a-uuid/resend").status_code == 404


def test_without_the_environments_key_webhooks_say_they_are_not_set_up(staff, settings):
    settings.WEBHOOK_SECRET_KEYS = []  # DEBUG off and WEBHOOK_SECRET_KEYS unset
    response = create(staff)
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "webhooks_unavailable"
    assert "WEBHOOK_SECRET_KEYS" in response.json()["error"]["message"]
    assert not Endpoint.objects.exists()
