"""A visitor's conversation is theirs: with a publishable key, reading, continuing and rating it takes the
secret the server gave the visitor who started it. Staff and secret keys reach their conversations as before."""

import hashlib

import pytest
from asgiref.sync import sync_to_async
from django.test import Client

from chat.models import Conversation, Message
from integrations.services import integration_save
from tests.chatting import (
    LICENCE_QUESTION,
    SHOP,
    ask,
    chat_socket,
    server_key,
    server_sent_events,
    socket_answer,
    widget_key,
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("local_models")]

COURIER_QUESTION = "When does the courier collect parcels?"


@pytest.fixture
def key(handbook_bot):
    return widget_key(handbook_bot)


def as_visitor(key: str, secret: str | None = None) -> dict:
    headers = {"HTTP_AUTHORIZATION": f"Bearer {key}", "HTTP_ORIGIN": SHOP}
    if secret is not None:
        headers["HTTP_X_CONVERSATION_SECRET"] = secret
    return headers


def read(client, session_id: str, key: str, secret: str | None = None):
    return client.get(f"/api/conversations/{session_id}", **as_visitor(key, secret))


def rate(client, session_id: str, answer_id, key: str, secret: str | None = None):
    return client.post(f"/api/conversations/{session_id}/feedback", {"message_id": str(answer_id), "rating": "down"},
                       content_type="application/json", **as_visitor(key, secret))


def start(client, chatbot, key: str, **fields) -> dict:
    """A visitor's first question through the widget: the answer's body."""
    response = ask(client, chatbot, LICENCE_QUESTION, key=key, **fields)
    assert response.status_code == 200, response.content
    return response.json()


# --- the finding: the key and a session id are not enough ---------------------------------

def test_a_publishable_key_alone_cannot_read_a_visitors_transcript(client, handbook_bot, key):
    session_id = start(client, handbook_bot, key, visitor_id="v-1")["session_id"]
    response = read(client, session_id, key)
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"
    assert LICENCE_QUESTION not in response.content.decode()


def test_a_publishable_key_alone_cannot_rate_a_visitors_answer(client, handbook_bot, key):
    session_id = start(client, handbook_bot, key)["session_id"]
    answer = Message.objects.get(role="assistant")
    assert rate(client, session_id, answer.id, key).status_code == 404
    assert Message.objects.get(pk=answer.pk).feedback == ""


def test_a_conversation_started_without_a_visitor_id_is_not_continued_by_another_holder_of_its_session_id(
        client, handbook_bot, key):
    session_id = start(client, handbook_bot, key)["session_id"]
    other = ask(client, handbook_bot, COURIER_QUESTION, key=key, session_id=session_id).json()
    assert other["session_id"] != session_id
    assert Conversation.objects.get(session_id=session_id).messages.count() == 2
    assert read(client, session_id, key).status_code == 404


def test_a_forged_visitor_id_grants_nothing(client, handbook_bot, key):
    session_id = start(client, handbook_bot, key, visitor_id="v-1")["session_id"]
    forged = ask(client, handbook_bot, COURIER_QUESTION, key=key, visitor_id="v-1", session_id=session_id).json()
    assert forged["session_id"] != session_id
    assert Conversation.objects.get(session_id=session_id).messages.count() == 2


# --- the secret: given once, to the visitor who started the conversation ------------------

def test_the_visitor_who_started_it_reads_continues_and_rates_it_with_its_secret(client, handbook_bot, key):
    first = start(client, handbook_bot, key, visitor_id="v-1")
    session_id, secret = first["session_id"], first["conversation_secret"]
    assert len(secret) >= 43  # 256 random bits, URL-safe

    follow_up = ask(client, handbook_bot, COURIER_QUESTION, key=key, session_id=session_id,
                    conversation_secret=secret).json()
    assert follow_up["session_id"] == session_id and "5 pm" in follow_up["response"]
    assert "conversation_secret" not in follow_up  # given once, when the conversation started

    history = read(client, session_id, key, secret)
    assert history.status_code == 200
    assert [m["content"] for m in history.json()["messages"] if m["role"] == "user"] == [LICENCE_QUESTION,
                                                                                          COURIER_QUESTION]
    answer = Message.objects.filter(role="assistant").first()
    assert rate(client, session_id, answer.id, key, secret).status_code == 200
    assert Message.objects.get(pk=answer.pk).feedback == "down"


def test_a_wrong_secret_reads_like_an_unknown_session(client, handbook_bot, key):
    session_id = start(client, handbook_bot, key)["session_id"]
    wrong = read(client, session_id, key, "not-the-secret")
    unknown = read(client, "no-such-session", key, "not-the-secret")
    assert (wrong.status_code, wrong.json()) == (unknown.status_code, unknown.json()) == (404, unknown.json())
    answer = ask(client, handbook_bot, COURIER_QUESTION, key=key, session_id=session_id,
                 conversation_secret="not-the-secret").json()
    assert answer["session_id"] != session_id and answer["conversation_secret"]


def test_a_secret_opens_only_the_conversation_it_was_given_for(client, handbook_bot, key):
    mine = start(client, handbook_bot, key)
    theirs = start(client, handbook_bot, key)
    assert read(client, theirs["session_id"], key, mine["conversation_secret"]).status_code == 404
    answer = ask(client, handbook_bot, COURIER_QUESTION, key=key, session_id=theirs["session_id"],
                 conversation_secret=mine["conversation_secret"]).json()
    assert answer["session_id"] not in (mine["session_id"], theirs["session_id"])


def test_the_iframe_keys_secret_does_not_open_the_widgets_conversation(client, handbook_bot, key):
    iframe_key = integration_save(chatbot=handbook_bot, type="iframe",
                                  settings={"allowed_origins": [SHOP]}).record.api_key
    first = start(client, handbook_bot, key)
    assert read(client, first["session_id"], iframe_key, first["conversation_secret"]).status_code == 404


def test_a_conversation_from_before_secrets_is_out_of_a_publishable_keys_reach(client, handbook_bot, key):
    first = start(client, handbook_bot, key)
    Conversation.objects.update(secret_hash="")  # as the migration leaves the conversations it found
    assert read(client, first["session_id"], key, first["conversation_secret"]).status_code == 404
    assert read(client, first["session_id"], key, "").status_code == 404
    answer = ask(client, handbook_bot, COURIER_QUESTION, key=key, session_id=first["session_id"],
                 conversation_secret=first["conversation_secret"]).json()
    assert answer["session_id"] != first["session_id"] and answer["conversation_secret"]


def test_the_stream_gives_the_secret_with_the_session_and_continues_with_it(client, handbook_bot, key):
    events = server_sent_events(ask(client, handbook_bot, LICENCE_QUESTION, path="/api/chat/stream", key=key))
    assert events[-1]["type"] == "done"
    assert len({(event["session_id"], event["conversation_secret"]) for event in events}) == 1
    session_id, secret = events[0]["session_id"], events[0]["conversation_secret"]
    more = server_sent_events(ask(client, handbook_bot, COURIER_QUESTION, path="/api/chat/stream", key=key,
                                  session_id=session_id, conversation_secret=secret))
    assert {event["session_id"] for event in more} == {session_id}
    assert not [event for event in more if "conversation_secret" in event]
    assert Conversation.objects.get().messages.count() == 4


@pytest.mark.asyncio
async def test_over_the_websocket_the_secret_comes_with_the_session_and_reopens_it_on_a_new_socket(handbook_bot, key):
    socket = chat_socket(handbook_bot, key=key)
    assert (await socket.connect())[0]
    frames = await socket_answer(socket, LICENCE_QUESTION, visitor_id="v-1")
    await socket.disconnect()
    assert frames[-1]["type"] == "done"
    assert len({(frame["session_id"], frame["conversation_secret"]) for frame in frames}) == 1
    session_id, secret = frames[-1]["session_id"], frames[-1]["conversation_secret"]

    socket = chat_socket(handbook_bot, key=key)
    assert (await socket.connect())[0]
    without = await socket_answer(socket, COURIER_QUESTION, session_id=session_id, visitor_id="v-1")
    with_secret = await socket_answer(socket, COURIER_QUESTION, session_id=session_id, conversation_secret=secret)
    await socket.disconnect()
    assert without[-1]["session_id"] != session_id and without[-1]["conversation_secret"] != secret
    assert with_secret[-1]["session_id"] == session_id and "conversation_secret" not in with_secret[-1]
    conversation = await Conversation.objects.aget(session_id=session_id)
    assert await conversation.messages.acount() == 4
    response = await sync_to_async(read)(Client(), session_id, key, secret)
    assert response.status_code == 200


# --- staff and servers: as before ---------------------------------------------------------

def test_a_server_key_reads_and_continues_its_conversations_without_a_secret(client, handbook_bot):
    secret_key = server_key(handbook_bot)
    first = ask(client, handbook_bot, LICENCE_QUESTION, key=secret_key, origin="", visitor_id="user-1").json()
    assert "conversation_secret" not in first
    follow_up = ask(client, handbook_bot, COURIER_QUESTION, key=secret_key, origin="",
                    session_id=first["session_id"]).json()
    assert follow_up["session_id"] == first["session_id"]
    response = client.get(f"/api/conversations/{first['session_id']}", HTTP_AUTHORIZATION=f"Bearer {secret_key}")
    assert response.status_code == 200 and len(response.json()["messages"]) == 4


def test_staff_read_and_see_rated_every_visitors_conversation_without_its_secret(client, api_client, owner_a,
                                                                                  handbook_bot, key):
    first = start(client, handbook_bot, key)
    answer = Message.objects.get(role="assistant")
    rate(client, first["session_id"], answer.id, key, first["conversation_secret"])
    body = api_client(owner_a).get(f"/api/conversations/{first['session_id']}").json()
    assert [m["role"] for m in body["messages"]] == ["user", "assistant"]
    assert body["messages"][1]["feedback"] == "down"


def test_staff_asking_in_the_console_are_given_no_secret(api_client, owner_a, handbook_bot):
    body = ask(api_client(owner_a), handbook_bot, LICENCE_QUESTION).json()
    assert "conversation_secret" not in body
    assert Conversation.objects.get().secret_hash == ""


# --- the secret is the visitor's alone ----------------------------------------------------

def test_only_the_secrets_hash_is_stored(client, handbook_bot, key):
    secret = start(client, handbook_bot, key)["conversation_secret"]
    row = Conversation.objects.values().get()
    assert row["secret_hash"] == hashlib.sha256(secret.encode()).hexdigest()
    assert not [name for name, value in row.items() if secret in str(value)]


def test_staff_never_see_a_conversations_secret_or_its_hash(client, api_client, owner_a, superuser, handbook_bot,
                                                            key):
    secret = start(client, handbook_bot, key)["conversation_secret"]
    conversation = Conversation.objects.get()
    staff = Client()
    staff.force_login(owner_a)
    root = Client()
    root.force_login(superuser)
    pages = [
        api_client(owner_a).get(f"/api/conversations/{conversation.session_id}").content,
        staff.get(f"/conversations/{conversation.pk}/").content,
        b"".join(staff.get("/conversations/export.csv").streaming_content),
        root.get(f"/admin/chat/conversation/{conversation.pk}/change/").content,
    ]
    for page in pages:
        assert LICENCE_QUESTION.encode() in page or b"forklift" in page.lower()
        assert secret.encode() not in page and conversation.secret_hash.encode() not in page


def test_the_schema_documents_the_conversation_secret(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    components = schema["components"]["schemas"]
    assert "conversation_secret" in components["ChatRequestRequest"]["properties"]
    assert "conversation_secret" in components["ChatResponse"]["properties"]
    for path, method in [("/api/conversations/{session_id}", "get"),
                         ("/api/conversations/{session_id}/feedback", "post")]:
        headers = [p["name"] for p in schema["paths"][path][method]["parameters"] if p["in"] == "header"]
        assert headers == ["X-Conversation-Secret"], (path, headers)
