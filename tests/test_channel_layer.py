"""The channel layer that carries answers and file statuses between processes (Redis when configured)."""

import asyncio

import pytest
from channels.layers import get_channel_layer
from django.conf import settings

pytestmark = pytest.mark.skipif("redis" not in settings.CHANNEL_LAYERS["default"]["BACKEND"].lower(),
                                reason="the in-memory layer has no socket to time out")


@pytest.mark.asyncio
async def test_a_consumer_idle_longer_than_a_blocking_pop_still_receives_its_next_message():
    """A visitor's socket waits between questions: the layer's 5 s blocking pops must not time out."""
    layer = get_channel_layer()
    channel = await layer.new_channel()

    async def send_later():
        await asyncio.sleep(6)
        await layer.send(channel, {"type": "chat.message", "text": "after a pause"})

    sender = asyncio.create_task(send_later())
    message = await asyncio.wait_for(layer.receive(channel), timeout=20)
    await sender
    assert message == {"type": "chat.message", "text": "after a pause"}
