"""The widget and the iframe page against Docent served by Daphne, as in production: the answer to a
visitor's question streams in over the WebSocket, quoted from the chatbot's document with its source."""

from types import SimpleNamespace

import pytest
from playwright.sync_api import expect

from chat.models import Conversation, Message
from integrations.models import Integration
from tests.browser.test_widget_in_chromium import iframe_tag, script_tag
from tests.chatting import LICENCE_QUESTION
from tests.embedding import make_integration
from tests.worker_processes import WorkerProcesses

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

QUESTION = LICENCE_QUESTION
ANSWER_TIMEOUT_MS = 30_000


def test_widget_and_iframe_answers_stream_over_the_websocket(handbook_bot, customer_site, chromium, tmp_path):
    handbook_bot.theme = {"title": "Acme assistant"}
    handbook_bot.save()
    widget = make_integration(handbook_bot, origins=[customer_site.origin])
    iframe = make_integration(handbook_bot, origins=[customer_site.origin], type=Integration.Type.IFRAME)
    with WorkerProcesses(tmp_path) as processes:
        server = SimpleNamespace(url=processes.serve(EMBEDDING_BACKEND="local", VECTOR_BACKEND="local",
                                                     ANSWER_BACKEND="extractive"))
        widget_page = customer_site.page("index.html", script_tag(server, widget))
        iframe_page = customer_site.page("iframe.html", iframe_tag(server, iframe))
        with chromium() as browser:
            page = browser.new_page()
            sockets = []
            page.on("websocket", lambda socket: sockets.append(socket.url))
            page.goto(widget_page)
            page.get_by_role("button", name="Chat with Acme assistant").click()
            dialog = page.get_by_role("dialog", name="Acme assistant")
            dialog.get_by_role("textbox", name="Your message").fill(QUESTION)
            page.keyboard.press("Enter")
            expect(dialog.get_by_text("handbook.pdf page 2", exact=True)).to_be_visible(timeout=ANSWER_TIMEOUT_MS)
            expect(dialog.locator(".msg.bot").last).to_contain_text("current licence")
            assert sockets and sockets[0].startswith(server.url.replace("http", "ws") + "/ws/chat/")
            # The visitor rates the answer, and says what was missing.
            dialog.get_by_role("button", name="Not helpful").click()
            expect(dialog.get_by_role("status").filter(has_text="Thanks for your feedback.")).to_be_visible()
            dialog.get_by_role("textbox", name="What was missing?").fill("The licence class")
            dialog.get_by_role("button", name="Send comment").click()
            expect(dialog.get_by_role("textbox", name="What was missing?")).to_have_count(0)
            expect(dialog.get_by_role("button", name="Not helpful")).to_have_attribute("aria-pressed", "true")

            page.goto(iframe_page)
            frame = page.frame_locator("iframe")
            frame.get_by_role("textbox", name="Your message").fill(QUESTION)
            frame.get_by_role("textbox", name="Your message").press("Enter")
            expect(frame.get_by_text("handbook.pdf page 2", exact=True)).to_be_visible(timeout=ANSWER_TIMEOUT_MS)
            assert len(sockets) == 2
    rated = Message.objects.get(conversation__channel="widget", role="assistant")
    assert (rated.feedback, rated.feedback_comment) == ("down", "The licence class")
    channels = sorted(Conversation.objects.values_list("channel", flat=True))
    assert channels == ["iframe", "widget"]
    for conversation in Conversation.objects.all():
        assert [m.role for m in conversation.messages.all()] == ["user", "assistant"]
        assert conversation.messages.get(role="assistant").sources == ["handbook.pdf page 2"]
