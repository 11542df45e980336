"""The widget and the iframe page in a real Chromium, on a customer's site served from another origin."""

import json
import re
from pathlib import Path

import pytest
from django.conf import settings
from playwright.sync_api import expect

from chat.models import Conversation, Message
from chatbots.models import DEFAULT_FALLBACK_MESSAGE
from integrations.models import Integration
from tests.browser.sessions import watch_errors
from tests.embedding import QUESTIONS, make_chatbot, make_integration

pytestmark = pytest.mark.browser

SCREENSHOTS = Path(settings.BASE_DIR) / "test-output"
BRAND_RED = "rgb(217, 45, 32)"
LIME = "rgb(0, 255, 0)"
FALLBACK = DEFAULT_FALLBACK_MESSAGE.split(".")[0]
ANSWER_TIMEOUT_MS = 15_000

COMPUTED_STYLE = """([selector, properties]) => {
  const node = document.querySelector("docent-chat").shadowRoot.querySelector(selector);
  const style = getComputedStyle(node);
  return Object.fromEntries(properties.map((property) => [property, style.getPropertyValue(property)]));
}"""


def style(page, selector: str, *properties: str) -> dict:
    """Computed style of an element inside the widget's shadow root."""
    return page.evaluate(COMPUTED_STYLE, [selector, list(properties)])


def script_tag(live_server, integration) -> str:
    return (f'<script src="{live_server.url}/api/widget/{integration.chatbot_id}" '
            f'data-key="{integration.api_key}" async></script>')


def iframe_tag(live_server, integration) -> str:
    return (f'<iframe src="{live_server.url}/api/embed/{integration.chatbot_id}?key={integration.api_key}" '
            f'title="Chat" width="400" height="600"></iframe>')


def screenshot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(exist_ok=True)
    path = SCREENSHOTS / name
    page.screenshot(path=str(path))
    print(f"\nscreenshot: {path}")
    return path


def ask_the_first_suggestion(page, url: str, chat_server):
    """The widget on the page at `url`, its chat socket answered by `chat_server` (Playwright's routed
    socket) instead of Docent, opened and asked its first suggested question: its dialog."""
    page.route_web_socket(re.compile(r".*/ws/chat/.*"), chat_server)
    page.goto(url)
    page.get_by_role("button", name="Chat with Acme assistant").click()
    dialog = page.get_by_role("dialog", name="Acme assistant")
    dialog.get_by_role("button", name=QUESTIONS[0]).click()
    return dialog


def test_the_widget_on_a_customers_site(live_server, company_a, customer_site, chromium, capsys):
    integration = make_integration(make_chatbot(company_a), origins=[customer_site.origin])
    url = customer_site.page("index.html", script_tag(live_server, integration))

    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1100, "height": 800})
        errors = watch_errors(page)
        page.goto(url)
        launcher = page.get_by_role("button", name="Chat with Acme assistant")
        expect(launcher).to_be_visible()
        assert style(page, ".launcher", "background-color")["background-color"] == BRAND_RED

        # The shop's CSS is in force on the shop's own elements…
        assert page.eval_on_selector("h1", "node => getComputedStyle(node).color") == LIME
        expect(page.locator("#own-button")).to_be_hidden()

        launcher.click()
        dialog = page.get_by_role("dialog", name="Acme assistant")
        expect(dialog).to_be_visible()
        expect(dialog.get_by_text("Hello! Ask me about")).to_be_visible()
        expect(dialog.locator("strong", has_text="Acme")).to_be_visible()  # the welcome's Markdown, as nodes
        for question in QUESTIONS:
            expect(dialog.get_by_role("button", name=question)).to_be_visible()
        textbox = dialog.get_by_role("textbox", name="Your message")
        expect(textbox).to_be_focused()
        assert style(page, "header", "background-color")["background-color"] == BRAND_RED

        # …and none of it inside the widget.
        for selector in (".msg.bot", ".suggestion", "textarea", "h2", ".send"):
            computed = style(page, selector, "color", "font-size", "font-family", "display", "border-top-style")
            assert computed["color"] != LIME, (selector, computed)
            assert computed["font-size"] != "40px", (selector, computed)
            assert "Comic" not in computed["font-family"], (selector, computed)
            assert computed["display"] != "none", (selector, computed)
            assert computed["border-top-style"] != "dashed", (selector, computed)

        page.keyboard.press("Escape")
        expect(dialog).to_be_hidden()
        expect(launcher).to_be_focused()
        assert style(page, ".launcher", "outline-style")["outline-style"] == "solid"  # focus is visible

        page.keyboard.press("Enter")
        expect(textbox).to_be_focused()
        textbox.fill("Do you ship abroad?")
        page.keyboard.press("Enter")
        # The live server speaks no WebSocket, so the answer comes over the event stream: with no
        # documents yet, the chatbot's fallback message.
        expect(dialog.get_by_text(FALLBACK)).to_be_visible(timeout=ANSWER_TIMEOUT_MS)
        expect(dialog.get_by_text("Do you ship abroad?", exact=True)).to_be_visible()
        expect(dialog.get_by_role("button", name=QUESTIONS[0])).to_be_hidden()
        with capsys.disabled():
            screenshot(page, "widget-on-customer-site.png")

        visitor_id = page.evaluate("localStorage.getItem('docent:visitor')")
        assert len(visitor_id) == 32 and int(visitor_id, 16) >= 0
        session_id = page.evaluate(f"localStorage.getItem('docent:session:{integration.chatbot_id}')")
        assert len(session_id) >= 32  # issued by the server: checked against the database below

        dialog.get_by_role("button", name="New conversation").click()
        expect(dialog.get_by_text(FALLBACK)).to_be_hidden()
        assert page.evaluate(f"localStorage.getItem('docent:session:{integration.chatbot_id}')") is None
        expect(dialog.get_by_role("button", name=QUESTIONS[0])).to_be_visible()
        page.reload()
        assert page.evaluate("localStorage.getItem('docent:visitor')") == visitor_id

        new_globals = page.evaluate("Object.keys(window).filter((key) => "
                                    "!window.globalsBeforeDocent.includes(key) && key !== 'globalsBeforeDocent')")
        assert new_globals == ["DocentWidget"]
        assert page.evaluate("document.querySelectorAll('style, link[rel=stylesheet]').length") == 1
        expect(page.get_by_role("heading", name="Acme shop")).to_be_visible()
        assert errors == []
    conversation = Conversation.objects.get()
    assert conversation.session_id == session_id and conversation.visitor_id == visitor_id
    assert [m.role for m in conversation.messages.all()] == ["user", "assistant"]


def test_an_inactive_chatbot_shows_unavailable(live_server, company_a, customer_site, chromium):
    integration = make_integration(make_chatbot(company_a, is_active=False), origins=[customer_site.origin])
    url = customer_site.page("index.html", script_tag(live_server, integration))

    with chromium() as browser:
        page = browser.new_page()
        errors = watch_errors(page)
        page.goto(url)
        launcher = page.get_by_role("button", name="Chat with Acme assistant (unavailable)")
        expect(launcher).to_be_visible()
        expect(page.get_by_text("Unavailable", exact=True)).to_be_visible()
        launcher.click()
        dialog = page.get_by_role("dialog", name="Acme assistant")
        expect(dialog.get_by_text("This chat is unavailable right now.")).to_be_visible()
        expect(dialog.get_by_role("textbox")).to_be_hidden()
        expect(dialog.get_by_role("button", name=QUESTIONS[0])).to_be_hidden()
        assert errors == []


def test_the_iframe_page_shows_on_allowed_sites_only(live_server, company_a, customer_site, stranger_site, chromium,
                                                    capsys):
    integration = make_integration(make_chatbot(company_a), origins=[customer_site.origin],
                                   type=Integration.Type.IFRAME)
    allowed = customer_site.page("iframe.html", iframe_tag(live_server, integration))
    refused = stranger_site.page("iframe.html", iframe_tag(live_server, integration))

    with chromium() as browser:
        page = browser.new_page(viewport={"width": 900, "height": 800})
        errors = watch_errors(page)
        page.goto(allowed)
        frame = page.frame_locator("iframe")
        expect(frame.get_by_text("Hello! Ask me about")).to_be_visible()
        expect(frame.get_by_role("button", name=QUESTIONS[1])).to_be_visible()
        expect(frame.get_by_role("button", name="Chat with Acme assistant")).to_have_count(0)  # full page: no launcher
        frame.get_by_role("button", name=QUESTIONS[1]).click()
        expect(frame.get_by_text(FALLBACK)).to_be_visible(timeout=ANSWER_TIMEOUT_MS)
        with capsys.disabled():
            screenshot(page, "iframe-on-customer-site.png")
        assert errors == []

        # The browser refuses to frame it, by the page's own frame-ancestors policy.
        with page.expect_console_message(lambda message: "frame-ancestors" in message.text
                                         and "blocked" in message.text) as refusal:
            page.goto(refused)
        assert f"frame-ancestors 'self' {customer_site.origin}" in refusal.value.text
        expect(page.frame_locator("iframe").get_by_text("Hello! Ask me about")).to_have_count(0)


# The browser plays the server here, to pin the widget's side of the contract (Markdown, sources,
# sessions, errors) independently of what the documents say.
STREAMED_ANSWER = ["Shipping is **free", " above 50 EUR**.\n\n- Europe: 3 days\n", "- World: 7 days\n\n",
                   "Use `SHIP50`, see [our terms](https://shop.example/terms), ",
                   "not [this](javascript:alert(1)) <img src=x onerror=alert(1)>"]
SOURCES = ["shipping.pdf page 2", "prices.xlsx sheet Q3 row 15"]
WIDGET_QUERY = """([selector]) => {
  const nodes = document.querySelector("docent-chat").shadowRoot.querySelectorAll(selector);
  return Array.from(nodes, (node) => ({text: node.textContent, href: node.getAttribute("href"),
                                       rel: node.getAttribute("rel"), target: node.getAttribute("target")}));
}"""


def widget_nodes(page, selector: str) -> list[dict]:
    return page.evaluate(WIDGET_QUERY, [selector])


def test_an_answer_streams_in_over_the_websocket_as_safe_markdown(live_server, company_a, customer_site, chromium):
    integration = make_integration(make_chatbot(company_a), origins=[customer_site.origin])
    url = customer_site.page("index.html", script_tag(live_server, integration))
    received = []

    def chat_server(socket):
        def answer(message):
            received.append(json.loads(message))
            for token in STREAMED_ANSWER:
                socket.send(json.dumps({"type": "token", "token": token}))
            socket.send(json.dumps({"type": "sources", "sources": SOURCES}))
            first = len(received) == 1  # the server gives the secret with a conversation's first answer only
            socket.send(json.dumps({"type": "done", "session_id": "session-1",
                                    **({"conversation_secret": "secret-1"} if first else {})}))
        socket.on_message(answer)

    with chromium() as browser:
        page = browser.new_page()
        errors = watch_errors(page)
        dialog = ask_the_first_suggestion(page, url, chat_server)
        expect(dialog.get_by_text("shipping.pdf page 2")).to_be_visible(timeout=ANSWER_TIMEOUT_MS)

        visitor_id = page.evaluate("localStorage.getItem('docent:visitor')")
        assert received == [{"type": "message", "message": QUESTIONS[0], "session_id": None,
                             "conversation_secret": None, "visitor_id": visitor_id}]
        assert [node["text"] for node in widget_nodes(page, ".msg.bot strong")] == ["Acme", "free above 50 EUR",
                                                                                     "Sources"]
        assert [node["text"] for node in widget_nodes(page, ".msg.bot .text li")] == ["Europe: 3 days", "World: 7 days"]
        assert [node["text"] for node in widget_nodes(page, ".msg.bot code")] == ["SHIP50"]
        assert widget_nodes(page, ".msg.bot a") == [{"text": "our terms", "href": "https://shop.example/terms",
                                                     "rel": "noopener noreferrer nofollow", "target": "_blank"}]
        expect(dialog.get_by_text("not this <img src=x onerror=alert(1)>")).to_be_visible()  # text, not HTML
        assert widget_nodes(page, "img") == []
        assert [node["text"] for node in widget_nodes(page, ".sources li")] == SOURCES
        assert page.evaluate(f"localStorage.getItem('docent:session:{integration.chatbot_id}')") == "session-1"
        assert page.evaluate(f"localStorage.getItem('docent:secret:{integration.chatbot_id}')") == "secret-1"

        dialog.get_by_role("textbox", name="Your message").fill("And to Norway?")
        page.keyboard.press("Enter")
        expect(dialog.locator(".sources")).to_have_count(2, timeout=ANSWER_TIMEOUT_MS)
        # The conversation goes on, opened by its secret, which the second answer did not repeat.
        assert (received[1]["session_id"], received[1]["conversation_secret"]) == ("session-1", "secret-1")
        assert page.evaluate(f"localStorage.getItem('docent:secret:{integration.chatbot_id}')") == "secret-1"

        dialog.get_by_role("button", name="New conversation").click()
        assert page.evaluate(f"localStorage.getItem('docent:session:{integration.chatbot_id}')") is None
        assert page.evaluate(f"localStorage.getItem('docent:secret:{integration.chatbot_id}')") is None
        expect(dialog.locator(".sources")).to_have_count(0)
        assert errors == []


def test_without_a_websocket_the_answer_comes_over_server_sent_events(live_server, company_a, customer_site,
                                                                       chromium):
    integration = make_integration(make_chatbot(company_a), origins=[customer_site.origin])
    url = customer_site.page("index.html", script_tag(live_server, integration))
    requests = []
    cross_origin = {"Access-Control-Allow-Origin": customer_site.origin}
    events = "".join(f"event: token\ndata: {json.dumps({'token': token})}\n\n" for token in ["Returns are ", "free."])
    events += f"event: sources\ndata: {json.dumps({'sources': SOURCES[:1]})}\n\n"
    events += f"event: done\ndata: {json.dumps({'session_id': 'session-2', 'conversation_secret': 'secret-2'})}\n\n"
    rate_limited = {"error": {"code": "rate_limited", "message": "Too many messages; try again in 30 seconds.",
                              "details": {}}}

    def chat_stream(route):
        requests.append(route.request)
        if len(requests) == 1:
            route.fulfill(status=200, content_type="text/event-stream", headers=cross_origin, body=events)
        else:
            route.fulfill(status=429, json=rate_limited, headers={**cross_origin, "Retry-After": "30"})

    with chromium() as browser:
        page = browser.new_page()
        errors = watch_errors(page)
        page.route(f"{live_server.url}/api/chat/stream", chat_stream)  # the live server speaks no WebSocket
        page.goto(url)
        page.get_by_role("button", name="Chat with Acme assistant").click()
        dialog = page.get_by_role("dialog", name="Acme assistant")
        dialog.get_by_role("button", name=QUESTIONS[1]).click()
        expect(dialog.get_by_text("Returns are free.")).to_be_visible(timeout=ANSWER_TIMEOUT_MS)
        expect(dialog.get_by_text(SOURCES[0])).to_be_visible()

        request = requests[0]
        assert request.method == "POST"
        assert request.headers["authorization"] == f"Bearer {integration.api_key}"
        assert request.post_data_json == {"chatbot_id": str(integration.chatbot_id), "message": QUESTIONS[1],
                                          "session_id": None, "conversation_secret": None,
                                          "visitor_id": page.evaluate("localStorage.getItem('docent:visitor')")}
        assert page.evaluate(f"localStorage.getItem('docent:session:{integration.chatbot_id}')") == "session-2"

        dialog.get_by_role("textbox", name="Your message").fill("And exchanges?")
        page.keyboard.press("Enter")
        expect(dialog.get_by_text("Too many messages; try again in 30 seconds.")).to_be_visible()
        assert requests[1].post_data_json["session_id"] == "session-2"
        assert requests[1].post_data_json["conversation_secret"] == "secret-2"
        assert errors == []


def test_a_returning_visitor_sees_the_conversation_so_far(live_server, company_a, customer_site, chromium):
    integration = make_integration(make_chatbot(company_a), origins=[customer_site.origin])
    url = customer_site.page("index.html", script_tag(live_server, integration))
    history = {"session_id": "session-3", "messages": [
        {"role": "user", "content": "Where is my parcel?"},
        {"role": "assistant", "content": "It left **yesterday**.", "sources": ["tracking.xlsx sheet A row 4"]}]}
    asked = []

    def conversation(route):
        asked.append(route.request)
        route.fulfill(json=history, headers={"Access-Control-Allow-Origin": customer_site.origin})

    with chromium() as browser:
        page = browser.new_page()
        page.route(f"{live_server.url}/api/conversations/**", conversation)
        page.goto(url)
        page.evaluate(f"localStorage.setItem('docent:session:{integration.chatbot_id}', 'session-3')")
        page.evaluate(f"localStorage.setItem('docent:secret:{integration.chatbot_id}', 'secret-3')")
        page.reload()
        page.get_by_role("button", name="Chat with Acme assistant").click()
        dialog = page.get_by_role("dialog", name="Acme assistant")
        expect(dialog.get_by_text("Where is my parcel?")).to_be_visible()
        expect(dialog.locator("strong", has_text="yesterday")).to_be_visible()
        expect(dialog.get_by_text("tracking.xlsx sheet A row 4")).to_be_visible()
        assert asked[0].url == f"{live_server.url}/api/conversations/session-3"
        assert asked[0].headers["authorization"] == f"Bearer {integration.api_key}"
        assert asked[0].headers["x-conversation-secret"] == "secret-3"


# Against Docent itself again: the conversation a visitor started stays theirs across page loads.

def stored(page, name: str, integration) -> str | None:
    """What the widget keeps in the page's localStorage for this chatbot ("session" or "secret")."""
    return page.evaluate(f"localStorage.getItem('docent:{name}:{integration.chatbot_id}')")


def test_the_widget_keeps_its_conversation_across_a_page_reload(live_server, company_a, customer_site, chromium):
    integration = make_integration(make_chatbot(company_a), origins=[customer_site.origin])
    url = customer_site.page("index.html", script_tag(live_server, integration))

    with chromium() as browser:
        page = browser.new_page()
        errors = watch_errors(page)
        page.goto(url)
        page.get_by_role("button", name="Chat with Acme assistant").click()
        dialog = page.get_by_role("dialog", name="Acme assistant")
        dialog.get_by_role("button", name=QUESTIONS[0]).click()
        expect(dialog.get_by_text(FALLBACK)).to_be_visible(timeout=ANSWER_TIMEOUT_MS)
        session_id, secret = stored(page, "session", integration), stored(page, "secret", integration)
        assert session_id and secret

        page.reload()
        page.get_by_role("button", name="Chat with Acme assistant").click()
        expect(dialog.locator(".msg.user")).to_have_text([QUESTIONS[0]])
        expect(dialog.locator(".msg.bot", has_text=FALLBACK)).to_have_count(1)
        dialog.get_by_role("textbox", name="Your message").fill("And returns?")
        page.keyboard.press("Enter")
        expect(dialog.locator(".msg.bot", has_text=FALLBACK)).to_have_count(2, timeout=ANSWER_TIMEOUT_MS)
        dialog.get_by_role("button", name="Not helpful").click()
        expect(dialog.get_by_role("status").filter(has_text="Thanks for your feedback.")).to_be_visible()
        assert (stored(page, "session", integration), stored(page, "secret", integration)) == (session_id, secret)
        expect(dialog.locator(".notice")).to_have_count(0)
        assert errors == []
    conversation = Conversation.objects.get()
    assert conversation.session_id == session_id and conversation.opens_with(secret)
    assert list(conversation.messages.filter(role="user").values_list("content", flat=True)) == [QUESTIONS[0],
                                                                                                  "And returns?"]
    assert conversation.messages.filter(role="assistant").last().feedback == "down"


def test_the_iframe_page_continues_its_conversation(live_server, company_a, customer_site, chromium):
    integration = make_integration(make_chatbot(company_a), origins=[customer_site.origin],
                                   type=Integration.Type.IFRAME)
    url = customer_site.page("iframe.html", iframe_tag(live_server, integration))

    with chromium() as browser:
        page = browser.new_page(viewport={"width": 900, "height": 800})
        errors = watch_errors(page)
        page.goto(url)
        frame = page.frame_locator("iframe")
        frame.get_by_role("button", name=QUESTIONS[1]).click()
        expect(frame.get_by_text(FALLBACK)).to_be_visible(timeout=ANSWER_TIMEOUT_MS)
        # This Chromium refuses a framed page from another site its storage, as privacy modes do: the
        # session and its secret then live as long as the page, and still continue the conversation.
        frame.get_by_role("textbox", name="Your message").fill("And exchanges?")
        frame.get_by_role("textbox", name="Your message").press("Enter")
        expect(frame.locator(".msg.bot", has_text=FALLBACK)).to_have_count(2, timeout=ANSWER_TIMEOUT_MS)
        expect(frame.locator(".notice")).to_have_count(0)
        assert errors == []
    conversation = Conversation.objects.get()
    assert (conversation.channel, conversation.messages.count()) == ("iframe", 4)


def test_a_conversation_the_server_does_not_reopen_gives_way_to_a_new_one_quietly(live_server, company_a,
                                                                                  customer_site, chromium):
    chatbot = make_chatbot(company_a)
    integration = make_integration(chatbot, origins=[customer_site.origin])
    # Kept by the widget before conversations had secrets: a publishable key cannot reopen it any more.
    earlier = Conversation.objects.create(company=company_a, chatbot=chatbot, chatbot_name=chatbot.name,
                                          channel="widget", integration=integration)
    Message.objects.create(conversation=earlier, company=company_a, chatbot=chatbot, role="user",
                           content="Where is my parcel?")
    url = customer_site.page("index.html", script_tag(live_server, integration))

    with chromium() as browser:
        page = browser.new_page()
        errors = watch_errors(page)
        page.goto(url)
        page.evaluate(f"localStorage.setItem('docent:session:{integration.chatbot_id}', '{earlier.session_id}')")
        page.reload()
        with page.expect_response(lambda response: "/api/conversations/" in response.url) as reading:
            page.get_by_role("button", name="Chat with Acme assistant").click()
        assert reading.value.status == 404
        dialog = page.get_by_role("dialog", name="Acme assistant")
        expect(dialog.get_by_text("Hello! Ask me about")).to_be_visible()
        expect(dialog.get_by_text("Where is my parcel?")).to_have_count(0)
        assert stored(page, "session", integration) is None

        dialog.get_by_role("button", name=QUESTIONS[1]).click()
        expect(dialog.get_by_text(FALLBACK)).to_be_visible(timeout=ANSWER_TIMEOUT_MS)
        expect(dialog.locator(".notice")).to_have_count(0)
        session_id, secret = stored(page, "session", integration), stored(page, "secret", integration)
        assert errors == []
    assert session_id != earlier.session_id and Conversation.objects.get(session_id=session_id).opens_with(secret)
    assert earlier.messages.count() == 1
