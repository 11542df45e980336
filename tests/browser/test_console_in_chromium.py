"""The test console in a real Chromium: staff ask, the answer streams in with the passages and their scores."""

import pytest
from playwright.sync_api import expect

from tests.browser.sessions import signed_in, staff_cookie, watch_errors
from tests.chatting import LICENCE_QUESTION

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_staff_see_the_answer_with_the_passages_and_scores(live_server, owner_a, handbook_bot, chromium):
    cookie = staff_cookie(owner_a, live_server.url)
    with chromium() as browser:
        page = signed_in(browser, cookie).new_page()
        errors = watch_errors(page)
        page.goto(f"{live_server.url}/chatbots/{handbook_bot.id}/console/")
        page.get_by_label("Your question").fill(LICENCE_QUESTION)
        page.get_by_role("button", name="Ask").click()
        log = page.get_by_role("log", name="Conversation")
        expect(log.get_by_text("Answer quoted from the documents")).to_be_visible(timeout=20_000)
        expect(log.locator(".console-msg.bot p").last).to_contain_text("current licence")
        passages = log.get_by_role("list", name="Passages given to the answerer")
        expect(passages.get_by_text("handbook.pdf page 2 · score", exact=False)).to_be_visible()
        expect(passages.get_by_text("· cited", exact=False).first).to_be_visible()
        assert errors == []


def test_the_console_shows_the_newest_answer(live_server, owner_a, handbook_bot, chromium):
    cookie = staff_cookie(owner_a, live_server.url)
    questions = [LICENCE_QUESTION, "When do orders leave the warehouse?", "What is checked when pallets arrive?"]
    with chromium() as browser:
        page = signed_in(browser, cookie, viewport={"width": 1366, "height": 700}).new_page()
        page.goto(f"{live_server.url}/chatbots/{handbook_bot.id}/console/")
        log = page.get_by_role("log", name="Conversation")
        for number, question in enumerate(questions, start=1):
            page.get_by_label("Your question").fill(question)
            page.get_by_role("button", name="Ask").click()
            expect(log.locator(".console-meta")).to_have_count(number, timeout=20_000)
        newest = log.locator(".console-msg.bot").last
        expect(newest.locator("p")).to_be_in_viewport()
        expect(newest.locator(".console-meta")).to_be_in_viewport()


def test_an_answer_from_the_cache_is_marked_cached(live_server, owner_a, handbook_bot, chromium):
    cookie = staff_cookie(owner_a, live_server.url)
    with chromium() as browser:
        page = signed_in(browser, cookie).new_page()
        errors = watch_errors(page)
        page.goto(f"{live_server.url}/chatbots/{handbook_bot.id}/console/")
        log = page.get_by_role("log", name="Conversation")
        page.get_by_label("Your question").fill(LICENCE_QUESTION)
        page.get_by_role("button", name="Ask").click()
        expect(log.locator(".console-meta")).to_have_count(1, timeout=20_000)
        expect(log.locator(".console-cached")).to_have_count(0)
        page.get_by_role("button", name="New conversation").click()  # the same first question again
        page.get_by_label("Your question").fill(LICENCE_QUESTION)
        page.get_by_role("button", name="Ask").click()
        expect(log.locator(".console-meta")).to_have_count(1, timeout=20_000)
        expect(log.locator(".console-meta").last).to_contain_text("cached")
        expect(log.locator(".console-msg.bot p").last).to_contain_text("current licence")
        assert errors == []
