"""A chatbot that lets visitors open its cited documents: in the widget, each source is a link that opens the file."""

import json

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from playwright.sync_api import expect

from datasources.naming import storage_path
from tests.browser.sessions import watch_errors
from tests.browser.test_widget_in_chromium import ANSWER_TIMEOUT_MS, WIDGET_QUERY, script_tag
from tests.chatting import LICENCE_QUESTION, WAREHOUSE, add_source
from tests.embedding import QUESTIONS, make_chatbot, make_integration

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("local_models")]

PDF_BYTES = b"%PDF-1.4\n% the handbook, as uploaded\n%%EOF\n"


def test_a_source_in_the_widget_opens_its_document(live_server, company_a, customer_site, chromium):
    handbook = add_source(company_a, "handbook.pdf", WAREHOUSE)
    handbook.storage_path = default_storage.save(
        storage_path(company_id=company_a.id, data_source_id=handbook.id, name=handbook.name), ContentFile(PDF_BYTES))
    handbook.save()
    chatbot = make_chatbot(company_a, show_source_documents=True)
    chatbot.data_sources.add(handbook)
    integration = make_integration(chatbot, origins=[customer_site.origin])
    url = customer_site.page("index.html", script_tag(live_server, integration))

    with chromium() as browser:
        page = browser.new_page()
        errors = watch_errors(page)
        page.goto(url)
        page.get_by_role("button", name="Chat with Acme assistant").click()
        dialog = page.get_by_role("dialog", name="Acme assistant")
        dialog.get_by_role("textbox", name="Your message").fill(LICENCE_QUESTION)
        page.keyboard.press("Enter")
        link = dialog.get_by_role("link", name="handbook.pdf page 2")
        expect(link).to_be_visible(timeout=ANSWER_TIMEOUT_MS)
        [shown] = page.evaluate(WIDGET_QUERY, [".sources a"])
        assert shown["target"] == "_blank" and shown["rel"] == "noopener noreferrer"
        assert shown["href"].startswith(f"{live_server.url}/api/documents/") and shown["href"].endswith("#page=2")

        # Clicked, it opens in a new tab: a plain navigation, without the page's Origin, key or cookies.
        responses = []
        page.context.on("response", lambda response: responses.append(response))
        with page.context.expect_page() as opened:
            link.click()
        opened.value.wait_for_load_state()
        [document] = [response for response in responses if response.url == shown["href"].split("#")[0]]
        assert document.status == 200
        assert document.headers["content-type"] == "application/pdf"
        assert "origin" not in document.request.headers
        assert browser.new_context().request.get(shown["href"]).body() == PDF_BYTES
        assert errors == []


def test_a_source_url_that_is_not_docents_own_stays_text(live_server, company_a, customer_site, chromium):
    sources = ["ours.pdf page 1", "script.pdf page 2", "elsewhere.pdf page 3", "plain.pdf page 4"]
    urls = [f"{live_server.url}/api/documents/token#page=1", "javascript:alert(1)",
            "https://evil.example/api/documents/token", None]
    shown, links = _sources_shown(live_server, company_a, customer_site, chromium, sources, urls)
    assert shown == sources
    assert links == [{"text": "ours.pdf page 1", "href": urls[0], "rel": "noopener noreferrer", "target": "_blank"}]


def test_a_cited_web_page_is_a_link_only_to_the_http_address_it_shows(live_server, company_a, customer_site,
                                                                      chromium):
    """A page of the company's website (a website data source) is cited by its address: shown as a link when
    the label is that very http(s) address, so a visitor sees where it goes; anything else stays text."""
    sources = ["https://acme.example/docs/shipping", "https://acme.example/docs/returns", "javascript:alert(1)"]
    urls = ["https://acme.example/docs/shipping", "https://evil.example/docs/returns", "javascript:alert(1)"]
    shown, links = _sources_shown(live_server, company_a, customer_site, chromium, sources, urls)
    assert shown == sources
    assert links == [{"text": sources[0], "href": urls[0], "rel": "noopener noreferrer nofollow", "target": "_blank"}]


def _sources_shown(live_server, company, customer_site, chromium, sources: list[str], urls: list) -> tuple[list, list]:
    """The widget's source lines and links, after an answer whose sources event carries `sources` and `urls`."""
    integration = make_integration(make_chatbot(company), origins=[customer_site.origin])
    url = customer_site.page("index.html", script_tag(live_server, integration))

    def chat_server(socket):
        def answer(message):
            socket.send(json.dumps({"type": "token", "token": "Here you are."}))
            socket.send(json.dumps({"type": "sources", "sources": sources, "source_urls": urls}))
            socket.send(json.dumps({"type": "done", "session_id": "session-1", "conversation_secret": "secret-1"}))
        socket.on_message(answer)

    with chromium() as browser:
        page = browser.new_page()
        errors = watch_errors(page)
        page.route_web_socket(f"{live_server.url.replace('http', 'ws')}/ws/chat/**", chat_server)
        page.goto(url)
        page.get_by_role("button", name="Chat with Acme assistant").click()
        dialog = page.get_by_role("dialog", name="Acme assistant")
        dialog.get_by_role("button", name=QUESTIONS[0]).click()
        expect(dialog.get_by_text(sources[-1])).to_be_visible(timeout=ANSWER_TIMEOUT_MS)
        shown = [node["text"] for node in page.evaluate(WIDGET_QUERY, [".sources li"])]
        links = page.evaluate(WIDGET_QUERY, [".sources a"])
        assert errors == []
    return shown, links
