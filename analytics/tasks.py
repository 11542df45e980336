import datetime

from django.core.cache import cache
from django.db import transaction
from django_tasks import task

from analytics import services

ROLLUP_QUEUED_KEY = "analytics:rollup-queued"
ROLLUP_QUEUED_SECONDS = 600


@task()
def rollup_analytics(since: str) -> None:
    services.rollup_settled_days(since=datetime.date.fromisoformat(since))


def request_rollup(*, unrolled_since: datetime.date | None) -> None:
    """Queue a roll-up of what a report had to aggregate live though it could be rolled up, at most
    every ten minutes."""
    if unrolled_since and cache.add(ROLLUP_QUEUED_KEY, True, ROLLUP_QUEUED_SECONDS):
        transaction.on_commit(lambda: rollup_analytics.enqueue(unrolled_since.isoformat()))
