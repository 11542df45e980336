"""Company B never reaches company A's chatbots or conversations, and no chatbot answers from another
company's documents: a canary planted in company B's file never comes out of company A's chatbot."""

import pytest
from asgiref.sync import sync_to_async

from chat.models import Message
from chatbots.models import Chatbot
from tests.chatting import (
    CANARY,
    CANARY_QUESTION,
    WAREHOUSE,
    add_source,
    ask,
    bot,
    chat_socket,
    server_sent_events,
    socket_answer,
    widget_key,
)
from tests.isolation import assert_foreign_404, record_websocket

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("local_models")]


@pytest.fixture
def bot_a(company_a):
    return bot(company_a, add_source(company_a, "handbook.pdf", WAREHOUSE))


@pytest.fixture
def canary_bot_b(company_b):
    """Company B's chatbot over a file holding the canary; company A's bot is wrongly linked to it too."""
    return bot(company_b, add_source(company_b, "vault.pdf", [CANARY, *WAREHOUSE]))


@pytest.fixture
def leaky_link(bot_a, canary_bot_b):
    Chatbot.data_sources.through.objects.create(chatbot=bot_a, data_source=canary_bot_b.data_sources.get())


def test_another_companys_staff_cannot_ask_its_chatbot(outsider, bot_a):
    body = {"chatbot_id": str(bot_a.id), "message": "Hello"}
    assert_foreign_404(outsider, "post", "/api/chat", data=body, format="json")
    assert_foreign_404(outsider, "post", "/api/chat/stream", data=body, format="json")
    assert not Message.objects.exists()


def test_another_companys_staff_and_keys_cannot_read_its_conversations(outsider, client, api_client, owner_a,
                                                                       bot_a, canary_bot_b):
    session_id = ask(api_client(owner_a), bot_a, "What must forklift drivers hold?").json()["session_id"]
    assert_foreign_404(outsider, "get", f"/api/conversations/{session_id}")
    key_b = widget_key(canary_bot_b)
    response = client.get(f"/api/conversations/{session_id}", HTTP_AUTHORIZATION=f"Bearer {key_b}",
                          HTTP_ORIGIN="https://shop.example")
    assert response.status_code == 404
    # Its own staff read it.
    assert api_client(owner_a).get(f"/api/conversations/{session_id}").status_code == 200


@pytest.mark.asyncio
async def test_another_companys_staff_cannot_open_its_chatbots_socket(owner_b, bot_a):
    socket = await sync_to_async(chat_socket)(bot_a, user=owner_b, origin="http://testserver")
    connected, code = await socket.connect()
    assert not connected and code == 4403
    record_websocket("ws/chat/<uuid:chatbot_id>/")


def test_the_canary_is_findable_through_company_bs_own_chatbot(api_client, owner_b, canary_bot_b):
    body = ask(api_client(owner_b), canary_bot_b, CANARY_QUESTION).json()
    assert "QUOKKA-7731" in body["response"]


def assert_no_canary(*texts: str) -> None:
    for text in texts:
        assert "QUOKKA" not in text


def test_the_canary_never_leaves_through_company_as_chat_endpoints(client, api_client, owner_a, bot_a, leaky_link):
    staff = api_client(owner_a)
    key = widget_key(bot_a)
    assert_no_canary(
        ask(staff, bot_a, CANARY_QUESTION).content.decode(),
        ask(client, bot_a, CANARY_QUESTION, key=key).content.decode(),
        str(server_sent_events(ask(client, bot_a, CANARY_QUESTION, path="/api/chat/stream", key=key))),
    )
    for message in Message.objects.filter(role="assistant"):
        assert_no_canary(message.content, str(message.citations))


@pytest.mark.asyncio
async def test_the_canary_never_leaves_through_company_as_websocket(bot_a, leaky_link):
    key = await sync_to_async(widget_key)(bot_a)
    socket = chat_socket(bot_a, key=key)
    assert (await socket.connect())[0]
    assert_no_canary(str(await socket_answer(socket, CANARY_QUESTION)))
    await socket.disconnect()
