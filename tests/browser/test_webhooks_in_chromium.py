"""Settings → Webhooks in a real Chromium: add an endpoint and copy its secret once, switch it off, rotate
its secret; a URL into Docent's network is refused in the form; nothing scrolls sideways on a phone."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.sessions import signed_in, staff_cookie, watch_errors
from webhooks import services
from webhooks.models import Endpoint, EventType

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_admin_adds_an_endpoint_sees_the_secret_once_then_switches_it_off_and_rotates(
        live_server, owner_a, chromium):
    cookie = staff_cookie(owner_a, live_server.url)
    with chromium() as browser:
        page = signed_in(browser, cookie).new_page()
        errors = watch_errors(page)
        page.on("dialog", lambda dialog: dialog.accept())  # the confirmations
        page.goto(f"{live_server.url}/settings/webhooks/")
        page.get_by_label("URL").fill("http://10.0.0.7/hooks")
        page.get_by_role("button", name="Add endpoint").click()
        expect(page.get_by_role("alert").first).to_contain_text("public internet addresses only")

        page.get_by_label("URL").fill("https://hooks.example.com/docent")
        page.get_by_label(re.compile("feedback.created")).uncheck()
        page.get_by_role("button", name="Add endpoint").click()
        secret = page.locator("#secret-value")
        expect(secret).to_have_text(re.compile(r"^whsec_"))
        shown = secret.text_content()
        page.get_by_role("button", name="I have copied it").click()
        page.get_by_role("link", name="https://hooks.example.com/docent").click()
        expect(page.locator("body")).not_to_contain_text(shown)
        expect(page.locator("body")).to_contain_text("whsec_…" + shown[-4:])

        page.get_by_role("button", name="Switch off").click()
        expect(page.get_by_role("button", name="Switch on")).to_be_visible()
        page.get_by_role("button", name="Rotate secret").click()
        expect(secret).to_have_text(re.compile(r"^whsec_"))
        assert secret.text_content() != shown
        assert errors == []
    endpoint = Endpoint.objects.get()
    assert not endpoint.enabled and EventType.FEEDBACK_CREATED not in endpoint.events
    assert endpoint.previous_valid_until is not None


def test_the_webhook_pages_do_not_scroll_sideways_on_a_phone(live_server, owner_a, chromium):
    long_url = "https://hooks.example.com/" + "extraordinarily-long-unbroken-path-" * 6
    endpoint = services.endpoint_create(company=owner_a.company, created_by=owner_a, url=long_url,
                                        events=list(EventType.values), description="x" * 200).record
    services.emit(company_id=owner_a.company_id, type=EventType.DATA_SOURCE_READY, data={})
    cookie = staff_cookie(owner_a, live_server.url)
    with chromium() as browser:
        page = signed_in(browser, cookie, viewport={"width": 360, "height": 740}, is_mobile=True).new_page()
        overflowing = {}
        for path in ["/settings/webhooks/", f"/settings/webhooks/{endpoint.id}/"]:
            page.goto(live_server.url + path)
            width = page.evaluate("document.documentElement.scrollWidth")
            if width > 362:
                overflowing[path] = width
        assert overflowing == {}
