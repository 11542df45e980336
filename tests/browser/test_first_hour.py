"""What a new company's staff meet in their first hour (issue 14), in a real Chromium."""

import pytest
from playwright.sync_api import expect

from tests.browser.sessions import signed_in, staff_cookie

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_inviter_copies_the_invitation_link(live_server, owner_a, chromium):
    cookie = staff_cookie(owner_a, live_server.url)
    with chromium() as browser:
        context = signed_in(browser, cookie, permissions=["clipboard-read", "clipboard-write"])
        page = context.new_page()
        page.goto(live_server.url + "/")
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Team").click()
        page.get_by_label("Email").fill("new@acme.test")
        page.get_by_role("button", name="Send invitation").click()
        link = page.locator("#invitation-link")
        expect(link).to_contain_text(f"{live_server.url}/invitations/")
        page.get_by_role("button", name="Copy link").click()
        expect(page.get_by_role("status").filter(has_text="Copied")).to_be_attached()
        assert page.evaluate("navigator.clipboard.readText()") == link.inner_text()
