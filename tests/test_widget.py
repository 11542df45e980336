"""GET /api/widget/<chatbot_id>: the widget script, with the chatbot's public settings in it."""

import gzip
import json
import uuid

import pytest

from integrations.widget import CONFIG_PLACEHOLDER, widget_source
from tests.embedding import BRAND_RED, QUESTIONS, WELCOME, make_chatbot

GZIP_TARGET_BYTES = 15 * 1024


@pytest.fixture
def bot(company_a):
    return make_chatbot(company_a)


def url(chatbot_id) -> str:
    return f"/api/widget/{chatbot_id}"


def raw_config(response) -> str:
    """The settings the view put where the placeholder was: the argument of the script's outer call."""
    body = response.content.decode()
    return body[body.rindex("})(") + 3: body.rindex(");")]


def embedded_config(response) -> dict:
    return json.loads(raw_config(response))


def test_it_serves_the_widget_as_javascript_with_the_chatbots_settings(client, bot):
    response = client.get(url(bot.id))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/javascript; charset=utf-8"
    assert CONFIG_PLACEHOLDER not in response.content.decode()
    config = embedded_config(response)
    assert config["chatbot_id"] == str(bot.id)
    assert config["title"] == "Acme assistant"
    assert config["welcome_message"] == WELCOME
    assert config["suggested_questions"] == QUESTIONS
    assert config["is_active"] is True
    assert config["theme"]["primary_color"] == BRAND_RED
    assert config["theme"]["position"] == "right"  # a default filled in


def test_the_title_defaults_to_the_chatbots_name(client, company_a):
    bot = make_chatbot(company_a, theme={})
    assert embedded_config(client.get(url(bot.id)))["title"] == "Acme Help"


def test_it_answers_with_and_without_a_trailing_slash(client, bot):
    assert client.get(url(bot.id) + "/").status_code == 200


def test_it_is_cached_by_content_and_answers_304_when_unchanged(client, bot):
    first = client.get(url(bot.id))
    assert first["Cache-Control"] == "public, max-age=300"
    etag = first["ETag"]
    assert etag.startswith('"') and len(etag) > 10
    again = client.get(url(bot.id), headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    assert again["ETag"] == etag


def test_it_is_sent_compressed_to_browsers_that_accept_it(client, bot):
    plain = client.get(url(bot.id))
    compressed = client.get(url(bot.id), headers={"Accept-Encoding": "gzip, deflate, br"})
    assert compressed["Content-Encoding"] == "gzip"
    assert gzip.decompress(compressed.content) == plain.content
    assert len(compressed.content) <= GZIP_TARGET_BYTES
    again = client.get(url(bot.id), headers={"Accept-Encoding": "gzip", "If-None-Match": compressed["ETag"]})
    assert again.status_code == 304


def test_a_change_to_the_chatbot_changes_the_etag(client, bot):
    etag = client.get(url(bot.id))["ETag"]
    bot.welcome_message = "Welcome back!"
    bot.save()
    response = client.get(url(bot.id), headers={"If-None-Match": etag})
    assert response.status_code == 200
    assert response["ETag"] != etag
    assert embedded_config(response)["welcome_message"] == "Welcome back!"


def test_an_unknown_chatbot_gets_a_tiny_script_that_says_so(client, db):
    response = client.get(url(uuid.uuid4()))
    assert response.status_code == 404
    assert response["Content-Type"] == "application/javascript; charset=utf-8"
    assert response.content.decode().strip() == 'console.warn("Docent: chatbot unavailable");'


def test_an_inactive_chatbot_is_served_as_unavailable(client, company_a):
    bot = make_chatbot(company_a, is_active=False)
    response = client.get(url(bot.id))
    assert response.status_code == 200
    assert embedded_config(response)["is_active"] is False


def test_text_that_could_end_a_script_is_escaped_and_arrives_intact(client, company_a):
    hostile = "</script><script>alert(1)</script> & \u2028"
    bot = make_chatbot(company_a, welcome_message=hostile, suggested_questions=["<img src=x onerror=alert(1)>"])
    response = client.get(url(bot.id))
    assert not any(character in raw_config(response) for character in "<>&\u2028")
    config = embedded_config(response)
    assert config["welcome_message"] == hostile
    assert config["suggested_questions"] == ["<img src=x onerror=alert(1)>"]


def test_only_get_and_head_are_allowed(client, bot):
    assert client.head(url(bot.id)).status_code == 200
    assert client.post(url(bot.id)).status_code == 405


def test_the_widget_is_small(capsys):
    raw = widget_source().encode()
    compressed = len(gzip.compress(raw, compresslevel=9))
    with capsys.disabled():
        print(f"\nwidget script: {len(raw)} bytes raw, {compressed} bytes gzipped (target {GZIP_TARGET_BYTES})")
    assert compressed <= GZIP_TARGET_BYTES


def test_the_widget_never_parses_text_as_html():
    source = widget_source()
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"):
        assert sink not in source
