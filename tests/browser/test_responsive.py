"""The dashboard at a phone's width, with long names: no page scrolls sideways, the navigation stays one
row, and the keyboard reaches it first; at a laptop's width no word breaks inside a table cell."""

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


# Words broken across lines inside table cells and badges ("Typ e", "Chun ks", "activ e").
BROKEN_WORDS = """() => {
  const broken = [];
  for (const cell of document.querySelectorAll("th, td, .badge")) {
    const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      if (node.parentElement.closest(".visually-hidden")) continue;
      for (const word of node.textContent.matchAll(/\\S+/g)) {
        const range = document.createRange();
        range.setStart(node, word.index);
        range.setEnd(node, word.index + word[0].length);
        const lines = new Set(Array.from(range.getClientRects(), (rect) => Math.round(rect.top)));
        if (lines.size > 1) broken.push(word[0]);
      }
    }
  }
  return broken;
}"""


@pytest.fixture
def first_hour_company(owner_a, company_a):
    """A company after its first hour: files, an active chatbot, conversations, one unanswered."""
    sources = [DataSource.objects.create(company=company_a, name=name, type=name.rsplit(".", 1)[1], status="ready",
                                         size=size, chunk_count=chunks)
               for name, size, chunks in [("federal-register-2020-17221.pdf", 356_400, 64),
                                          ("price-list.xlsx", 34_800, 12), ("returns.md", 2_100, 3)]]
    chatbot = Chatbot.objects.create(company=company_a, name="Support assistant")
    chatbot.data_sources.set(sources)
    for question, answered in [("Which flight control computers does the 737 MAX include?", True),
                               ("Where is the canteen?", False)]:
        conversation = Conversation.objects.create(company=company_a, chatbot=chatbot, chatbot_name=chatbot.name,
                                                   channel="widget", visitor_id="v" * 32)
        Message.objects.create(conversation=conversation, company=company_a, chatbot=chatbot, role="user",
                               content=question)
        Message.objects.create(conversation=conversation, company=company_a, chatbot=chatbot, role="assistant",
                               content="FCC A and FCC B." if answered else "Sorry.", answered=answered,
                               sources=["federal-register-2020-17221.pdf page 2"] if answered else [],
                               mode="extractive")
    return chatbot


def test_no_word_breaks_inside_table_cells_on_a_laptop(live_server, owner_a, first_hour_company, chromium):
    chatbot = first_hour_company
    pages = ["/", "/files/", "/chatbots/", "/conversations/", "/settings/team/", "/settings/api-keys/",
             f"/chatbots/{chatbot.id}/unanswered/", f"/chatbots/{chatbot.id}/analytics/"]
    cookie = staff_cookie(owner_a, live_server.url)
    with chromium() as browser:
        page = signed_in(browser, cookie, viewport={"width": 1366, "height": 768}).new_page()
        broken = {}
        for path in pages:
            page.goto(live_server.url + path)
            if words := page.evaluate(BROKEN_WORDS):
                broken[path] = words
        assert broken == {}


def test_the_navigation_is_one_row_on_a_phone(live_server, owner_a, chromium):
    cookie = staff_cookie(owner_a, live_server.url)
    with chromium() as browser:
        page = signed_in(browser, cookie, viewport={"width": 390, "height": 844}, is_mobile=True).new_page()
        page.goto(live_server.url + "/conversations/")
        links = page.get_by_role("navigation", name="Main").get_by_role("link")
        expect(links).to_have_count(5)
        rows = {round(box["y"]) for box in (link.bounding_box() for link in links.all())}
        assert len(rows) == 1, rows
        links.last.scroll_into_view_if_needed()
        expect(links.last).to_be_in_viewport()
