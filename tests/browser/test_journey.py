"""The whole staff and visitor journey in a real Chromium, against Docent as it runs in production:
Daphne serving HTTP and WebSocket, a db_worker processing uploads, the widget on another origin.

Sign up → upload a PDF → watch it reach "ready" without reloading → create a chatbot on it → allow
a second origin on its widget → open a page of that origin with the snippet → ask a question
whose answer is on a known page → read the streamed answer citing that file and page → rate it →
find the conversation, the rating and the counts in the dashboard → invite a colleague. A screenshot
of each step is saved under test-output/journey/, and of each page met on the way at 1366 and 390 px
under test-output/journey/1366/ and /390/.
"""

import re
from pathlib import Path

import pytest
from django.conf import settings
from playwright.sync_api import expect

from chat.models import Message
from tests.browser.sessions import watch_errors
from tests.ingestion import CORPUS
from tests.worker_processes import WorkerProcesses

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path(settings.BASE_DIR) / "test-output" / "journey"
PDF = CORPUS / "pdf" / "federal-register-2020-17221.pdf"
QUESTION = "Which flight control computers does the 737 MAX flight control system include?"
ANSWER_PAGE = "federal-register-2020-17221.pdf page 2"
SLOW_MS = 120_000  # processing 15 pages and loading the model in fresh processes
WIDTHS = [(1366, 768), (390, 844)]


class Shots:
    """Numbered screenshots of the staff page, or of another page when given."""

    def __init__(self, page):
        self.page, self.taken = page, 0
        SHOTS.mkdir(parents=True, exist_ok=True)

    def __call__(self, name: str, page=None) -> None:
        self.taken += 1
        (page or self.page).screenshot(path=str(SHOTS / f"{self.taken:02d}-{name}.png"), full_page=True)


def shoot_pages(page, site: str, paths: dict[str, str]) -> None:
    """Full-page screenshots of each page at a laptop's and a phone's width, in test-output/journey/<width>/."""
    for width, height in WIDTHS:
        folder = SHOTS / str(width)
        folder.mkdir(parents=True, exist_ok=True)
        page.set_viewport_size({"width": width, "height": height})
        for name, path in paths.items():
            page.goto(path if path.startswith("http") else site + path)
            page.wait_for_load_state("networkidle")
            page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


def test_sign_up_to_a_rated_answer_on_a_customers_site(customer_site, chromium, tmp_path):
    with WorkerProcesses(tmp_path) as processes:
        docent = processes.serve(EMBEDDING_BACKEND="local", VECTOR_BACKEND="local", ANSWER_BACKEND="extractive")
        processes.start()  # the db_worker
        with chromium() as browser:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            errors = watch_errors(page)
            shot = Shots(page)

            # Sign up: the new company lands in its own dashboard.
            page.goto(f"{docent}/signup/")
            page.get_by_label("Company name").fill("Skyward Airlines")
            page.get_by_label("Your name").fill("Ada Pilot")
            page.get_by_label("Email").fill("ada@skyward.test")
            page.get_by_label("Password").fill("a-long-and-unusual-passphrase-42")
            shot("signup")
            page.get_by_role("button", name="Create account").click()
            expect(page.get_by_role("link", name="Data sources")).to_be_visible()
            shot("dashboard")

            # Upload a PDF and watch it become ready, without reloading the page.
            page.get_by_role("link", name="Data sources").click()
            # A click waits for the next page to begin, not for its script: a file chosen before the script
            # listens would never be sent (seen on a loaded machine).
            expect(page).to_have_url(f"{docent}/files/")
            page.wait_for_load_state()
            page.locator("#file-input").set_input_files(str(PDF))
            row = page.locator("#files-body tr", has_text=PDF.name)
            expect(row.locator(".badge")).to_have_text("processing", timeout=SLOW_MS)
            shot("processing")
            expect(row.locator(".badge")).to_have_text("ready", timeout=SLOW_MS)
            shot("ready")

            # A chatbot on it, offered as soon as the file is ready.
            page.get_by_role("link", name="Create a chatbot").click()
            page.get_by_label("Name", exact=True).fill("Fleet assistant")
            page.get_by_role("checkbox", name=re.compile(PDF.name)).check()
            shot("new-chatbot")
            page.get_by_role("button", name="Create chatbot").click()
            expect(page.get_by_role("heading", name="Fleet assistant")).to_be_visible()
            chatbot_id = re.search(r"/chatbots/([0-9a-f-]{36})/", page.url).group(1)

            # Its widget, allowed on the customer's site; the snippet copied from the page.
            page.get_by_role("link", name="Embed on your site").click()
            widget_card = page.locator("section.integration", has_text="Website widget")
            widget_card.get_by_label(re.compile("Sites that may show this chatbot")).fill(customer_site.origin)
            widget_card.get_by_role("button", name="Save origins").click()
            expect(widget_card.locator(".origin-list, textarea")).to_contain_text(customer_site.origin)
            snippet = widget_card.locator("code[id$='-script']").inner_text()
            shot("integration")

            # A visitor on the customer's site asks; the answer streams in with its source.
            visitor = browser.new_page(viewport={"width": 1200, "height": 900})
            visitor.on("pageerror", lambda error: errors.append(str(error)))
            sockets = []
            visitor.on("websocket", lambda socket: sockets.append(socket.url))
            visitor.goto(customer_site.page("index.html", snippet))
            visitor.get_by_role("button", name=re.compile("Chat with Fleet assistant")).click()
            dialog = visitor.get_by_role("dialog", name="Fleet assistant")
            dialog.get_by_role("textbox", name="Your message").fill(QUESTION)
            visitor.keyboard.press("Enter")
            expect(dialog.get_by_text(ANSWER_PAGE, exact=True)).to_be_visible(timeout=SLOW_MS)
            expect(dialog.locator(".msg.bot").last).to_contain_text("FCC A and FCC B")
            assert any("/ws/chat/" in url for url in sockets), sockets
            shot("answer", visitor)

            # The visitor rates it.
            dialog.get_by_role("button", name="Helpful", exact=True).click()
            expect(dialog.get_by_role("status").filter(has_text="Thanks")).to_be_visible()
            shot("rated", visitor)

            # Staff find the conversation, its rating and the counts.
            page.get_by_role("link", name="Conversations").click()
            expect(page.get_by_text(QUESTION)).to_be_visible()
            expect(page.get_by_label("1 rated helpful")).to_be_visible()
            shot("conversations")
            page.get_by_role("link", name=re.compile(r"\d{4}, \d{2}:\d{2}")).first.click()
            expect(page.get_by_text("👍 helpful")).to_be_visible()
            expect(page.get_by_text(ANSWER_PAGE).first).to_be_visible()
            expect(page.locator(".messages")).to_have_count(0)  # the transcript is not repeated as banners
            shot("transcript")
            transcript = page.url
            page.get_by_role("link", name="Overview").click()
            stats = page.get_by_label("Key numbers, last 30 days")
            expect(stats.locator(".stat", has_text="conversations")).to_contain_text("1")
            expect(stats.locator(".stat", has_text="questions")).to_contain_text("1")
            expect(stats.locator(".stat", has_text="answered from the documents")).to_contain_text("100%")
            expect(stats.locator(".stat", has_text="rated helpful")).to_contain_text("1 / 0")
            expect(page.locator("canvas[data-chart='volume']")).to_be_visible()
            shot("overview")

            # A colleague invited: the link to pass on is on the page, whatever the email backend.
            page.get_by_role("navigation", name="Main").get_by_role("link", name="Team").click()
            page.get_by_label("Email").fill("bo@skyward.test")
            page.get_by_role("button", name="Send invitation").click()
            expect(page.locator("#invitation-link")).to_contain_text("/invitations/")
            shot("invitation-link")

            # The pages of this journey as a laptop and a phone show them, to check by eye.
            shoot_pages(page, docent, {
                "overview": "/", "data-sources": "/files/", "chatbots": "/chatbots/",
                "new-chatbot": "/chatbots/new/", "chatbot": f"/chatbots/{chatbot_id}/",
                "embed-and-keys": f"/chatbots/{chatbot_id}/integrations/",
                "test-console": f"/chatbots/{chatbot_id}/console/",
                "unanswered": f"/chatbots/{chatbot_id}/unanswered/",
                "chatbot-analytics": f"/chatbots/{chatbot_id}/analytics/",
                "conversations": "/conversations/", "transcript": transcript, "team": "/settings/team/",
                "api-docs": "/api/docs/",
            })
            shoot_pages(visitor, customer_site.origin, {"widget-on-customer-site": "/index.html"})
            assert errors == []
    answer = Message.objects.get(role="assistant")
    assert answer.feedback == "up" and answer.sources[0] == ANSWER_PAGE
