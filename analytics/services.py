import datetime

from django.db import transaction
from django.db.models import Min
from django.utils import timezone

from accounts.models import Company
from analytics.aggregation import Figures, day_bounds, raw_figures, term_hash, utc_day
from analytics.models import DailyStats, DailyTerm, RolledUpDay
from chat.models import Conversation
from config import rls
from config.routers import analytics_reads, await_replica

# Only activity older than this is rolled up, so a message still being written is never skipped.
SETTLING = datetime.timedelta(minutes=10)
# Each chatbot's most frequent questions (and sources) of a day that the top-N query reads first.
LEADING_TERMS = 50
_BATCH = 1000


def settled_before(now: datetime.datetime | None = None) -> datetime.datetime:
    return (now or timezone.now()) - SETTLING


@transaction.atomic
@rls.dangerously_all_companies(rls.WayAround.ROLLUPS)
def rollup_day(*, day: datetime.date, now: datetime.datetime | None = None) -> None:
    """Store every company's figures of one UTC day up to ten minutes ago, replacing earlier ones.

    The figures are read from the replica (when configured) once it has replayed all the primary has
    written, and stored on the primary. A replica too far behind stops the roll-up (ReplicaBehind) before
    it changes anything: a later one does the day."""
    start, day_end = day_bounds(day, day)
    end = min(day_end, settled_before(now))
    if end <= start:
        return
    await_replica()
    with analytics_reads():
        company_ids = list(Company.objects.values_list("id", flat=True))
    for company_id in company_ids:
        DailyStats.objects.filter(company_id=company_id, day=day).delete()
        DailyTerm.objects.filter(company_id=company_id, kind__in=DailyTerm.Kind.values, day=day).delete()
        for console in (False, True):
            with analytics_reads():
                figures = raw_figures(company_id=company_id, start=start, end=end, console=console)
            _store_day(company_id, day, console, figures)
    RolledUpDay.objects.update_or_create(day=day, defaults={"until": end, "rolled_up_at": timezone.now()})


def _store_day(company_id, day: datetime.date, console: bool, figures: Figures) -> None:
    """The day's rows for visitors' chats (console False) or for the test console's (True)."""
    terms, tail_max = [], {}
    for (kind, bot, _), counts in figures.terms.items():
        ranked = counts.most_common()
        tail_max[kind, bot] = ranked[LEADING_TERMS][1] if len(ranked) > LEADING_TERMS else 0
        terms += [DailyTerm(company_id=company_id, chatbot_id=bot, day=day, console=console, kind=kind,
                            term_hash=term_hash(term), term=term, count=n, leading=rank < LEADING_TERMS)
                  for rank, (term, n) in enumerate(ranked)]
    DailyStats.objects.bulk_create([
        DailyStats(company_id=company_id, chatbot_id=bot, day=day, console=console, conversations=f.conversations,
                   questions=f.questions, answers=f.answers, answered=f.answered,
                   prompt_tokens=f.prompt_tokens, completion_tokens=f.completion_tokens,
                   latency_histogram={str(bucket): n for bucket, n in f.latency.items()},
                   question_tail_max=tail_max.get((DailyTerm.Kind.QUESTION, bot), 0),
                   source_tail_max=tail_max.get((DailyTerm.Kind.SOURCE, bot), 0))
        for (bot, _), f in figures.days.items()], batch_size=_BATCH)
    DailyTerm.objects.bulk_create(terms, batch_size=_BATCH)


@rls.dangerously_all_companies(rls.WayAround.ROLLUPS)
def rollup_settled_days(*, since: datetime.date | None = None, now: datetime.datetime | None = None) -> list:
    """Roll up each day from `since` (default: the first conversation's) not yet rolled up to its end or
    to ten minutes ago, today included."""
    if since is None:
        first = Conversation.objects.aggregate(first=Min("created_at"))["first"]
        if first is None:
            return []
        since = utc_day(first)
    settled = settled_before(now)
    last = utc_day(settled)
    done = dict(RolledUpDay.objects.filter(day__range=(since, last)).values_list("day", "until"))
    days = [since + datetime.timedelta(days=n) for n in range((last - since).days + 1)]
    pending = [day for day in days if _behind(day, done.get(day), settled)]
    for day in pending:
        rollup_day(day=day, now=now)
    return pending


def _behind(day: datetime.date, until: datetime.datetime | None, settled: datetime.datetime) -> bool:
    """Whether the day holds settled activity its roll-up (if any) does not cover."""
    start, end = day_bounds(day, day)
    return (until or start) < min(end, settled)
