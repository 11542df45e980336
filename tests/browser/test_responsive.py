"""The dashboard at a phone's width, with long names: no page scrolls sideways, and the keyboard
reaches the navigation first."""

import pytest
from playwright.sync_api import expect

from chat.models import Conversation, Message
from chatbots.models import Chatbot
from datasources.models import DataSource
from tests.browser.sessions import signed_in, staff_cookie

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LONG = "Extraordinarily-long-unbroken-name-" * 6
PAGES = ["/", "/files/", "/chatbots/", "/chatbots/new/", "/conversations/", "/settings/team/", "/settings/api-keys/"]


@pytest.fixture
def long_named_company(owner_a, company_a):
    company_a.name = LONG
    company_a.save()
    owner_a.name = LONG
    owner_a.save()
    source = DataSource.objects.create(company=company_a, name=f"{LONG}.pdf", type="pdf", status="ready")
    chatbot = Chatbot.objects.create(company=company_a, name=LONG, description=LONG)
    chatbot.data_sources.add(source)
    conversation = Conversation.objects.create(company=company_a, chatbot=chatbot, chatbot_name=LONG,
                                               channel="widget", visitor_id="v" * 64)
    Message.objects.create(conversation=conversation, company=company_a, chatbot=chatbot, role="user", content=LONG)
    Message.objects.create(conversation=conversation, company=company_a, chatbot=chatbot, role="assistant",
                           content=LONG, answered=True, sources=[f"{LONG}.pdf page 2"], mode="extractive")
    return chatbot, conversation


def test_no_page_scrolls_sideways_on_a_phone(live_server, owner_a, long_named_company, chromium):
    chatbot, conversation = long_named_company
    pages = [*PAGES, f"/chatbots/{chatbot.id}/", f"/chatbots/{chatbot.id}/integrations/",
             f"/chatbots/{chatbot.id}/console/", f"/chatbots/{chatbot.id}/unanswered/",
             f"/conversations/{conversation.id}/"]
    cookie = staff_cookie(owner_a, live_server.url)
    with chromium() as browser:
        page = signed_in(browser, cookie, viewport={"width": 360, "height": 740},
                         is_mobile=True).new_page()
        overflowing = {}
        for path in pages:
            page.goto(live_server.url + path)
            width = page.evaluate("document.documentElement.scrollWidth")
            if width > 362:
                overflowing[path] = width
        assert overflowing == {}


def test_the_keyboard_reaches_the_skip_link_then_the_navigation(live_server, owner_a, chromium):
    cookie = staff_cookie(owner_a, live_server.url)
    with chromium() as browser:
        page = signed_in(browser, cookie).new_page()
        page.goto(live_server.url + "/conversations/")
        page.keyboard.press("Tab")
        expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
        page.keyboard.press("Tab")
        expect(page.get_by_role("link", name="Docent")).to_be_focused()
        page.keyboard.press("Tab")
        expect(page.get_by_role("link", name="Overview")).to_be_focused()
