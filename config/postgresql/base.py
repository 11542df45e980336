"""Django's PostgreSQL backend with one change to its psycopg pool: the health check.

With CONN_HEALTH_CHECKS, Django gives the pool `check=ConnectionPool.check_connection`, a round trip to the
server at every checkout: under load, each question's several checkouts paid it on connections that came
back a few milliseconds before (5.5 % of a busy web process's samples). A connection that breaks in use
comes back broken and the pool drops it unchecked; the check is for one that died while it sat in the pool
(PostgreSQL restarted, its server process was ended, a firewall dropped it). So a connection lent within
the last DB_POOL_CHECK_IDLE_SECONDS goes out as it is, and one lent longer ago is checked first, as Django
would.

Django passes `check=` itself, so the pool options cannot carry another one; this backend builds the pool
as Django 5.2 does (django/db/backends/postgresql/base.py, `DatabaseWrapper.pool`) with this check in its
place. Settings use this ENGINE only when there is a pool; without one it is Django's, unchanged.
"""

import time
import weakref

from django.conf import settings
from django.db.backends.base.base import NO_DB_ALIAS
from django.db.backends.postgresql import base
from psycopg_pool import ConnectionPool


class RecentUseCheck:
    """psycopg_pool's `check` callback: a round trip only for a connection not lent for `idle_seconds`.

    Measured from when the connection was last lent, which is no later than when it came back: a connection
    idle longer than the threshold is always checked, and one kept out longer than it (a long task) is
    checked once more than it needs, which is harmless."""

    def __init__(self, idle_seconds: float):
        self.idle_seconds = idle_seconds
        # The pool lends each connection to one thread at a time, so no two threads touch the same entry.
        self.lent_at: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    def __call__(self, connection) -> None:
        now = time.monotonic()
        lent_at = self.lent_at.get(connection)
        if lent_at is None or now - lent_at >= self.idle_seconds:
            ConnectionPool.check_connection(connection)  # raises for a dead one: the pool replaces it
        self.lent_at[connection] = now


class DatabaseWrapper(base.DatabaseWrapper):
    @property
    def pool(self):
        options = self.settings_dict["OPTIONS"].get("pool")
        if options and self.alias != NO_DB_ALIAS and self.alias not in self._connection_pools:
            checks = self.settings_dict["CONN_HEALTH_CHECKS"]
            check = RecentUseCheck(settings.DB_POOL_CHECK_IDLE_SECONDS) if checks else None
            pool = ConnectionPool(kwargs={**self.get_connection_params(), "autocommit": True}, open=False,
                                  configure=self._configure_connection, check=check,
                                  **({} if options is True else options))
            self._connection_pools.setdefault(self.alias, pool)  # as Django: the first thread's pool wins
        return super().pool
