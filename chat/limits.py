"""Rate limits on questions: per key, per client IP and per company, the same for HTTP and WebSocket.

Counters live in the shared cache (Redis in production) through django-ratelimit's `get_usage`,
so every web process counts against the same windows. A question is refused when any of its three
counters is past its limit: a 429 ApiError whose `retry_after` says how many seconds remain until
its window ends.
"""

from dataclasses import dataclass

from django.conf import settings
from django_ratelimit.core import get_usage

from config.errors import ApiError

GROUP = "chat.questions"


@dataclass(frozen=True)
class Caller:
    """What a question is counted against."""

    key: str  # the credential: an integration, a company API key or a staff user
    client_ip: str
    company_id: str
    company_rate: str  # from the company's plan, e.g. "30/m"


def check(caller: Caller) -> None:
    """Count one question against each limit; a 429 ApiError if any is exceeded."""
    limits = (
        ("key", caller.key, settings.CHAT_RATE_PER_KEY, "this chatbot key"),
        ("ip", caller.client_ip or "unknown", settings.CHAT_RATE_PER_IP, "your network address"),
        ("company", caller.company_id, caller.company_rate, "this company's plan"),
    )
    refusals = [(usage, owner) for kind, value, rate, owner in limits
                if (usage := _count(f"{kind}:{value}", rate)) and usage["should_limit"]]
    if refusals:
        usage, owner = max(refusals, key=lambda refusal: refusal[0]["time_left"])
        retry_after = max(1, usage["time_left"])
        raise ApiError(f"Too many questions from {owner}; try again in {retry_after} seconds.",
                       code="rate_limited", status_code=429, details={"retry_after": retry_after})


def _count(value: str, rate: str) -> dict | None:
    """The window's usage after counting this question; None when rate limiting is switched off."""
    return get_usage(None, group=GROUP, key=lambda group, request: value, rate=rate, increment=True)
