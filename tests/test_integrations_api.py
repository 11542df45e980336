"""/api/integrations: every chatbot's widget integration, iframe and API integrations, origins,
rotation and revocation, and the shared key-and-origin check the widget and chat endpoints use."""

from datetime import timedelta

import pytest
from django.db import IntegrityError
from django.utils import timezone

from accounts import keys
from chatbots.models import Chatbot
from config.errors import ApiError
from integrations import access, services
from integrations.models import Integration
from tests.isolation import assert_foreign_404

OWN_ORIGIN = "http://testserver"
SHOP = "https://shop.example.com"


@pytest.fixture
def chatbot(company_a):
    return Chatbot.objects.create(name="Helpdesk", company=company_a)


@pytest.fixture
def staff(owner_a, api_client):
    return api_client(owner_a)


def integrations_of(client, chatbot) -> dict[str, dict]:
    response = client.get(f"/api/integrations/{chatbot.id}")
    assert response.status_code == 200, response.content
    return {item["type"]: item for item in response.json()["integrations"]}


def create(client, chatbot, type, **settings):
    body = {"chatbot_id": str(chatbot.id), "type": type}
    if settings:
        body["settings"] = settings
    return client.post("/api/integrations", body, format="json")


def visitor(chatbot, key, origin=OWN_ORIGIN):
    return access.authorize_visitor(chatbot_id=chatbot.id, key=key, origin=origin, own_origin=OWN_ORIGIN)


def expire_grace_period(integration):
    Integration.objects.filter(pk=integration.pk).update(previous_valid_until=timezone.now() - timedelta(seconds=1))


# The widget integration every chatbot has

def test_a_new_chatbot_has_its_widget_integration_with_no_further_step(staff, chatbot):
    widget = integrations_of(staff, chatbot)["widget"]
    assert widget["publishable_key"].startswith(keys.PUBLISHABLE) and keys.well_formed(widget["publishable_key"])
    assert widget["settings"]["allowed_origins"] == []
    assert widget["snippets"]["script"] == (
        f'<script src="http://testserver/api/widget/{chatbot.id}" data-key="{widget["publishable_key"]}" '
        'async></script>')


def test_reading_twice_keeps_one_widget_integration_and_its_key(staff, chatbot):
    first = integrations_of(staff, chatbot)["widget"]
    second = integrations_of(staff, chatbot)["widget"]
    assert first["publishable_key"] == second["publishable_key"]
    assert Integration.objects.filter(chatbot=chatbot).count() == 1


def test_the_database_refuses_a_second_integration_of_one_type(chatbot):
    services.ensure_widget_integration(chatbot=chatbot)
    with pytest.raises(IntegrityError):
        Integration.objects.create(chatbot=chatbot, company=chatbot.company, type="widget",
                                   api_key=keys.new_publishable())


def test_until_an_origin_is_added_only_docents_own_pages_may_use_the_widget(chatbot):
    widget = services.ensure_widget_integration(chatbot=chatbot)
    assert visitor(chatbot, widget.api_key).chatbot == chatbot
    with pytest.raises(ApiError) as refused:
        visitor(chatbot, widget.api_key, origin=SHOP)
    assert refused.value.status_code == 403 and refused.value.code == "origin_not_allowed"


# Creating and updating

def test_post_creates_an_iframe_integration_locked_to_normalized_origins(staff, chatbot):
    response = create(staff, chatbot, "iframe", allowed_origins=["https://Shop.Example.com/", "http://localhost:8000"])
    assert response.status_code == 201
    body = response.json()
    assert body["settings"]["allowed_origins"] == [SHOP, "http://localhost:8000"]
    assert "key" not in body  # a publishable key is no secret: it is in the snippet
    assert body["snippets"]["iframe"].startswith(
        f'<iframe src="http://testserver/api/embed/{chatbot.id}?key={body["publishable_key"]}" title="Helpdesk chat"')


def test_post_for_an_existing_type_updates_it_and_keeps_its_key(staff, chatbot):
    widget = integrations_of(staff, chatbot)["widget"]
    response = create(staff, chatbot, "widget", allowed_origins=[SHOP])
    assert response.status_code == 200
    assert response.json()["id"] == widget["id"]
    assert response.json()["publishable_key"] == widget["publishable_key"]
    assert response.json()["settings"]["allowed_origins"] == [SHOP]


def test_an_api_integration_shows_its_secret_once_with_a_warning(staff, chatbot):
    response = create(staff, chatbot, "api")
    assert response.status_code == 201
    body = response.json()
    secret = body["key"]
    assert secret.startswith(keys.SECRET) and keys.well_formed(secret)
    assert "shown only once" in body["key_warning"]
    assert body["publishable_key"] is None
    assert body["key_preview"] == f"{keys.public_id(secret)}…{secret[-4:]}"
    listed = staff.get(f"/api/integrations/{chatbot.id}")
    assert secret not in listed.content.decode()
    assert secret[len(keys.public_id(secret)):-4] not in listed.content.decode()
    curl = integrations_of(staff, chatbot)["api"]["snippets"]["curl"]
    assert "curl -X POST http://testserver/api/chat" in curl
    assert 'Authorization: Bearer $DOCENT_API_KEY' in curl and f'"chatbot_id": "{chatbot.id}"' in curl
    assert access.authorize_server(key=secret).chatbot == chatbot


def test_patch_replaces_the_allowed_origins(staff, chatbot):
    widget = integrations_of(staff, chatbot)["widget"]
    url = f"/api/integrations/{chatbot.id}/{widget['id']}"
    response = staff.patch(url, {"settings": {"allowed_origins": [SHOP, "https://www.example.org:8443"]}},
                           format="json")
    assert response.status_code == 200
    assert response.json()["settings"]["allowed_origins"] == [SHOP, "https://www.example.org:8443"]
    key = widget["publishable_key"]
    assert visitor(chatbot, key, origin=SHOP).integration.id == Integration.objects.get(pk=widget["id"]).id
    with pytest.raises(ApiError):
        visitor(chatbot, key, origin="https://elsewhere.example.com")


def test_cors_follows_an_origin_change_and_a_revocation_at_once(staff, chatbot, client, settings,
                                                               django_capture_on_commit_callbacks):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                                   "LOCATION": "cors-follows-origins"}}
    widget = services.ensure_widget_integration(chatbot=chatbot)

    def allowed_origin():
        preflight = client.options("/api/chat", headers={"Origin": SHOP, "Access-Control-Request-Method": "POST"})
        return preflight.headers.get("Access-Control-Allow-Origin")

    assert allowed_origin() is None  # now cached: without a reset the change below would wait for expiry
    with django_capture_on_commit_callbacks(execute=True):
        staff.patch(f"/api/integrations/{chatbot.id}/{widget.id}", {"settings": {"allowed_origins": [SHOP]}},
                    format="json")
    assert allowed_origin() == SHOP
    with django_capture_on_commit_callbacks(execute=True):
        staff.post(f"/api/integrations/{chatbot.id}/{widget.id}/revoke")
    assert allowed_origin() is None


@pytest.mark.parametrize("origins, problem", [
    (["https://shop.example.com/checkout"], "not an origin"),
    (["javascript:alert(1)"], "starts with https://"),
    (["https://*.example.com"], "wildcards are not allowed"),
    (["shop.example.com"], "starts with https://"),
    (["https://shop.example.com:99999"], "not an origin"),
    ([f"https://site{n}.example.com" for n in range(services.MAX_ALLOWED_ORIGINS + 1)], "no more than 20"),
])
def test_bad_allowed_origins_get_a_400_that_says_why(staff, chatbot, origins, problem):
    response = create(staff, chatbot, "iframe", allowed_origins=origins)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert problem in str(error["details"])
    assert not Integration.objects.filter(chatbot=chatbot, type="iframe").exists()


def test_an_unknown_type_gets_a_400(staff, chatbot):
    response = create(staff, chatbot, "carrier-pigeon")
    assert response.status_code == 400
    assert "type" in response.json()["error"]["details"]


def test_an_api_integration_refuses_allowed_origins(staff, chatbot):
    response = create(staff, chatbot, "api", allowed_origins=[SHOP])
    assert response.status_code == 400
    assert "widget and iframe integrations only" in str(response.json()["error"]["details"])


def test_a_missing_chatbot_gets_a_404(staff, db):
    response = staff.post("/api/integrations", {"chatbot_id": "00000000-0000-0000-0000-000000000000",
                                                "type": "widget"}, format="json")
    assert response.status_code == 404


# Rotation and revocation

def test_a_rotated_publishable_key_works_for_the_grace_period_then_is_refused(staff, chatbot, settings):
    settings.INTEGRATION_KEY_GRACE_HOURS = 2
    widget = integrations_of(staff, chatbot)["widget"]
    old_key = widget["publishable_key"]
    response = staff.post(f"/api/integrations/{chatbot.id}/{widget['id']}/rotate")
    assert response.status_code == 200
    new_key = response.json()["publishable_key"]
    assert new_key != old_key and keys.well_formed(new_key)
    valid_until = Integration.objects.get(pk=widget["id"]).previous_valid_until
    assert timedelta(hours=1, minutes=59) < valid_until - timezone.now() <= timedelta(hours=2)
    assert response.json()["previous_key_valid_until"] is not None
    assert visitor(chatbot, old_key).chatbot == chatbot
    assert visitor(chatbot, new_key).chatbot == chatbot

    expire_grace_period(Integration.objects.get(pk=widget["id"]))
    with pytest.raises(ApiError) as refused:
        visitor(chatbot, old_key)
    assert refused.value.status_code == 401
    assert visitor(chatbot, new_key).chatbot == chatbot


def test_a_rotated_secret_is_shown_once_and_the_old_one_works_for_the_grace_period(staff, chatbot):
    old_secret = create(staff, chatbot, "api").json()["key"]
    integration = Integration.objects.get(chatbot=chatbot, type="api")
    response = staff.post(f"/api/integrations/{chatbot.id}/{integration.id}/rotate")
    new_secret = response.json()["key"]
    assert new_secret != old_secret and "shown only once" in response.json()["key_warning"]
    assert access.authorize_server(key=old_secret).integration == integration
    assert access.authorize_server(key=new_secret).integration == integration
    expire_grace_period(integration)
    with pytest.raises(ApiError):
        access.authorize_server(key=old_secret)


def test_a_revoked_key_is_refused_at_once_even_within_a_grace_period(staff, chatbot):
    widget = services.ensure_widget_integration(chatbot=chatbot)
    old_key = widget.api_key
    new_key = services.integration_rotate(integration=widget).record.api_key
    response = staff.post(f"/api/integrations/{chatbot.id}/{widget.id}/revoke")
    assert response.status_code == 200
    assert response.json()["status"] == "revoked" and response.json()["snippets"] == {}
    for key in (old_key, new_key):
        with pytest.raises(ApiError) as refused:
            visitor(chatbot, key)
        assert refused.value.status_code == 401


def test_a_revoked_integration_cannot_be_rotated_back_to_life(staff, chatbot):
    widget = services.integration_revoke(integration=services.ensure_widget_integration(chatbot=chatbot))
    response = staff.post(f"/api/integrations/{chatbot.id}/{widget.id}/rotate")
    assert response.status_code == 409
    assert "delete it and create a new one" in response.json()["error"]["message"]


def test_deleting_the_widget_integration_kills_its_key_and_a_fresh_one_appears(staff, chatbot):
    widget = services.ensure_widget_integration(chatbot=chatbot)
    assert staff.delete(f"/api/integrations/{chatbot.id}/{widget.id}").status_code == 204
    with pytest.raises(ApiError):
        visitor(chatbot, widget.api_key)
    fresh = integrations_of(staff, chatbot)["widget"]
    assert fresh["id"] != str(widget.id) and fresh["publishable_key"] != widget.api_key


def test_use_of_a_key_is_recorded_and_shown(staff, chatbot):
    widget = services.ensure_widget_integration(chatbot=chatbot)
    assert integrations_of(staff, chatbot)["widget"]["last_used_at"] is None
    visitor(chatbot, widget.api_key)
    assert integrations_of(staff, chatbot)["widget"]["last_used_at"] is not None


# The shared key-and-origin check

def test_a_publishable_key_cannot_call_the_secret_key_path(chatbot):
    widget = services.ensure_widget_integration(chatbot=chatbot)
    with pytest.raises(ApiError) as refused:
        access.authorize_server(key=widget.api_key)
    assert refused.value.status_code == 401


def test_a_publishable_key_cannot_open_another_chatbot(chatbot, company_a):
    widget = services.ensure_widget_integration(chatbot=chatbot)
    other = Chatbot.objects.create(name="Sales", company=company_a)
    with pytest.raises(ApiError) as refused:
        visitor(other, widget.api_key)
    assert refused.value.code == "invalid_key"


def test_a_secret_key_cannot_be_used_as_a_publishable_key(staff, chatbot):
    secret = create(staff, chatbot, "api").json()["key"]
    with pytest.raises(ApiError):
        visitor(chatbot, secret)


def test_a_paused_chatbot_is_unavailable(chatbot):
    widget = services.ensure_widget_integration(chatbot=chatbot)
    Chatbot.objects.filter(pk=chatbot.pk).update(is_active=False)
    with pytest.raises(ApiError) as refused:
        visitor(chatbot, widget.api_key)
    assert refused.value.code == "unavailable"


@pytest.mark.parametrize("value, origin", [
    ("https://Shop.Example.com", SHOP),
    ("https://shop.example.com/", SHOP),
    ("https://shop.example.com:443", SHOP),
    ("http://localhost:8000", "http://localhost:8000"),
    ("http://[::1]:8000", "http://[::1]:8000"),
    ("https://bücher.example", "https://xn--bcher-kva.example"),
    ("https://shop.example.com/path", None),
    ("https://shop.example.com?q=1", None),
    ("https://user:pass@shop.example.com", None),
    ("https://*.example.com", None),
    ("javascript:alert(1)", None),
    ("ftp://shop.example.com", None),
    ("http://shop.example.com:port", None),
    ("null", None),
    ("", None),
])
def test_normalize_origin(value, origin):
    assert access.normalize_origin(value) == origin


def test_the_origin_check_allows_docents_own_origin_and_listed_origins_only(chatbot):
    widget = services.integration_update(integration=services.ensure_widget_integration(chatbot=chatbot),
                                         settings={"allowed_origins": [SHOP]})
    assert access.origin_allowed(widget, OWN_ORIGIN, OWN_ORIGIN)
    assert access.origin_allowed(widget, "https://shop.example.com:443", OWN_ORIGIN)
    assert not access.origin_allowed(widget, "http://shop.example.com", OWN_ORIGIN)  # another scheme
    assert not access.origin_allowed(widget, "https://evil.example.com", OWN_ORIGIN)
    assert not access.origin_allowed(widget, None, OWN_ORIGIN)


# Roles

def test_a_member_reads_integrations_and_publishable_snippets_but_no_secret(member_a, api_client, staff, chatbot):
    secret = create(staff, chatbot, "api").json()["key"]
    member = api_client(member_a)
    listed = integrations_of(member, chatbot)
    assert listed["widget"]["snippets"]["script"]
    assert secret not in member.get(f"/api/integrations/{chatbot.id}").content.decode()


def test_a_member_cannot_change_integrations(member_a, api_client, chatbot):
    member = api_client(member_a)
    widget = services.ensure_widget_integration(chatbot=chatbot)
    url = f"/api/integrations/{chatbot.id}/{widget.id}"
    attempts = [
        member.post("/api/integrations", {"chatbot_id": str(chatbot.id), "type": "api"}, format="json"),
        member.patch(url, {"settings": {"allowed_origins": [SHOP]}}, format="json"),
        member.post(f"{url}/rotate"),
        member.post(f"{url}/revoke"),
        member.delete(url),
    ]
    assert [response.status_code for response in attempts] == [403] * 5
    widget.refresh_from_db()
    assert widget.allowed_origins == [] and not widget.is_revoked
    assert not Integration.objects.filter(type="api").exists()


def test_an_admin_manages_integrations(admin_a, api_client, chatbot):
    assert create(api_client(admin_a), chatbot, "api").status_code == 201


# Another company

def test_another_companys_chatbot_and_integrations_answer_404_on_every_route(outsider, staff, chatbot):
    widget = services.ensure_widget_integration(chatbot=chatbot)
    create(staff, chatbot, "api")
    base = f"/api/integrations/{chatbot.id}"
    assert_foreign_404(outsider, "get", base)
    assert_foreign_404(outsider, "get", f"{base}/")
    assert_foreign_404(outsider, "post", "/api/integrations", data={"chatbot_id": str(chatbot.id), "type": "iframe"},
                       format="json")
    assert_foreign_404(outsider, "patch", f"{base}/{widget.id}", data={"settings": {"allowed_origins": [SHOP]}},
                       format="json")
    assert_foreign_404(outsider, "post", f"{base}/{widget.id}/rotate")
    assert_foreign_404(outsider, "post", f"{base}/{widget.id}/revoke")
    assert_foreign_404(outsider, "delete", f"{base}/{widget.id}")
    widget.refresh_from_db()
    assert widget.allowed_origins == [] and not widget.is_revoked and widget.previous_api_key is None
    assert Integration.objects.filter(chatbot=chatbot).count() == 2


def test_an_integration_cannot_be_reached_under_the_outsiders_own_chatbot(outsider, owner_b, chatbot):
    widget_a = services.ensure_widget_integration(chatbot=chatbot)
    chatbot_b = Chatbot.objects.create(name="Brew bot", company=owner_b.company)
    assert_foreign_404(outsider, "patch", f"/api/integrations/{chatbot_b.id}/{widget_a.id}",
                       data={"settings": {"allowed_origins": [SHOP]}}, format="json")
    assert_foreign_404(outsider, "post", f"/api/integrations/{chatbot_b.id}/{widget_a.id}/rotate")
