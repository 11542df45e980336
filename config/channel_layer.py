"""The Redis channel layer (REDIS_URL), whose receive ends when it is cancelled.

channels_redis waits for a consumer's next message with blocking pops of 5 s, one after another, and redis-py
sends each pop under `asyncio.wait_for`, which on Python 3.11 swallows a cancellation that arrives as the
write completes (fixed in 3.12). The receive then goes on popping for ever: a consumer closing cancels its
receive once and waits for it (channels' await_many_dispatch), and so does an event loop closing. Here the
library's receive runs as a task of its own; once this one is cancelled, it is cancelled again until it ends.
"""

import asyncio

from channels_redis.core import RedisChannelLayer as LibraryRedisChannelLayer

RECANCEL_SECONDS = 0.1  # a lost cancellation is followed by another this soon


class RedisChannelLayer(LibraryRedisChannelLayer):
    async def receive(self, channel):
        receiving = asyncio.ensure_future(super().receive(channel))
        try:
            return await asyncio.shield(receiving)
        except asyncio.CancelledError:
            await stopped(receiving)
            raise


async def stopped(task: asyncio.Task) -> None:
    """Cancel `task` until it ends, however often its cancellation is lost (or this wait is cancelled)."""
    while not task.done():
        task.cancel()
        try:
            await asyncio.wait({task}, timeout=RECANCEL_SECONDS)
        except asyncio.CancelledError:
            continue  # the caller re-raises its own cancellation once the task has ended
