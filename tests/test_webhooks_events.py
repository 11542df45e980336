"""Each event where it happens: a file ends ready or failed, a question goes unanswered, a visitor rates an
answer. The request or the file worker only records it; the webhooks worker delivers it, signed."""

import json

import pytest

from tests.chatting import LICENCE_QUESTION, ask, widget_key
from tests.ingestion import CORPUS, processed, upload, upload_bytes
from tests.webhooks import run_webhooks_worker
from webhooks.models import Event

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("local_models")]


def delivered(receiver) -> list[dict]:
    """The events the receiver got, each verified with its signature."""
    run_webhooks_worker()
    assert all(receiver.verified(request) for request in receiver.requests)
    return [json.loads(request.body) for request in receiver.requests]


def test_a_processed_file_sends_data_source_ready(api_client, owner_a, endpoint, receiver):
    (source,) = processed(api_client(owner_a), upload_bytes(api_client(owner_a), "notes.txt", b"Pallets arrive at 9."))
    assert receiver.requests == []  # the file worker only recorded it
    (event,) = delivered(receiver)
    assert event["type"] == "data_source.ready"
    assert event["data"]["id"] == str(source.id) and event["data"]["name"] == "notes.txt"
    assert event["data"]["status"] == "ready" and event["data"]["chunk_count"] == 1


def test_a_file_that_cannot_be_read_sends_data_source_failed_with_why(api_client, owner_a, endpoint, receiver):
    client = api_client(owner_a)
    (source,) = processed(client, upload(client, CORPUS / "pdf" / "password-example.pdf"))
    (event,) = delivered(receiver)
    assert event["type"] == "data_source.failed"
    assert event["data"]["status"] == "error" and "password" in event["data"]["error_message"]


def test_an_unanswered_question_sends_conversation_unanswered_without_what_opens_the_conversation(
        client, handbook_bot, endpoint, receiver):
    body = ask(client, handbook_bot, "What is the boiling point of tungsten?", key=widget_key(handbook_bot)).json()
    ask(client, handbook_bot, LICENCE_QUESTION, key=widget_key(handbook_bot))  # answered: no event
    (event,) = delivered(receiver)
    assert event["type"] == "conversation.unanswered"
    assert event["data"]["question"] == "What is the boiling point of tungsten?"
    assert event["data"]["answer"]["content"] == handbook_bot.fallback_message
    assert event["data"]["answer"]["answered"] is False
    assert event["data"]["conversation"]["chatbot_id"] == str(handbook_bot.id)
    raw = receiver.requests[0].body.decode()
    assert body["session_id"] not in raw and body["conversation_secret"] not in raw


def test_a_rating_sends_feedback_created(client, handbook_bot, endpoint, receiver):
    key = widget_key(handbook_bot)
    body = ask(client, handbook_bot, LICENCE_QUESTION, key=key).json()
    response = client.get(f"/api/conversations/{body['session_id']}", HTTP_AUTHORIZATION=f"Bearer {key}",
                          HTTP_ORIGIN="https://shop.example", HTTP_X_CONVERSATION_SECRET=body["conversation_secret"])
    message_id = response.json()["messages"][1]["id"]
    response = client.post(f"/api/conversations/{body['session_id']}/feedback",
                           {"message_id": message_id, "rating": "down", "comment": "Too short"},
                           content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {key}",
                           HTTP_ORIGIN="https://shop.example", HTTP_X_CONVERSATION_SECRET=body["conversation_secret"])
    assert response.status_code == 200, response.content
    (event,) = delivered(receiver)
    assert event["type"] == "feedback.created"
    assert event["data"]["feedback"]["rating"] == "down" and event["data"]["feedback"]["comment"] == "Too short"
    assert event["data"]["question"] == LICENCE_QUESTION and event["data"]["answer"]["id"] == message_id
    raw = receiver.requests[0].body.decode()
    assert body["session_id"] not in raw and body["conversation_secret"] not in raw


def test_a_company_without_endpoints_records_nothing(api_client, owner_a):
    processed(api_client(owner_a), upload_bytes(api_client(owner_a), "notes.txt", b"Pallets arrive at 9."))
    assert not Event.objects.exists()


def test_another_companys_endpoint_gets_nothing(api_client, owner_b, endpoint, receiver):
    processed(api_client(owner_b), upload_bytes(api_client(owner_b), "notes.txt", b"Pallets arrive at 9."))
    assert delivered(receiver) == []
