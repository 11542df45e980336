"""Where queries go: the analytics reads to the read replica when one is configured, all else to the primary.

A model cannot say which database serves it (the analytics read chat's conversations and messages,
which a visitor's chat writes and must read back at once), so the caller does: code run inside
`analytics_reads()` reads from the replica. Writes always go to the primary, and migrations run
there only: the replica copies the primary's schema through streaming replication.
"""

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from contextvars import ContextVar
from functools import wraps

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections

from config import rls

REPLICA = "replica"
REPLICA_CATCH_UP_SECONDS = 30.0

_reading_analytics: ContextVar[bool] = ContextVar("reading_analytics", default=False)


@contextmanager
def analytics_reads() -> Iterator[None]:
    """Reads within go to the replica (the primary when none is configured): figures that may lag the
    primary by the replica's delay, never anything a visitor or a write depends on."""
    token = _reading_analytics.set(True)
    try:
        with rls.same_scope(REPLICA) if REPLICA in settings.DATABASES else nullcontext():
            yield
    finally:
        _reading_analytics.reset(token)


def reads_analytics(function: Callable) -> Callable:
    """Run `function` inside analytics_reads(); what it returns must be evaluated within (no lazy query sets)."""
    @wraps(function)
    def wrapper(*args, **kwargs):
        with analytics_reads():
            return function(*args, **kwargs)
    return wrapper


class ReplicaBehind(Exception):
    pass


def await_replica() -> None:
    """Return once the replica has replayed everything the primary has written so far (at once when no
    replica is configured); raise ReplicaBehind after REPLICA_CATCH_UP_SECONDS."""
    if REPLICA not in settings.DATABASES:
        return
    written = _one_value(DEFAULT_DB_ALIAS, "SELECT pg_current_wal_lsn()")
    deadline = time.monotonic() + REPLICA_CATCH_UP_SECONDS
    while not _one_value(REPLICA, "SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", [written]):
        if time.monotonic() > deadline:
            raise ReplicaBehind(f"The replica has not replayed the primary's WAL up to {written} "
                                f"within {REPLICA_CATCH_UP_SECONDS:g} s.")
        time.sleep(0.02)


def _one_value(alias: str, sql: str, params=()):
    with connections[alias].cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()[0]


class ReplicaRouter:
    def db_for_read(self, model, **hints) -> str:
        if _reading_analytics.get() and REPLICA in settings.DATABASES:
            return REPLICA
        return DEFAULT_DB_ALIAS

    def db_for_write(self, model, **hints) -> str:
        # Explicit, or Django would write an object back to the database it was read from.
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints) -> bool:
        return True  # both aliases hold the same data

    def allow_migrate(self, db, app_label, model_name=None, **hints) -> bool:
        return db == DEFAULT_DB_ALIAS
