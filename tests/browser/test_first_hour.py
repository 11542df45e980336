"""What a new company's staff meet in their first hour (issue 14), in a real Chromium."""

import pytest
from playwright.sync_api import expect

from chatbots.models import Chatbot
from datasources.models import DataSource
from integrations import refusals
from tests.browser.sessions import signed_in, staff_cookie, watch_errors
from tests.browser.test_widget_in_chromium import script_tag
from tests.embedding import make_chatbot, make_integration

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


def test_the_new_chatbot_form_starts_with_the_data_sources(live_server, owner_a, company_a, chromium):
    ready = [DataSource.objects.create(company=company_a, name=name, type="pdf", status="ready")
             for name in ("handbook.pdf", "prices.pdf")]
    DataSource.objects.create(company=company_a, name="scan.pdf", type="pdf", status="error",
                              error_message="This PDF has no text layer: it is a scan.")
    cookie = staff_cookie(owner_a, live_server.url)
    with chromium() as browser:
        page = signed_in(browser, cookie).new_page()
        page.goto(live_server.url + "/chatbots/new/")
        boxes = page.get_by_role("group", name="The documents it answers from").get_by_role("checkbox")
        expect(boxes).to_have_count(3)
        for box in boxes.all():
            expect(box).not_to_be_checked()
        page.get_by_label("Name", exact=True).fill("Support")
        page.get_by_role("button", name="Create chatbot").click()
        expect(page.get_by_role("alert").filter(has_text="No data source is ticked")).to_be_visible()

        page.get_by_role("button", name="Select all ready").click()
        expect(page.get_by_role("checkbox", name="handbook.pdf")).to_be_checked()
        expect(page.get_by_role("checkbox", name="prices.pdf")).to_be_checked()
        expect(page.get_by_role("checkbox", name="scan.pdf")).not_to_be_checked()
        page.get_by_role("button", name="Create chatbot").click()
        expect(page.get_by_role("heading", name="Support")).to_be_visible()
    assert set(Chatbot.objects.get().data_sources.all()) == set(ready)


def test_a_site_not_yet_allowed_leaves_its_visitor_neutral_and_its_developer_a_hint(live_server, company_a,
                                                                                      stranger_site, chromium):
    integration = make_integration(make_chatbot(company_a))
    url = stranger_site.page("index.html", script_tag(live_server, integration))
    with chromium() as browser:
        page = browser.new_page()
        warnings = []
        page.on("console", lambda message: message.type == "warning" and warnings.append(message.text))
        page.goto(url)
        page.get_by_role("button", name="Chat with Acme assistant").click()
        dialog = page.get_by_role("dialog", name="Acme assistant")
        dialog.get_by_role("textbox", name="Your message").fill("Do you ship abroad?")
        page.keyboard.press("Enter")
        expect(dialog.get_by_text("Chat is unavailable right now.")).to_be_visible(timeout=15_000)
        expect(dialog).not_to_contain_text("allowed origins")
    assert any(stranger_site.origin in text and "allowed origins" in text for text in warnings), warnings


def test_the_owner_previews_the_widget_on_docent_and_reads_the_refused_sites(live_server, owner_a, company_a,
                                                                             chromium):
    chatbot = make_chatbot(company_a)
    integration = make_integration(chatbot)
    refusals.refusal_record(integration=integration, origin="https://www.new-shop.example")
    cookie = staff_cookie(owner_a, live_server.url)
    with chromium() as browser:
        page = signed_in(browser, cookie).new_page()
        errors = watch_errors(page)
        page.goto(f"{live_server.url}/chatbots/{chatbot.id}/integrations/")
        card = page.locator("section.integration", has_text="Website widget")
        expect(card.locator(".refusals")).to_contain_text(
            "A page on https://www.new-shop.example tried to open this chatbot")
        expect(card.locator(".refusals a, .refusals button")).to_have_count(0)
        card.get_by_role("button", name="Try the widget on this page").click()
        dialog = page.get_by_role("dialog", name="Acme assistant")
        expect(dialog.get_by_role("textbox", name="Your message")).to_be_visible()
        assert errors == []
