"""Docent's pages need nothing from the internet: every script, stylesheet and icon they load is
served by Docent itself (a CDN's outage, or a network without one, leaves no page blank)."""

import pytest
from playwright.sync_api import expect

from tests.browser.sessions import signed_in, staff_cookie

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

STAFF_PAGES = ["/", "/files/", "/chatbots/", "/conversations/", "/settings/team/"]


def offline(page, docent: str) -> list[str]:
    """Refuse every request that leaves Docent; the list of refused URLs."""
    refused = []

    def route(route):
        if route.request.url.startswith(docent):
            route.continue_()
        else:
            refused.append(route.request.url)
            route.abort()

    page.route("**/*", route)
    return refused


def test_the_api_documentation_renders_without_a_cdn(live_server, chromium):
    with chromium() as browser:
        page = browser.new_page()
        refused = offline(page, live_server.url)
        page.goto(f"{live_server.url}/api/docs/")
        expect(page.get_by_role("heading", name="Docent API")).to_be_visible()
        expect(page.get_by_text("/api/chatbots/").first).to_be_visible()
        assert refused == []


def test_the_dashboard_loads_nothing_from_other_sites(live_server, owner_a, chromium):
    cookie = staff_cookie(owner_a, live_server.url)
    with chromium() as browser:
        page = signed_in(browser, cookie).new_page()
        refused = offline(page, live_server.url)
        for path in STAFF_PAGES:
            page.goto(live_server.url + path)
        assert refused == []
