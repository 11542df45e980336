"""The channel layer that carries answers and file statuses between processes (Redis when configured)."""

import asyncio

import pytest
from channels.layers import get_channel_layer
from django.conf import settings

from config.channel_layer import RedisChannelLayer

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


class LosesOneCancellation(RedisChannelLayer):
    """Docent's layer, whose first cancelled pop carries on as Python 3.11's asyncio.wait_for lets redis-py's
    write of a pop carry on when the cancellation arrives as the write completes."""

    lost = 0

    async def _brpop_with_clean(self, index, channel, timeout):
        try:
            return await super()._brpop_with_clean(index, channel, timeout)
        except asyncio.CancelledError:
            if self.lost:
                raise
            self.lost += 1
            return None  # as after a pop that found nothing: the library pops again


@pytest.mark.asyncio
async def test_a_receive_whose_cancellation_is_lost_still_ends_when_cancelled():
    """A closing socket cancels its receive and waits for it; so does an event loop closing (a test's teardown
    once hung for 10 minutes). Without the layer's own receive, the library popped every 5 s for ever."""
    layer = LosesOneCancellation(**settings.CHANNEL_LAYERS["default"]["CONFIG"])
    receiving = asyncio.ensure_future(layer.receive(await layer.new_channel()))
    await asyncio.sleep(0.5)  # in the blocking pop
    receiving.cancel()
    await asyncio.wait({receiving}, timeout=3)
    assert layer.lost == 1 and receiving.cancelled()
    await layer.close_pools()
