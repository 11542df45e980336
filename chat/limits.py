"""Rate limits on questions: per key, per client IP and per company, the same for HTTP and WebSocket.

Counters live in the shared cache (Redis in production), under the keys and in the windows of
django-ratelimit's `get_usage` (which integrations.documents uses): each window is the rate's period,
its end staggered per counter, and the count goes back to 0 when it ends. So every web process counts
against the same windows. A question is refused when any of its three counters is past its limit: a 429
ApiError whose `retry_after` says how many seconds remain until its window ends.

With Redis, the three counters are counted in one round trip (a pipeline); `get_usage` took two per
counter, six per question, a few percent of a busy web process. Without Redis (one web process), the
local-memory cache counts them as `get_usage` does.
"""

import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import caches
from django_ratelimit.core import EXPIRATION_FUDGE, _get_window, _make_cache_key, _split_rate
from django_redis import get_redis_connection
from django_redis.cache import RedisCache

from config.errors import ApiError

GROUP = "chat.questions"


@dataclass(frozen=True)
class Caller:
    """What a question is counted against."""

    key: str  # the credential: an integration, a company API key or a staff user
    client_ip: str
    company_id: str
    company_rate: str  # from the company's plan, e.g. "30/m"


@dataclass(frozen=True)
class Counter:
    """One limit's counter in its current window, as django-ratelimit keys it."""

    cache_key: str
    limit: int
    period: int  # seconds
    window_end: int  # Unix time

    @property
    def expiry(self) -> int:
        """Seconds the counter is kept: get_usage's, a little past the window."""
        return self.period + EXPIRATION_FUDGE

    @classmethod
    def current(cls, value: str, rate: str) -> "Counter":
        # django-ratelimit's own helpers, so that the keys and windows stay exactly those of `get_usage`.
        limit, period = _split_rate(rate)
        window_end = _get_window(value, period)
        return cls(_make_cache_key(GROUP, window_end, rate, value, None), limit, period, window_end)


def check(caller: Caller) -> None:
    """Count one question against each limit; a 429 ApiError if any is exceeded."""
    limits = (
        ("key", caller.key, settings.CHAT_RATE_PER_KEY, "this chatbot key"),
        ("ip", caller.client_ip or "unknown", settings.CHAT_RATE_PER_IP, "your network address"),
        ("company", caller.company_id, caller.company_rate, "this company's plan"),
    )
    counters = {owner: Counter.current(f"{kind}:{value}", rate) for kind, value, rate, owner in limits}
    counts = _count_one_more(list(counters.values()))
    refusals = [(counter, owner) for (owner, counter), count in zip(counters.items(), counts, strict=True)
                if count > counter.limit]
    if refusals:
        counter, owner = max(refusals, key=lambda refusal: refusal[0].window_end)
        retry_after = max(1, counter.window_end - int(time.time()))
        raise ApiError(f"Too many questions from {owner}; try again in {retry_after} seconds.",
                       code="rate_limited", status_code=429, details={"retry_after": retry_after})


def _count_one_more(counters: list[Counter]) -> list[int]:
    """Add this question to each counter; their counts, this question included."""
    cache = caches[settings.RATELIMIT_USE_CACHE]
    if isinstance(cache, RedisCache):
        # A counter's first question creates it at 0 with get_usage's expiry (which outlives its window),
        # then every question increments it: the values django-redis stores for integers, so `get_usage`
        # reads the same counts.
        with get_redis_connection(settings.RATELIMIT_USE_CACHE).pipeline(transaction=False) as pipe:
            for counter in counters:
                key = cache.make_key(counter.cache_key)
                pipe.set(key, 0, ex=counter.expiry, nx=True)
                pipe.incr(key)
            return pipe.execute()[1::2]
    return [1 if cache.add(counter.cache_key, 1, counter.expiry) else cache.incr(counter.cache_key)
            for counter in counters]
