"""A site not (yet) in a widget's allowed origins: its visitor is refused, and the chatbot's Embed & keys
page tells the owner which site tried, as text, in a short capped list, with no one-click add."""

import re

import pytest
from asgiref.sync import async_to_sync
from django.test import Client

from integrations import refusals, services
from integrations.models import Integration
from tests.chatting import bot, chat_socket, widget_key

pytestmark = pytest.mark.django_db(transaction=True)  # the socket reads the database from another thread

STRANGER = "https://www.new-shop.example"


def open_socket(chatbot, key, origin) -> bool:
    """Whether the widget's WebSocket opens from a page on `origin` (closed again at once)."""
    async def attempt():
        socket = chat_socket(chatbot, key=key, origin=origin)
        connected, _ = await socket.connect()
        if connected:
            await socket.disconnect()
        return connected

    return async_to_sync(attempt)()


@pytest.fixture
def chatbot(company_a):
    return bot(company_a)


def integrations_page(user, chatbot) -> str:
    client = Client()
    client.force_login(user)
    return client.get(f"/chatbots/{chatbot.id}/integrations/").content.decode()


def notice(page: str) -> str:
    found = re.search(r'<div class="notice refusals"[^>]*>(.*?)</div>', page, re.S)
    return found.group(1) if found else ""


def test_the_owner_reads_which_site_was_refused(owner_a, chatbot):
    key = widget_key(chatbot)
    assert not open_socket(chatbot, key, "https://WWW.New-Shop.example:443")
    text = notice(integrations_page(owner_a, chatbot))
    assert f"A page on <code>{STRANGER}</code> tried to open this chatbot" in text
    assert "<a " not in text and "<button" not in text and "<form" not in text


def test_an_origin_is_text_never_markup(owner_a, chatbot):
    key = widget_key(chatbot)
    assert not open_socket(chatbot, key, '"><script>alert(1)</script>')
    assert not open_socket(chatbot, key, "javascript:alert(1)")
    assert notice(integrations_page(owner_a, chatbot)) == ""


def test_the_list_is_short_newest_first_and_each_site_once(owner_a, chatbot):
    key = widget_key(chatbot)
    sites = [f"https://site-{n}.example" for n in range(refusals.KEPT + 3)]
    for origin in [*sites, sites[-1]]:
        open_socket(chatbot, key, origin)
    listed = re.findall(r"<code>(https://[^<]+)</code>", notice(integrations_page(owner_a, chatbot)))
    assert listed == sites[::-1][:refusals.KEPT]


def test_a_site_leaves_the_list_once_it_is_allowed(owner_a, chatbot):
    key = widget_key(chatbot)
    open_socket(chatbot, key, STRANGER)
    services.integration_update(integration=Integration.objects.get(type="widget"),
                                settings={"allowed_origins": ["https://shop.example", STRANGER]})
    assert open_socket(chatbot, key, STRANGER)
    assert notice(integrations_page(owner_a, chatbot)) == ""


def test_a_wrong_key_leaves_no_notice(owner_a, chatbot):
    widget_key(chatbot)
    assert not open_socket(chatbot, "dct_pk_not-a-key", STRANGER)
    assert notice(integrations_page(owner_a, chatbot)) == ""
