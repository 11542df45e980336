"""An answer's text streamed in `token` frames: a fast model's tokens share frames, nothing is lost,
reordered or held back, over the WebSocket and the event stream alike."""

import asyncio
import time
from contextlib import aclosing

import pytest
from asgiref.sync import sync_to_async

from chat.models import Message
from chat.services import coalesced
from tests.chatting import (
    LICENCE_QUESTION,
    answer_text,
    ask,
    chat_socket,
    server_sent_events,
    socket_answer,
    widget_key,
)

# Sixty distinct words, so that a lost, repeated or reordered token shows.
SIXTY_WORDS = " ".join(f"word{n}" for n in range(1, 61)) + "."


async def written(pieces: list[tuple[float, str]], closed: list[bool] | None = None):
    """A writer that waits `delay` seconds before each piece."""
    try:
        for delay, piece in pieces:
            await asyncio.sleep(delay)
            yield piece
    finally:
        if closed is not None:
            closed.append(True)


async def arrivals(pieces, *, every: float, take: int | None = None) -> list[tuple[float, str]]:
    """(seconds since the start, text) of each text the reader gets, the first `take` of them."""
    started, received = time.monotonic(), []
    async with aclosing(coalesced(pieces, every=every)) as texts:
        async for text in texts:
            received.append((time.monotonic() - started, text))
            if len(received) == take:
                break
    return received


@pytest.mark.asyncio
async def test_the_first_piece_goes_out_at_once_and_the_next_ones_together():
    received = await arrivals(written([(0, "One"), (0.01, " two"), (0.01, " three"), (0.01, " four")]), every=2)
    assert [text for _, text in received] == ["One", " two three four"]
    assert received[0][0] < 0.5  # not held for the window
    assert received[1][0] < 1.5  # nor the rest, once the writer is done


@pytest.mark.asyncio
async def test_text_written_before_the_writer_goes_silent_is_not_held_until_it_speaks_again():
    closed = []
    pieces = written([(0, "One"), (0.01, " two"), (30, " three")], closed)
    received = await arrivals(pieces, every=0.2, take=2)
    assert [text for _, text in received] == ["One", " two"]
    assert received[1][0] < 2  # after the window, not after the writer's 30 s silence
    assert closed == [True]  # the reader left: the writer was stopped, not left waiting


@pytest.mark.asyncio
async def test_a_writers_failure_reaches_the_reader_after_the_text_before_it():
    async def failing():
        yield "Half an answer"
        raise RuntimeError("the model went away")

    received = []
    with pytest.raises(RuntimeError, match="went away"):
        async for text in coalesced(failing(), every=0.5):
            received.append(text)
    assert received == ["Half an answer"]


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_a_fast_models_answer_arrives_whole_and_in_order_in_fewer_frames(handbook_bot, language_model):
    language_model.chat_reply(SIXTY_WORDS, tokens_per_second=200)  # 60 tokens in 0.3 s
    socket = chat_socket(handbook_bot, key=await sync_to_async(widget_key)(handbook_bot))
    assert (await socket.connect())[0]
    frames = await socket_answer(socket, LICENCE_QUESTION)
    await socket.disconnect()
    tokens = [frame["token"] for frame in frames if frame["type"] == "token"]
    assert "".join(tokens) == SIXTY_WORDS
    assert len(tokens) < 30  # a frame per 40 ms at most: about 9
    assert (await Message.objects.aget(role="assistant")).content == SIXTY_WORDS


@pytest.mark.django_db(transaction=True)
def test_the_event_stream_sends_a_fast_models_answer_whole_in_fewer_events(client, handbook_bot, language_model):
    language_model.chat_reply(SIXTY_WORDS, tokens_per_second=200)
    events = server_sent_events(ask(client, handbook_bot, LICENCE_QUESTION, path="/api/chat/stream",
                                    key=widget_key(handbook_bot)))
    assert answer_text(events) == SIXTY_WORDS
    assert [event["type"] for event in events][-2:] == ["sources", "done"]
    assert len(events) < 30
