"""Conversations in the dashboard: the filtered list, a transcript with sources and feedback, the CSV export."""

import csv
import io
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from chat.models import Conversation, Message
from chat.views import safe_cell
from chatbots.models import Chatbot
from tests.isolation import assert_foreign_404, assert_foreign_hidden


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def conversation(chatbot, *turns, days_ago=0, channel="widget", visitor="v-1"):
    """A stored conversation: turns are (question, answer, answered, feedback)."""
    started = timezone.now() - timedelta(days=days_ago)
    item = Conversation.objects.create(company=chatbot.company, chatbot=chatbot, chatbot_name=chatbot.name,
                                       channel=channel, visitor_id=visitor, created_at=started, updated_at=started)
    citation = {"location": "handbook.pdf page 2", "score": 0.81, "cited": True,
                "text": "Forklift drivers must hold a current licence."}
    for question, answer, answered, feedback in turns:
        Message.objects.create(conversation=item, company=chatbot.company, chatbot=chatbot, role="user",
                               content=question, created_at=started)
        Message.objects.create(conversation=item, company=chatbot.company, chatbot=chatbot, role="assistant",
                               content=answer, answered=answered, feedback=feedback, mode="extractive",
                               sources=["handbook.pdf page 2"] if answered else [], latency_ms=120,
                               citations=[citation] if answered else [],
                               created_at=started)
    return item


@pytest.fixture
def support(company_a):
    return Chatbot.objects.create(company=company_a, name="Support")


@pytest.fixture
def sales(company_a):
    return Chatbot.objects.create(company=company_a, name="Sales")


@pytest.fixture
def history(support, sales):
    return {
        "answered": conversation(support, ("What must forklift drivers hold?", "A current licence [1]", True, "up")),
        "unanswered": conversation(support, ("Where is the canteen?", "Sorry, I could not find it.", False, "down"),
                                   days_ago=10),
        "sales": conversation(sales, ("Do you ship abroad?", "Yes [1]", True, "")),
    }


def listed(response) -> str:
    assert response.status_code == 200
    return response.content.decode()


def test_the_list_shows_each_conversations_first_question_and_status(member_a, history):
    body = listed(logged_in(member_a).get("/conversations/"))
    for question in ("What must forklift drivers hold?", "Where is the canteen?", "Do you ship abroad?"):
        assert question in body
    assert "1 unanswered" in body


@pytest.mark.parametrize(("query", "shown", "hidden"), [
    ({"answered": "unanswered"}, ["Where is the canteen?"], ["forklift", "ship abroad"]),
    ({"feedback": "up"}, ["forklift"], ["canteen", "ship abroad"]),
    ({"feedback": "down"}, ["canteen"], ["forklift", "ship abroad"]),
    ({"feedback": "any"}, ["forklift", "canteen"], ["ship abroad"]),
])
def test_filters_narrow_the_list(member_a, history, query, shown, hidden):
    body = listed(logged_in(member_a).get("/conversations/", query))
    assert all(text in body for text in shown) and not any(text in body for text in hidden)


def test_filter_by_chatbot_and_dates(member_a, history, sales):
    client = logged_in(member_a)
    body = listed(client.get("/conversations/", {"chatbot": str(sales.id)}))
    assert "ship abroad" in body and "forklift" not in body
    since = (timezone.now() - timedelta(days=3)).date().isoformat()
    body = listed(client.get("/conversations/", {"since": since}))
    assert "forklift" in body and "canteen" not in body
    until = (timezone.now() - timedelta(days=5)).date().isoformat()
    body = listed(client.get("/conversations/", {"until": until}))
    assert "canteen" in body and "forklift" not in body


def test_an_invalid_filter_is_explained_not_a_500(member_a, history):
    body = listed(logged_in(member_a).get("/conversations/", {"since": "yesterday-ish", "chatbot": "nope"}))
    assert "Enter a valid date" in body


def test_the_empty_state_says_what_to_do_next(member_a):
    assert "test console" in listed(logged_in(member_a).get("/conversations/"))


def test_the_transcript_shows_answers_with_sources_scores_and_feedback(member_a, history):
    body = listed(logged_in(member_a).get(f"/conversations/{history['answered'].pk}/"))
    assert "What must forklift drivers hold?" in body and "A current licence [1]" in body
    assert "handbook.pdf page 2" in body and "score 0.81" in body and "helpful" in body


def test_the_transcript_is_not_repeated_as_notifications(member_a, history):
    """The base template's notification area shows Django's messages framework, nothing else."""
    body = logged_in(member_a).get(f"/conversations/{history['answered'].pk}/").content.decode()
    assert 'class="messages"' not in body
    assert body.count("What must forklift drivers hold?") == 1


def test_a_cited_table_passage_is_shown_as_stored_with_its_headings_and_unit_escaped(member_a, support):
    """The answer stored its passages as staff read them (tests/test_chat_citations.py); the page
    shows them as they are, escaped like any text."""
    item = conversation(support, ("What was Data Center revenue?", "$14,514 million [1]", True, ""))
    message = item.messages.get(role="assistant")
    message.citations = [{"location": "report.pdf page 24", "score": 0.7, "cited": True,
                          "text": "Report › Segments\nUnit: In millions\n"
                                  "|  | Three Months Ended July 1, 2023 | Q2 <b>x</b> |\n"
                                  "| --- | --- | --- |\n| Data Center | $ 14,514 | 3,833 |"}]
    message.save()
    body = listed(logged_in(member_a).get(f"/conversations/{item.pk}/"))
    assert ("Unit: In millions\n|  | Three Months Ended July 1, 2023 | Q2 &lt;b&gt;x&lt;/b&gt; |\n| --- | --- | --- |\n"
            "| Data Center | $ 14,514 | 3,833 |") in body


def test_the_csv_export_has_every_message_of_the_filtered_conversations(member_a, history):
    response = logged_in(member_a).get("/conversations/export.csv", {"chatbot": str(history["answered"].chatbot_id)})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert len(rows) == 4
    assert {row["message"] for row in rows} >= {"What must forklift drivers hold?", "Sorry, I could not find it."}
    assert {row["feedback"] for row in rows if row["role"] == "assistant"} == {"up", "down"}


@pytest.mark.parametrize("text", ["=HYPERLINK(\"http://evil\")", "+1+1", "-2", "@SUM(A1)", "\tcmd"])
def test_cells_a_spreadsheet_would_run_as_formulas_are_escaped(member_a, support, text):
    conversation(support, (text, "Sorry.", False, ""))
    body = b"".join(logged_in(member_a).get("/conversations/export.csv").streaming_content).decode()
    row = next(row for row in csv.DictReader(io.StringIO(body)) if row["role"] == "user")
    assert row["message"].startswith("'") and "\0" not in row["message"]


def test_nul_characters_are_spelt_out_in_cells():
    # PostgreSQL stores no NUL, but a SQLite database can hold one; the export never writes it raw.
    assert safe_cell("\0x") == "'\\0x" and safe_cell("a\0b") == "a\\0b"


def test_long_names_and_questions_do_not_break_the_pages(member_a, company_a):
    chatbot = Chatbot.objects.create(company=company_a, name="N" * 200)
    item = conversation(chatbot, ("Q" * 2000, "A" * 4000, True, ""))
    assert listed(logged_in(member_a).get("/conversations/"))
    assert listed(logged_in(member_a).get(f"/conversations/{item.pk}/"))


def test_another_company_sees_none_of_it(owner_b, history):
    client = logged_in(owner_b)
    assert_foreign_hidden(client, "/conversations/", "forklift", "canteen")
    assert_foreign_404(client, "get", f"/conversations/{history['answered'].pk}/")
    assert_foreign_hidden(client, "/conversations/export.csv", "forklift", "canteen")
