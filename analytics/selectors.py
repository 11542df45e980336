import datetime
from collections import Counter, defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db.models import Count, OuterRef, Q, QuerySet, Subquery, Sum
from django.utils import timezone

from accounts.models import Company
from analytics.aggregation import DayFigures, console_chats, day_bounds, percentile, raw_figures, term_hash, utc_day
from analytics.models import DailyStats, DailyTerm, RolledUpDay
from analytics.services import SETTLING, settled_before
from chat.models import Conversation, Message
from chatbots.models import Chatbot
from config.routers import reads_analytics
from datasources.models import DataSource
from integrations.models import Integration

DEFAULT_PERIOD_DAYS = 30
MAX_PERIOD_DAYS = 366
TOP_TERMS = 10
LATEST_CONVERSATIONS = 8
_LOOKUP_BATCH = 500
_ATTEMPTS = 3
DELETED_CHATBOTS = "Deleted chatbots"
ALL = "all"  # the key of the period's figures beside each chatbot's (None: the deleted chatbots')
METHOD = {
    "days": "UTC days: conversations, questions and answers count on the UTC day they were created.",
    "counts": "exact",
    "latency": "nearest-rank percentiles over answers' latencies kept to two significant digits "
               "(exact below 100 ms, otherwise within 5%).",
    "unique_visitors": "exact: distinct widget visitor ids of the conversations started in the period.",
    "answered_rate": "answers that found something in the documents / answers.",
    "console": "test-console chats are left out of every figure unless include_console is true.",
}


@dataclass(frozen=True)
class Period:
    """Whole UTC days, both ends included."""

    start: datetime.date
    end: datetime.date

    @classmethod
    def last_days(cls, days: int = DEFAULT_PERIOD_DAYS, *, today: datetime.date | None = None) -> "Period":
        end = today or utc_day(timezone.now())
        return cls(end - datetime.timedelta(days=days - 1), end)

    @property
    def days(self) -> list[datetime.date]:
        return [self.start + datetime.timedelta(days=n) for n in range((self.end - self.start).days + 1)]


@reads_analytics
def company_overview(*, company: Company) -> dict:
    """The numbers on the dashboard's first page."""
    data_sources = DataSource.objects.filter(company=company)
    return {
        "data_sources": data_sources.count(),
        "data_sources_ready": data_sources.filter(status=DataSource.Status.READY).count(),
        "chatbots": Chatbot.objects.filter(company=company).count(),
        "integrations": Integration.objects.filter(company=company).count(),
        "members": company.users.count(),
    }


def _counted(include_console: bool) -> bool | None:
    """Which chats a report counts, as aggregation.console_chats takes it: all, or all but the console's."""
    return None if include_console else False


@reads_analytics
def latest_conversations(*, company: Company, chatbot: Chatbot | None = None,
                         include_console: bool = False) -> list[Conversation]:
    """The conversations started last, each with its first question."""
    first_question = (Message.objects.filter(conversation=OuterRef("pk"), role=Message.Role.USER)
                      .order_by("created_at").values("content")[:1])
    conversations = Conversation.objects.filter(console_chats(_counted(include_console)), company=company)
    if chatbot is not None:
        conversations = conversations.filter(chatbot=chatbot)
    return list(conversations.annotate(first_question=Subquery(first_question)).order_by("-created_at")[
        :LATEST_CONVERSATIONS])


@reads_analytics
def analytics_report(*, company: Company, period: Period, chatbot: Chatbot | None = None,
                     include_console: bool = False) -> dict:
    """The company's (or one chatbot's) activity over the period: the daily roll-up, plus what came after it;
    the test console's chats only when `include_console`.

    Each query sees the database as it is when it runs, so a roll-up committing between the first
    and the last query would count its activity twice or not at all: the report is then made again.
    """
    for _ in range(_ATTEMPTS):
        marks = _rollup_marks(period)
        report = _report(company, period, chatbot, {day: until for day, (until, _) in marks.items()},
                         include_console)
        if _rollup_marks(period) == marks:
            break
    return report


def _rollup_marks(period: Period) -> dict:
    return {day: (until, rolled_up_at) for day, until, rolled_up_at in RolledUpDay.objects.filter(
        day__range=(period.start, period.end)).values_list("day", "until", "rolled_up_at")}


def _report(company, period, chatbot, rolled: dict, include_console: bool) -> dict:
    live = _live_ranges(period, rolled)
    days, live_terms = _live_figures(company, chatbot, live, include_console)
    rolled_stats = _rolled_rows(DailyStats, company, chatbot, rolled, include_console)
    for key, figures in _rolled_figures(rolled_stats):
        days[key].add(figures)
    by_day: dict = defaultdict(DayFigures)
    for (_, day), figures in days.items():
        by_day[day].add(figures)
    start, end = day_bounds(period.start, period.end)
    visitors = _unique_visitors(company, chatbot, start, end)
    feedback = _feedback(company, chatbot, start, end, include_console)
    tail_bounds = _tail_bounds(rolled_stats)
    rolled_terms = _rolled_rows(DailyTerm, company, chatbot, rolled, include_console)
    terms = {kind: _top_terms(rolled_terms.filter(kind=kind), bool(rolled), tail_bounds[kind], live_terms[kind])
             for kind in DailyTerm.Kind}
    could_be_rolled_up = [first for first, _ in live if first < settled_before() - SETTLING]
    return {
        "from": period.start, "to": period.end, "timezone": "UTC",
        "chatbot": {"id": chatbot.id, "name": chatbot.name} if chatbot else None,
        "include_console": include_console,
        "totals": _summary(_sum(by_day.values()), visitors.get(ALL, 0), feedback.get(ALL, {})),
        "days": [_day_row(day, by_day[day]) for day in period.days],
        "top_questions": [{"question": term, "count": n} for term, n in terms[DailyTerm.Kind.QUESTION]],
        "top_sources": [{"source": term, "count": n} for term, n in terms[DailyTerm.Kind.SOURCE]],
        "chatbots": [] if chatbot else _per_chatbot(company, days, visitors, feedback),
        "method": {**METHOD, "rolled_up_days": len(rolled),
                   "live_days": sum(day not in rolled or rolled[day] < day_bounds(day, day)[1] for day in period.days)},
        "unrolled_since": utc_day(could_be_rolled_up[0]) if could_be_rolled_up else None,
    }


def _live_ranges(period: Period, rolled: dict) -> list[tuple[datetime.datetime, datetime.datetime]]:
    """The instants of the period the roll-up does not cover, as few [start, end) ranges as possible."""
    ranges = []
    for day in period.days:
        start, end = day_bounds(day, day)
        start = max(start, rolled.get(day, start))
        if start >= end:
            continue
        if ranges and ranges[-1][1] == start:
            ranges[-1] = (ranges[-1][0], end)
        else:
            ranges.append((start, end))
    return ranges


def _live_figures(company, chatbot, live, include_console: bool):
    days: dict = defaultdict(DayFigures)
    terms = {kind: Counter() for kind in DailyTerm.Kind}
    for start, end in live:
        figures = raw_figures(company_id=company.id, start=start, end=end, chatbot_id=chatbot.id if chatbot else None,
                              console=_counted(include_console))
        for key, day_figures in figures.days.items():
            days[key].add(day_figures)
        for (kind, _, _), counts in figures.terms.items():
            terms[kind].update(counts)
    return days, terms


def _rolled_rows(model, company, chatbot, rolled_days, include_console: bool) -> QuerySet:
    """The rows of `model` (DailyStats or DailyTerm) of the rolled-up days that the report counts."""
    rows = model.objects.filter(_days_in(rolled_days), company=company)
    if chatbot is not None:
        rows = rows.filter(chatbot=chatbot)
    return rows if include_console else rows.filter(console=False)


def _rolled_figures(rows: QuerySet):
    for row in rows.values_list("chatbot_id", "day", "conversations", "questions", "answers", "answered",
                                "prompt_tokens", "completion_tokens", "latency_histogram"):
        bot, day, *counts, histogram = row
        yield (bot, day), DayFigures(*counts, latency=Counter({int(k): n for k, n in histogram.items()}))


def _tail_bounds(rows: QuerySet) -> dict[str, int]:
    """Per kind, the most a term can count over the rolled-up days beyond its leading rows: each of its
    other rows counts at most its chatbot's day's tail max (console and visitors' rows alike)."""
    bounds = rows.aggregate(**{DailyTerm.Kind.QUESTION: Sum("question_tail_max"),
                               DailyTerm.Kind.SOURCE: Sum("source_tail_max")})
    return {kind: bound or 0 for kind, bound in bounds.items()}


def _top_terms(rolled: QuerySet, any_rolled: bool, tail_bound: int, live: Counter) -> list[tuple[str, int]]:
    """The most frequent terms, exactly: the rolled-up leaders, plus the live terms that could overtake them.

    A term outside the rolled-up top N has a rolled-up count of at most the N-th one's, so only a
    live term whose live count could lift it past the current N-th best needs its rolled-up count
    looked up; the others cannot reach the top. Ties go to the lower hash, in SQL and here alike.
    """
    by_hash = rolled.values("term_hash").annotate(total=Sum("count")).order_by()
    live_by_hash = {term_hash(term): (term, n) for term, n in live.items()}
    totals = {}
    if any_rolled:
        top = _rolled_top(by_hash, tail_bound)
        totals = dict(top)
        if len(top) == TOP_TERMS:  # fewer: every rolled-up term is already in `totals`
            at_least = sorted((totals.get(h, 0) + live_by_hash.get(h, ("", 0))[1]
                               for h in totals.keys() | live_by_hash.keys()), reverse=True)
            bar = at_least[TOP_TERMS - 1] - top[-1][1]
            contenders = [h for h, (_, n) in live_by_hash.items() if h not in totals and n >= bar]
            for i in range(0, len(contenders), _LOOKUP_BATCH):
                batch = contenders[i:i + _LOOKUP_BATCH]
                totals.update(by_hash.filter(term_hash__in=batch).values_list("term_hash", "total"))
    for h, (_, n) in live_by_hash.items():
        totals[h] = totals.get(h, 0) + n
    best = _ranked(totals.items())
    texts = {h: term for h, (term, _) in live_by_hash.items()}
    missing = [h for h, _ in best if h not in texts]
    texts.update(rolled.filter(term_hash__in=missing).values_list("term_hash", "term"))
    return [(texts[h], n) for h, n in best]


def _rolled_top(by_hash: QuerySet, tail_bound: int) -> list[tuple[int, int]]:
    """The rolled-up top N (term hash, total), exactly, reading the leading rows only when they settle it.

    A term's total is the sum of its leading rows plus at most `tail_bound`. Once N terms have
    leading sums above `tail_bound`, the N-th largest leading sum is a floor for the N-th total, and
    a term whose leading sum (nothing, if it never led) is below the floor minus `tail_bound` cannot
    reach it: the exact totals of the others decide. Otherwise every row of the period is grouped.
    """
    leading = dict(by_hash.filter(leading=True).values_list("term_hash", "total"))
    sums = sorted(leading.values(), reverse=True)
    if len(sums) >= TOP_TERMS and sums[TOP_TERMS - 1] > tail_bound:
        floor = sums[TOP_TERMS - 1]
        contenders = [h for h, n in leading.items() if n + tail_bound >= floor]
        if len(contenders) <= _LOOKUP_BATCH:
            return _ranked(by_hash.filter(term_hash__in=contenders).values_list("term_hash", "total"))
    return list(by_hash.order_by("-total", "term_hash").values_list("term_hash", "total")[:TOP_TERMS])


def _ranked(totals) -> list[tuple[int, int]]:
    """The top N (term hash, total) pairs: highest total first, ties to the lower hash."""
    return sorted(totals, key=lambda item: (-item[1], item[0]))[:TOP_TERMS]


def _days_in(days) -> Q:
    """The given days as date ranges, which the indexes serve far better than a long IN list."""
    condition = Q(pk__in=[])
    runs: list[list[datetime.date]] = []
    for day in sorted(days):
        if runs and runs[-1][1] + datetime.timedelta(days=1) == day:
            runs[-1][1] = day
        else:
            runs.append([day, day])
    for first, last in runs:
        condition |= Q(day__range=(first, last))
    return condition


def _unique_visitors(company, chatbot, start, end) -> dict:
    """Distinct visitor ids: the period's under ALL, each chatbot's under its id. Counted by the
    database, through the covering index `conversations_visitors`. Test-console chats are never
    among them: staff chat under their own name, with no visitor id (chat.callers.staff_asker)."""
    conversations = (Conversation.objects.filter(company=company, created_at__gte=start, created_at__lt=end)
                     .exclude(visitor_id="").order_by())
    if chatbot is not None:
        conversations = conversations.filter(chatbot=chatbot)
    visitors = {ALL: conversations.values("visitor_id").distinct().count()}
    if chatbot is None:
        visitors.update(conversations.values("chatbot_id").annotate(n=Count("visitor_id", distinct=True))
                        .values_list("chatbot_id", "n"))
    return visitors


def _feedback(company, chatbot, start, end, include_console: bool) -> dict:
    """Ratings of the period's answers: the period's under ALL, each chatbot's under its id.

    Counted live, as ratings change after the day is rolled up; the partial index on rated
    messages (`messages_rated`) keeps this to the rated few."""
    rated = Message.objects.filter(console_chats(_counted(include_console), through="conversation__"),
                                   company=company, created_at__gte=start, created_at__lt=end,
                                   feedback_at__isnull=False).order_by()
    if chatbot is not None:
        rated = rated.filter(chatbot=chatbot)
    feedback: dict = defaultdict(lambda: {"up": 0, "down": 0})
    for bot, rating, n in rated.values("chatbot_id", "feedback").annotate(n=Count("*")).values_list(
            "chatbot_id", "feedback", "n"):
        if rating in ("up", "down"):
            feedback[bot][rating] += n
            feedback[ALL][rating] += n
    return feedback


def _sum(figures) -> DayFigures:
    total = DayFigures()
    for day_figures in figures:
        total.add(day_figures)
    return total


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _day_row(day: datetime.date, figures: DayFigures) -> dict:
    return {"date": day, "conversations": figures.conversations, "questions": figures.questions,
            "answers": figures.answers, "answered_rate": _rate(figures.answered, figures.answers),
            "latency_p50_ms": percentile(figures.latency, 0.5), "latency_p95_ms": percentile(figures.latency, 0.95)}


def estimated_cost(prompt_tokens: int, completion_tokens: int) -> Decimal:
    cost = (prompt_tokens * settings.OPENAI_PRICE_PER_1M_PROMPT_TOKENS_USD
            + completion_tokens * settings.OPENAI_PRICE_PER_1M_COMPLETION_TOKENS_USD) / 1_000_000
    return cost.quantize(Decimal("0.0001"))


def _summary(figures: DayFigures, unique_visitors: int, feedback: dict) -> dict:
    return {
        "conversations": figures.conversations, "questions": figures.questions, "answers": figures.answers,
        "answered": figures.answered, "unanswered": figures.answers - figures.answered,
        "answered_rate": _rate(figures.answered, figures.answers), "unique_visitors": unique_visitors,
        "latency_p50_ms": percentile(figures.latency, 0.5), "latency_p95_ms": percentile(figures.latency, 0.95),
        "prompt_tokens": figures.prompt_tokens, "completion_tokens": figures.completion_tokens,
        "estimated_cost_usd": estimated_cost(figures.prompt_tokens, figures.completion_tokens),
        "feedback_up": feedback.get("up", 0), "feedback_down": feedback.get("down", 0),
    }


def _per_chatbot(company, days, visitors, feedback) -> list[dict]:
    names = dict(Chatbot.objects.filter(company=company).order_by("name").values_list("id", "name"))
    by_bot: dict = defaultdict(DayFigures)
    for (bot, _), figures in days.items():
        by_bot[bot].add(figures)
    if None in by_bot:
        names[None] = DELETED_CHATBOTS
    return [{"id": bot, "name": name, **_summary(by_bot[bot], visitors.get(bot, 0), feedback.get(bot, {}))}
            for bot, name in names.items()]
