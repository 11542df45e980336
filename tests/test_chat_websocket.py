"""WebSocket /ws/chat/<chatbot_id>/: the widget's streamed chat, its checks, bad frames and disconnects."""

import asyncio

import pytest
from asgiref.sync import sync_to_async

from chat.models import Conversation, Message
from tests.chatting import LICENCE_QUESTION, bot, chat_socket, socket_answer, widget_key

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio, pytest.mark.usefixtures("local_models")]


@pytest.fixture
def key(handbook_bot):
    return widget_key(handbook_bot)


async def connected(socket):
    ok, code = await socket.connect()
    assert ok, code
    return socket


async def test_a_visitor_gets_a_streamed_answer_with_sources(handbook_bot, key):
    socket = await connected(chat_socket(handbook_bot, key=key))
    frames = await socket_answer(socket, LICENCE_QUESTION, visitor_id="v-1")
    kinds = [frame["type"] for frame in frames]
    assert kinds[-2:] == ["sources", "done"] and set(kinds[:-2]) == {"token"}
    text = "".join(frame["token"] for frame in frames if frame["type"] == "token")
    assert "current licence" in text
    assert frames[-2]["sources"] == ["handbook.pdf page 2"]
    session_id, secret = frames[-1]["session_id"], frames[-1]["conversation_secret"]
    # The next question on the same socket continues the conversation the server named.
    follow_up = await socket_answer(socket, "When does the courier collect parcels?", session_id=session_id,
                                    conversation_secret=secret, visitor_id="v-1")
    assert follow_up[-1]["session_id"] == session_id
    await socket.disconnect()
    conversation = await Conversation.objects.aget(session_id=session_id)
    assert conversation.channel == "widget" and conversation.visitor_id == "v-1"
    assert await conversation.messages.acount() == 4


async def test_a_site_that_is_not_allowed_cannot_connect(handbook_bot, key):
    connected_, code = await chat_socket(handbook_bot, key=key, origin="https://evil.example").connect()
    assert not connected_ and code == 4403


async def test_a_wrong_key_cannot_connect(company_a, handbook_bot):
    other_key = await sync_to_async(widget_key)(await sync_to_async(bot)(company_a))
    connected_, code = await chat_socket(handbook_bot, key=other_key).connect()
    assert not connected_ and code == 4403


async def test_staff_chat_from_docents_own_pages_but_not_from_another_site(handbook_bot, owner_a):
    socket = await connected(await sync_to_async(chat_socket)(handbook_bot, user=owner_a, origin="http://testserver"))
    frames = await socket_answer(socket, LICENCE_QUESTION)
    assert frames[-1]["type"] == "done"
    await socket.disconnect()
    assert (await Conversation.objects.aget()).channel == "console"
    foreign = await sync_to_async(chat_socket)(handbook_bot, user=owner_a, origin="https://evil.example")
    assert not (await foreign.connect())[0]


@pytest.mark.parametrize("frame", [
    "[1, 2]", '{"type": "hello"}', '{"type": "message", "message": ""}',
    '{"type": "message", "message": 7}', '{"type": "message", "message": "' + "x" * 3000 + '"}',
])
async def test_a_bad_frame_gets_an_error_frame_and_the_socket_stays_open(handbook_bot, key, frame):
    socket = await connected(chat_socket(handbook_bot, key=key))
    await socket.send_to(text_data=frame)
    reply = await socket.receive_json_from(timeout=5)
    assert reply["type"] == "error" and reply["error"]["code"] == "invalid" and reply["error"]["message"]
    frames = await socket_answer(socket, LICENCE_QUESTION)
    assert frames[-1]["type"] == "done"
    await socket.disconnect()


async def test_a_binary_frame_gets_an_error_frame(handbook_bot, key):
    socket = await connected(chat_socket(handbook_bot, key=key))
    await socket.send_to(bytes_data=b"\x00\x01")
    assert (await socket.receive_json_from(timeout=5))["error"]["code"] == "invalid"
    await socket.disconnect()


async def test_a_visitor_who_leaves_mid_answer_keeps_the_partial_answer_marked_interrupted(
        language_model, handbook_bot, key):
    language_model.chat_reply(tokens=40, tokens_per_second=20)
    socket = await connected(chat_socket(handbook_bot, key=key))
    await socket.send_json_to({"type": "message", "message": LICENCE_QUESTION})
    tokens = [await socket.receive_json_from(timeout=10) for _ in range(3)]
    assert all(frame["type"] == "token" for frame in tokens)
    await socket.disconnect()
    for _ in range(50):
        answer = await Message.objects.filter(role="assistant").afirst()
        if answer is not None:
            break
        await asyncio.sleep(0.1)
    assert answer is not None and answer.interrupted and answer.mode == "openai"
    assert answer.content.startswith("".join(frame["token"] for frame in tokens))
    assert 0 < len(answer.content)
