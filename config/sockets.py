"""Open WebSockets: authorised on every use, closed when access ends, capped per key and per address.

A socket is authorised when it opens and again before every question, as a new request would be.
It also joins the channel-layer group of each thing its access rests on (the integration whose key
opened it, its chatbot, the staff member it is logged in as). Whatever ends or narrows that access
(a key revoked, origins changed, a chatbot deactivated, a person removed or deactivated) calls
`access_changed`; every socket in the group, in every web process (the Redis channel layer carries
group messages between processes), checks its access again and, refused, sends an `error` frame
and closes with REFUSED, the same JSON as the close frame's reason.

Each open socket is also counted against its key (an integration, or a staff member) and its
client address; past a cap it is closed with TOO_MANY at once. The counts live in Redis when it is
configured (each socket holds a lease it renews, so a web process that dies frees its sockets within
a lease) and in the process otherwise (one web process).
"""

import asyncio
import json
import logging
import time
import weakref
from importlib import import_module
from types import SimpleNamespace
from typing import Protocol

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.contrib import auth
from django.contrib.auth.models import AnonymousUser
from django.db import transaction
from django.utils.module_loading import import_string

from config.errors import ApiError, error_body

logger = logging.getLogger(__name__)

REFUSED = 4403  # access refused or ended (the widget falls back to its event stream, which says why)
TOO_MANY = 4429  # over a cap on open sockets
MAX_CLOSE_REASON_BYTES = 123  # what a WebSocket close frame can carry
ACCESS_CHANGED = "access.changed"


def access_group(kind: str, object_id) -> str:
    """The channel-layer group of the sockets whose access rests on this object (kind: integration,
    chatbot, user)."""
    return f"access.{kind}.{object_id}"


def access_changed(kind: str, object_id) -> None:
    """Once the current transaction commits, every open socket resting on this object checks its
    access again, in every web process. Best effort: a socket that misses it is still checked
    before its next question."""
    group = access_group(kind, object_id)
    transaction.on_commit(lambda: _announce(group))


def _announce(group: str) -> None:
    try:
        async_to_sync(get_channel_layer().group_send)(group, {"type": ACCESS_CHANGED})
    except Exception:
        logger.warning("Could not tell the sockets of %s to check their access", group, exc_info=True)


def close_reason(error: ApiError) -> str:
    """The error as compact JSON that fits a close frame, its message shortened if need be."""
    text = json.dumps(error.body(), separators=(",", ":"))
    message = error.message
    while len(text.encode()) > MAX_CLOSE_REASON_BYTES and message:
        message = message[:-8]
        text = json.dumps(error_body(error.code, message.rstrip() + "…"), separators=(",", ":"))
    return text


def current_user(scope):
    """The user the socket's session belongs to now, as a new request would find it: anonymous once
    the session ended (logged out, password changed) or the account was deactivated."""
    session_key = getattr(scope.get("session"), "session_key", None)
    if not session_key:
        return AnonymousUser()
    store = import_module(settings.SESSION_ENGINE).SessionStore(session_key)
    return auth.get_user(SimpleNamespace(session=store))


# --- Counting open sockets -------------------------------------------------------------------

class SocketCounts(Protocol):
    async def enter(self, socket_id: str, caps: dict[str, int]) -> str | None:
        """Count the socket under each name; the first name whose cap it exceeds (and then it is not
        counted anywhere), or None."""

    async def renew(self, socket_id: str, names: list[str]) -> None:
        """Still open (keeps a lease from running out)."""

    async def leave(self, socket_id: str, names: list[str]) -> None:
        """Closed."""


class LocalSocketCounts:
    """The sockets of this process: enough with one web process (no Redis)."""

    renew_every = None

    @classmethod
    def options_from_settings(cls) -> dict:
        return {}

    def __init__(self):
        self.open: dict[str, set[str]] = {}

    async def enter(self, socket_id, caps):
        for name in caps:
            self.open.setdefault(name, set()).add(socket_id)
        over = next((name for name, cap in caps.items() if len(self.open[name]) > cap), None)
        if over is not None:
            await self.leave(socket_id, list(caps))
        return over

    async def renew(self, socket_id, names):
        return None

    async def leave(self, socket_id, names):
        for name in names:
            members = self.open.get(name, set())
            members.discard(socket_id)
            if not members:
                self.open.pop(name, None)


class RedisSocketCounts:
    """Every web process's sockets, in one Redis sorted set per name: members are sockets, scores the
    time their lease ends. A socket renews its lease every third of it; one whose process died drops
    out when its lease ends."""

    lease_seconds = 90
    renew_every = lease_seconds / 3

    @classmethod
    def options_from_settings(cls) -> dict:
        return {"url": settings.REDIS_URL, "prefix": settings.CACHE_KEY_PREFIX}

    def __init__(self, *, url: str, prefix: str):
        self.url, self.prefix = url, prefix
        self._clients: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # one client per event loop

    def _client(self):
        import redis.asyncio

        loop = asyncio.get_running_loop()
        if loop not in self._clients:
            # A bounded pool that waits for a free connection: a thousand sockets opening at once share
            # a few connections instead of failing with "Too many connections".
            pool = redis.asyncio.BlockingConnectionPool.from_url(self.url, max_connections=16, timeout=30)
            self._clients[loop] = redis.asyncio.Redis(connection_pool=pool)
        return self._clients[loop]

    def _key(self, name: str) -> str:
        return f"{self.prefix}:sockets:{name}"

    async def enter(self, socket_id, caps):
        now = time.time()
        async with self._client().pipeline(transaction=True) as pipe:
            for name in caps:
                key = self._key(name)
                pipe.zremrangebyscore(key, "-inf", now)
                pipe.zadd(key, {socket_id: now + self.lease_seconds})
                pipe.zcard(key)
                pipe.expire(key, int(self.lease_seconds) + 1)
            replies = await pipe.execute()
        counts = dict(zip(caps, replies[2::4], strict=True))
        over = next((name for name, cap in caps.items() if counts[name] > cap), None)
        if over is not None:
            await self.leave(socket_id, list(caps))
        return over

    async def renew(self, socket_id, names):
        until = time.time() + self.lease_seconds
        async with self._client().pipeline(transaction=False) as pipe:
            for name in names:
                pipe.zadd(self._key(name), {socket_id: until}, xx=True)
                pipe.expire(self._key(name), int(self.lease_seconds) + 1)
            await pipe.execute()

    async def leave(self, socket_id, names):
        async with self._client().pipeline(transaction=False) as pipe:
            for name in names:
                pipe.zrem(self._key(name), socket_id)
            await pipe.execute()


_counts: dict[str, SocketCounts] = {}


def socket_counts() -> SocketCounts:
    """The configured counter (SOCKET_COUNTS_BACKEND), one per process."""
    path = settings.SOCKET_COUNTS_BACKEND
    if path not in _counts:
        backend = import_string(path)
        _counts[path] = backend(**backend.options_from_settings())
    return _counts[path]


def socket_counts_reset() -> None:
    """Forget this process's counter (the next use makes a new one), as a restart would."""
    _counts.clear()


# --- The consumer side -----------------------------------------------------------------------

def client_address(scope) -> str:
    client = scope.get("client") or ("", 0)
    return client[0] or ""


class GuardedSocket:
    """Mixed into a Channels WebSocket consumer: the socket is counted against its caps, joins the
    access groups of what it rests on, checks its access again whenever one of them changes
    (`still_allowed`, written by each consumer) and closes with the reason when refused."""

    access_groups: list[str] = []
    counted_as: list[str] = []
    lease: asyncio.Task | None = None
    refused = False  # closed by the server: later frames and announcements are ignored

    async def still_allowed(self) -> bool:
        """Check access as a new request would; refuse (closing the socket) and return False if it ended."""
        raise NotImplementedError

    async def admit(self, *, groups: list[str], key: str, address: str) -> bool:
        """Count the socket and accept it, in its access groups (joined before accepting, so a change
        right after it opens is not missed); past a cap, close it with the reason and return False."""
        caps = {f"key:{key}": settings.SOCKETS_PER_KEY,
                f"address:{address or 'unknown'}": settings.SOCKETS_PER_ADDRESS}
        try:
            over = await socket_counts().enter(self.channel_name, caps)
        except Exception:  # the counts are a guard, not the service: without them the socket still opens
            logger.warning("Could not count socket %s against its caps", self.channel_name, exc_info=True)
            caps, over = {}, None
        if over is not None:
            what = "this key" if over.startswith("key:") else "your network address"
            await self.accept()  # so that the close can say why
            await self.refuse(ApiError(f"Too many open connections from {what}; close some and try again.",
                                       code="too_many_sockets", status_code=429), close_code=TOO_MANY)
            return False
        self.counted_as = list(caps)
        if self.counted_as and socket_counts().renew_every:
            self.lease = asyncio.create_task(self._keep_lease(socket_counts().renew_every))
        for group in groups:
            await self.channel_layer.group_add(group, self.channel_name)
        self.access_groups = groups
        await self.accept()
        return True

    async def _keep_lease(self, every: float) -> None:
        # Until cancelled, even when a renewal loses the cancellation (Python 3.11's asyncio.wait_for inside
        # redis-py can: config.channel_layer): a closed socket must not be counted for ever.
        while not asyncio.current_task().cancelling():
            await asyncio.sleep(every)
            try:
                await socket_counts().renew(self.channel_name, self.counted_as)
            except Exception:
                logger.warning("Could not renew the lease of socket %s", self.channel_name, exc_info=True)

    async def access_changed(self, event) -> None:
        if not self.refused:
            await self.still_allowed()

    async def send_error(self, error: ApiError) -> None:
        """An `error` frame: the API's error shape, typed."""
        await self.send(text_data=json.dumps({"type": "error", **error.body()}))

    async def refuse(self, error: ApiError, *, close_code: int = REFUSED) -> None:
        """Say why in an error frame, then close with the same JSON as reason (Daphne 4.2 does not pass
        a close reason on, so the frame is what a browser behind Daphne reads)."""
        self.refused = True
        await self.send_error(error)
        await self.close(code=close_code, reason=close_reason(error))

    async def disconnect(self, code) -> None:
        if self.lease is not None:
            self.lease.cancel()
        for group in self.access_groups:
            await self.channel_layer.group_discard(group, self.channel_name)
        if self.counted_as:
            try:
                await socket_counts().leave(self.channel_name, self.counted_as)
            except Exception:  # its lease runs out instead
                logger.warning("Could not uncount socket %s", self.channel_name, exc_info=True)
