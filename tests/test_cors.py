"""CORS: the visitor endpoints answer browsers on the sites some active widget or iframe integration allows, only."""

import pytest
from django.utils import timezone

from integrations.middleware import forget_cors_origins
from integrations.models import Integration
from tests.embedding import make_chatbot, make_integration

SHOP = "https://shop.example"
STRANGER = "https://evil.example"
VISITOR_PATHS = ["/api/chat", "/api/chat/stream", "/api/chat/", "/api/conversations/0f8b9c1e4a2d4f6b8c0d2e4f6a8b0c1d",
                 "/api/conversations/0f8b9c1e4a2d4f6b8c0d2e4f6a8b0c1d/feedback"]


@pytest.fixture
def widget(company_a):
    return make_integration(make_chatbot(company_a), origins=[SHOP])


def preflight(client, path, origin, method="POST"):
    return client.options(path, headers={"Origin": origin, "Access-Control-Request-Method": method,
                                         "Access-Control-Request-Headers": "content-type, authorization, "
                                                                           "x-conversation-secret"})


def assert_no_cors(response):
    assert not [header for header in response.headers if header.lower().startswith("access-control-")]


@pytest.mark.parametrize("path", VISITOR_PATHS)
def test_an_allowed_site_may_call_the_visitor_endpoints(client, widget, path):
    response = client.post(path, {}, content_type="application/json", headers={"Origin": SHOP})
    assert response["Access-Control-Allow-Origin"] == SHOP
    assert response["Access-Control-Expose-Headers"] == "Retry-After"
    assert "Access-Control-Allow-Credentials" not in response
    assert "Origin" in response["Vary"]


@pytest.mark.parametrize("path", VISITOR_PATHS)
def test_the_preflight_of_an_allowed_site_is_answered(client, widget, path):
    response = preflight(client, path, SHOP)
    assert response.status_code == 204
    assert response["Access-Control-Allow-Origin"] == SHOP
    assert response["Access-Control-Allow-Methods"] == "GET, POST"
    # The widget sends its key, and the conversation's secret when it reads or rates it.
    assert response["Access-Control-Allow-Headers"] == "content-type, authorization, x-conversation-secret"
    assert int(response["Access-Control-Max-Age"]) > 0
    assert "Access-Control-Allow-Credentials" not in response
    assert "Origin" in response["Vary"]


def test_a_body_refused_before_any_view_still_tells_the_allowed_site_why(client, widget, settings):
    settings.API_MAX_JSON_BODY_BYTES = 10
    response = client.post("/api/chat", {"message": "Opening hours?"}, content_type="application/json",
                           headers={"Origin": SHOP})
    assert response.status_code == 413 and response.json()["error"]["code"] == "too_large"
    assert response["Access-Control-Allow-Origin"] == SHOP


def test_an_origin_is_matched_as_browsers_send_it(client, company_a):
    make_integration(make_chatbot(company_a), origins=["https://Shop.Example:443"])
    assert preflight(client, "/api/chat", "https://shop.example")["Access-Control-Allow-Origin"] == SHOP


def test_other_sites_get_no_cors_headers(client, widget):
    for origin in (STRANGER, "http://shop.example", "https://shop.example:8443", "null", "https://shop.example.evil"):
        response = preflight(client, "/api/chat", origin)
        assert response.status_code == 204
        assert_no_cors(response)
        assert "Origin" in response["Vary"]
        assert_no_cors(client.post("/api/chat", {}, content_type="application/json", headers={"Origin": origin}))


def test_a_revoked_integrations_sites_get_no_cors_headers(client, widget):
    widget.revoked_at = timezone.now()
    widget.save()
    forget_cors_origins()
    assert_no_cors(preflight(client, "/api/chat/stream", SHOP))


def test_an_iframe_integrations_sites_are_allowed_too(client, company_a):
    make_integration(make_chatbot(company_a), origins=["https://docs.example"], type=Integration.Type.IFRAME)
    assert preflight(client, "/api/chat", "https://docs.example")["Access-Control-Allow-Origin"] == "https://docs.example"


@pytest.mark.parametrize("path", ["/api/chatbots", "/api/integrations", "/api/company", "/api/conversations",
                                  "/api/widget/0f8b9c1e-4a2d-4f6b-8c0d-2e4f6a8b0c1d"])
def test_staff_and_other_endpoints_never_get_cors_headers(client, widget, path):
    assert_no_cors(client.get(path, headers={"Origin": SHOP}))
    assert_no_cors(preflight(client, path, SHOP, method="GET"))


def test_the_allowed_sites_are_cached_briefly_and_forgotten_on_change(client, widget):
    assert preflight(client, "/api/chat", SHOP)["Access-Control-Allow-Origin"] == SHOP
    widget.settings = {"allowed_origins": ["https://new-shop.example"]}
    widget.save()
    assert preflight(client, "/api/chat", SHOP)["Access-Control-Allow-Origin"] == SHOP  # cached
    forget_cors_origins()
    assert_no_cors(preflight(client, "/api/chat", SHOP))
    assert preflight(client, "/api/chat", "https://new-shop.example")["Access-Control-Allow-Origin"]
