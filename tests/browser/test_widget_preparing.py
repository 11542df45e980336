"""Between a visitor's question and the answer's first words, the widget says the answer is being prepared."""

import pytest
from playwright.sync_api import expect

from tests.browser.sessions import watch_errors
from tests.browser.test_widget_in_chromium import ANSWER_TIMEOUT_MS, ask_the_first_suggestion, script_tag
from tests.embedding import make_chatbot, make_integration

pytestmark = pytest.mark.browser


def test_the_widget_shows_the_answer_is_being_prepared_until_its_first_words(live_server, company_a, customer_site,
                                                                              chromium):
    integration = make_integration(make_chatbot(company_a), origins=[customer_site.origin])
    url = customer_site.page("index.html", script_tag(live_server, integration))
    questions = []  # the sockets asked on: this test's chat server answers when the test says so

    def chat_server(socket):
        socket.on_message(lambda message: questions.append(socket))

    with chromium() as browser:
        page = browser.new_page()
        errors = watch_errors(page)
        dialog = ask_the_first_suggestion(page, url, chat_server)
        preparing = dialog.get_by_role("status").filter(has_text="Preparing the answer…")
        expect(preparing).to_be_visible(timeout=ANSWER_TIMEOUT_MS)

        for _ in range(100):  # Playwright hands the routed socket's frames over while the page waits
            if questions:
                break
            page.wait_for_timeout(50)
        [socket] = questions
        socket.send('{"type": "token", "token": "Shipping is free above 50 EUR."}')
        socket.send('{"type": "done", "session_id": "session-1", "conversation_secret": "secret-1"}')
        expect(dialog.get_by_text("Shipping is free above 50 EUR.")).to_be_visible(timeout=ANSWER_TIMEOUT_MS)
        expect(preparing).to_have_count(0)
        assert errors == []
