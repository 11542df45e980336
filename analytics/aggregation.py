"""Figures of one company's chat activity between two instants, aggregated from chat's raw rows.

The roll-up stores these for closed days; the selectors compute them live for today and for any
day not rolled up yet. Being one piece of code, a rolled-up day always equals the raw aggregation.
"""

import datetime
import hashlib
import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from uuid import UUID

from django.db.models import Q

from chat.models import Conversation, Message
from chat.questions import normalized_question

DayKey = tuple[UUID | None, datetime.date]  # (chatbot id, UTC day)


def day_bounds(start: datetime.date, end: datetime.date) -> tuple[datetime.datetime, datetime.datetime]:
    """From the first instant of `start` to the first instant after `end`, in UTC."""
    first = datetime.datetime.combine(start, datetime.time.min, tzinfo=datetime.UTC)
    after = datetime.datetime.combine(end + datetime.timedelta(days=1), datetime.time.min, tzinfo=datetime.UTC)
    return first, after


def utc_day(instant: datetime.datetime) -> datetime.date:
    return instant.astimezone(datetime.UTC).date()


def term_hash(term: str) -> int:
    return int.from_bytes(hashlib.blake2b(term.encode(), digest_size=8).digest(), "big", signed=True)


def latency_bucket(ms: int) -> int:
    """Two significant digits (exact below 100 ms): within 5% of the true value, ~90 buckets per decade."""
    if ms < 100:
        return ms
    return round(ms, 2 - len(str(ms)))


def percentile(histogram: Counter, fraction: float) -> int | None:
    """Nearest-rank percentile: the smallest bucket holding at least `fraction` of the answers."""
    total = sum(histogram.values())
    if not total:
        return None
    rank, seen = math.ceil(fraction * total), 0
    for bucket in sorted(histogram):
        seen += histogram[bucket]
        if seen >= rank:
            return bucket
    return None


@dataclass
class DayFigures:
    conversations: int = 0
    questions: int = 0
    answers: int = 0
    answered: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    latency: Counter = field(default_factory=Counter)

    def add(self, other: "DayFigures") -> None:
        self.conversations += other.conversations
        self.questions += other.questions
        self.answers += other.answers
        self.answered += other.answered
        self.prompt_tokens += other.prompt_tokens
        self.completion_tokens += other.completion_tokens
        self.latency.update(other.latency)


@dataclass
class Figures:
    days: dict[DayKey, DayFigures] = field(default_factory=lambda: defaultdict(DayFigures))
    # (kind, chatbot id, day) → normalised question or source → count
    terms: dict[tuple[str, UUID | None, datetime.date], Counter] = field(default_factory=lambda: defaultdict(Counter))


def console_chats(console: bool | None, *, through: str = "") -> Q:
    """Conversations (or, `through` "conversation__", messages) of the test console when `console` is
    True, of every other channel when False, of all channels when None. Staff trying a chatbot out
    are not its visitors: reports leave their chats out unless asked to include them."""
    if console is None:
        return Q()
    in_console = Q(**{f"{through}channel": Conversation.Channel.CONSOLE})
    return in_console if console else ~in_console


def raw_figures(*, company_id, start: datetime.datetime, end: datetime.datetime, chatbot_id=None,
                console: bool | None = None) -> Figures:
    """Everything the dashboard counts, from conversations and messages created in [start, end), of the
    chats `console` selects (see console_chats)."""
    scope = {"company_id": company_id, "created_at__gte": start, "created_at__lt": end}
    if chatbot_id is not None:
        scope["chatbot_id"] = chatbot_id
    figures = Figures()
    conversations = Conversation.objects.filter(console_chats(console), **scope).order_by()
    for bot, created in conversations.values_list("chatbot_id", "created_at"):
        figures.days[bot, utc_day(created)].conversations += 1
    messages = Message.objects.filter(console_chats(console, through="conversation__"), **scope).order_by()
    questions = messages.filter(role=Message.Role.USER)
    for bot, created, content in questions.values_list("chatbot_id", "created_at", "content"):
        day = utc_day(created)
        figures.days[bot, day].questions += 1
        figures.terms["question", bot, day][normalized_question(content)] += 1
    answers = messages.filter(role=Message.Role.ASSISTANT).values_list(
        "chatbot_id", "created_at", "answered", "latency_ms", "prompt_tokens", "completion_tokens", "sources")
    for bot, created, answered, latency_ms, prompt_tokens, completion_tokens, sources in answers:
        day = utc_day(created)
        figures_of_day = figures.days[bot, day]
        figures_of_day.answers += 1
        figures_of_day.answered += bool(answered)
        figures_of_day.prompt_tokens += prompt_tokens
        figures_of_day.completion_tokens += completion_tokens
        if latency_ms is not None:
            figures_of_day.latency[latency_bucket(latency_ms)] += 1
        figures.terms["source", bot, day].update(set(sources or ()))
    return figures
