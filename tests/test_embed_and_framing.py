"""GET /api/embed/<chatbot_id>?key=…: the iframe page, framed by the integration's sites only; other pages never."""

import re
import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts import keys
from integrations.models import Integration
from tests.embedding import make_chatbot, make_integration

SHOP = "https://shop.example"
BLOG = "https://blog.shop.example:8443"


@pytest.fixture
def bot(company_a):
    return make_chatbot(company_a)


@pytest.fixture
def iframe(bot):
    return make_integration(bot, origins=[SHOP, BLOG], type=Integration.Type.IFRAME)


def embed(client, chatbot_id, key):
    return client.get(f"/api/embed/{chatbot_id}", {"key": key})


def directive(response, name: str) -> list[str]:
    """The sources of one directive of the response's Content-Security-Policy."""
    for part in response["Content-Security-Policy"].split(";"):
        words = part.split()
        if words and words[0] == name:
            return words[1:]
    raise AssertionError(f"no {name} in {response['Content-Security-Policy']!r}")


def test_it_serves_the_chat_page_framable_by_the_allowed_origins_only(client, bot, iframe):
    response = embed(client, bot.id, iframe.api_key)
    assert response.status_code == 200
    assert directive(response, "frame-ancestors") == ["'self'", SHOP, BLOG]
    assert "X-Frame-Options" not in response
    page = response.content.decode()
    script = re.search(r"<script [^>]*>", page).group(0)
    assert f'src="/api/widget/{bot.id}"' in script
    assert f'data-key="{iframe.api_key}"' in script
    assert 'data-mode="inline"' in script
    assert "<title>Acme assistant</title>" in page


def test_until_origins_are_added_only_docent_itself_may_frame_it(client, bot):
    integration = make_integration(bot, type=Integration.Type.IFRAME)
    assert directive(embed(client, bot.id, integration.api_key), "frame-ancestors") == ["'self'"]


def test_the_widget_integrations_key_opens_it_too(client, bot):
    widget = make_integration(bot, origins=[SHOP])
    response = embed(client, bot.id, widget.api_key)
    assert response.status_code == 200
    assert directive(response, "frame-ancestors") == ["'self'", SHOP]


def test_hand_written_origins_that_are_not_origins_stay_out_of_the_policy(client, bot):
    integration = make_integration(bot, type=Integration.Type.IFRAME)
    integration.settings = {"allowed_origins": ["*", "https://ok.example", "https://x.example; script-src *"]}
    integration.save()
    assert directive(embed(client, bot.id, integration.api_key), "frame-ancestors") == ["'self'", "https://ok.example"]


def test_the_page_loads_only_from_docent(client, bot, iframe):
    response = embed(client, bot.id, iframe.api_key)
    assert directive(response, "default-src") == ["'self'"]
    assert directive(response, "connect-src") == ["'self'", "ws://testserver"]


def assert_unavailable(response, status: int):
    assert response.status_code == status
    page = response.content.decode()
    assert "This chat is unavailable" in page
    assert "<script" not in page
    # Framable anywhere, so the visitor reads "unavailable" rather than a refused frame; it holds nothing.
    assert directive(response, "frame-ancestors") == ["*"]
    assert directive(response, "default-src") == ["'none'"]


def test_a_missing_or_unknown_key_gets_the_unavailable_page(client, bot, iframe):
    assert_unavailable(client.get(f"/api/embed/{bot.id}"), 404)
    assert_unavailable(embed(client, bot.id, "dct_pk_" + "x" * 30), 404)


def test_an_unknown_chatbot_gets_the_unavailable_page(client, iframe):
    assert_unavailable(embed(client, uuid.uuid4(), iframe.api_key), 404)


def test_another_chatbots_key_gets_the_unavailable_page(client, company_a, bot, iframe):
    other = make_chatbot(company_a, name="Other")
    assert_unavailable(embed(client, other.id, iframe.api_key), 404)


def test_a_revoked_integration_gets_the_unavailable_page(client, bot, iframe):
    iframe.revoked_at = timezone.now()
    iframe.save()
    assert_unavailable(embed(client, bot.id, iframe.api_key), 404)


def test_a_rotated_key_opens_it_during_the_grace_period_only(client, bot, iframe):
    old_key = iframe.api_key
    iframe.previous_api_key, iframe.api_key = old_key, keys.new_publishable()
    iframe.previous_valid_until = timezone.now() + timedelta(hours=1)
    iframe.save()
    assert embed(client, bot.id, old_key).status_code == 200
    iframe.previous_valid_until = timezone.now() - timedelta(seconds=1)
    iframe.save()
    assert_unavailable(embed(client, bot.id, old_key), 404)


def test_an_inactive_chatbot_gets_the_unavailable_page(client, bot, iframe):
    bot.is_active = False
    bot.save()
    assert_unavailable(embed(client, bot.id, iframe.api_key), 403)


@pytest.mark.parametrize("path", ["/login/", "/signup/", "/healthz", "/api/chatbots", "/api/does-not-exist"])
def test_every_other_page_refuses_framing(client, db, path):
    response = client.get(path)
    assert response["X-Frame-Options"] == "DENY"
    assert response["Content-Security-Policy"] == "frame-ancestors 'none'"


def test_dashboard_pages_refuse_framing(client, owner_a):
    client.force_login(owner_a)
    response = client.get("/chatbots/")
    assert response.status_code == 200
    assert response["X-Frame-Options"] == "DENY"
    assert response["Content-Security-Policy"] == "frame-ancestors 'none'"
