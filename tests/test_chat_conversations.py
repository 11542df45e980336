"""GET /api/conversations/<session_id> and its feedback: for the visitor holding the conversation's secret, and staff.

What a publishable key cannot reach without the secret is in test_chat_conversation_secrets.py."""

import pytest

from chat.models import Message
from tests.chatting import LICENCE_QUESTION, SHOP, ask, bot, server_key, widget_key
from tests.isolation import assert_foreign_404

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("local_models")]


@pytest.fixture
def visit(client, handbook_bot):
    """A visitor's conversation through the widget: (the visitor's headers, session id, the answer's id)."""
    key = widget_key(handbook_bot)
    secret = ask(client, handbook_bot, LICENCE_QUESTION, key=key, visitor_id="v-1").json()["conversation_secret"]
    answer = Message.objects.get(role="assistant")
    return as_visitor(key, secret), answer.conversation.session_id, answer.id


def as_visitor(key: str, secret: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {key}", "HTTP_ORIGIN": SHOP, "HTTP_X_CONVERSATION_SECRET": secret}


def test_the_visitor_reads_the_history_without_the_staff_details(client, visit):
    visitor, session_id, _ = visit
    body = client.get(f"/api/conversations/{session_id}", **visitor).json()
    assert [m["role"] for m in body["messages"]] == ["user", "assistant"]
    assert body["messages"][1]["sources"] == ["handbook.pdf page 2"]
    assert "citations" not in body["messages"][1] and "latency_ms" not in body["messages"][1]


def test_the_embed_page_reads_the_history_same_origin_without_an_origin_header(client, visit):
    visitor, session_id, _ = visit
    del visitor["HTTP_ORIGIN"]
    response = client.get(f"/api/conversations/{session_id}", HTTP_SEC_FETCH_SITE="same-origin", **visitor)
    assert response.status_code == 200


def test_staff_read_the_history_with_passages_scores_and_latency(api_client, owner_a, visit):
    _, session_id, _ = visit
    body = api_client(owner_a).get(f"/api/conversations/{session_id}").json()
    answer = body["messages"][1]
    assert answer["citations"][0]["file_name"] == "handbook.pdf" and answer["latency_ms"] >= 0
    assert body["channel"] == "widget"


def test_an_unknown_session_is_404_so_the_widget_starts_afresh(client, visit):
    visitor, _, _ = visit
    response = client.get("/api/conversations/no-such-session", **visitor)
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"


def test_another_chatbots_server_key_cannot_read_it(client, company_a, visit):
    _, session_id, _ = visit
    response = client.get(f"/api/conversations/{session_id}", HTTP_AUTHORIZATION=f"Bearer {server_key(bot(company_a))}")
    assert response.status_code == 404


def test_a_visitor_rates_an_answer_and_staff_see_it(client, api_client, owner_a, visit):
    visitor, session_id, answer_id = visit
    response = client.post(f"/api/conversations/{session_id}/feedback",
                           {"message_id": str(answer_id), "rating": "down", "comment": " Too short "},
                           content_type="application/json", **visitor)
    assert response.status_code == 200, response.content
    assert response["Access-Control-Allow-Origin"] == SHOP
    answer = Message.objects.get(pk=answer_id)
    assert (answer.feedback, answer.feedback_comment) == ("down", "Too short") and answer.feedback_at
    staff_view = api_client(owner_a).get(f"/api/conversations/{session_id}").json()
    assert staff_view["messages"][1]["feedback"] == "down"
    # Rating again replaces the rating.
    client.post(f"/api/conversations/{session_id}/feedback", {"message_id": str(answer_id), "rating": "up"},
                content_type="application/json", **visitor)
    assert Message.objects.get(pk=answer_id).feedback == "up"


@pytest.mark.parametrize(("message_id", "rating"), [(None, "up"), ("not-a-uuid", "up"), ("answer", "meh")])
def test_invalid_feedback_gets_a_400(client, visit, message_id, rating):
    visitor, session_id, answer_id = visit
    body = {"rating": rating, **({"message_id": str(answer_id) if message_id == "answer" else message_id}
                                 if message_id else {})}
    response = client.post(f"/api/conversations/{session_id}/feedback", body, content_type="application/json",
                           **visitor)
    assert response.status_code == 400 and response.json()["error"]["code"] == "invalid"
    assert Message.objects.get(pk=answer_id).feedback == ""


def test_a_question_cannot_be_rated_only_answers(client, visit):
    visitor, session_id, _ = visit
    question = Message.objects.get(role="user")
    response = client.post(f"/api/conversations/{session_id}/feedback", {"message_id": str(question.id),
                           "rating": "up"}, content_type="application/json", **visitor)
    assert response.status_code == 404


def test_another_company_cannot_rate_its_answers(outsider, visit):
    _, session_id, answer_id = visit
    assert_foreign_404(outsider, "post", f"/api/conversations/{session_id}/feedback",
                       data={"message_id": str(answer_id), "rating": "down"}, format="json")
    assert Message.objects.get(pk=answer_id).feedback == ""
