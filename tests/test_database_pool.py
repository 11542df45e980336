"""DB_POOL_MAX_SIZE: a process borrows its PostgreSQL connections from Django's psycopg pool and reuses them, checking
one with a round trip only when it sat idle (DB_POOL_CHECK_IDLE_SECONDS)."""

from urllib.parse import quote

import pytest
from django.db import connection

from tests.test_settings import manage

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the pool is psycopg's: run with DATABASE_URL=postgres://…"),
    pytest.mark.django_db,
]

# Ten requests' worth of queries, each ending as a request does: its connection closed. It prints how many
# server connections (backend processes) served them, and the pool's size.
TEN_REQUESTS = """
from django.db import connection
servers = set()
for _ in range(10):
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        servers.add(cursor.fetchone()[0])
    connection.close()
print(len(servers), connection.pool.get_stats()["pool_max"] if connection.pool else "no pool")
"""


# One pooled connection, checked when it was not lent in the last second. `request()` is a request's queries, its
# connection back in the pool at the end; `server_received_last(pid)` the last statement that server process
# received, as PostgreSQL shows it to another connection (the pool's check sends an empty one).
ONE_POOLED_CONNECTION = {"DB_POOL_MAX_SIZE": "1", "DB_POOL_MIN_SIZE": "1", "DB_POOL_CHECK_IDLE_SECONDS": "1"}
REQUESTS = """
import os, time
import psycopg
from django.db import connection

def request():
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    connection.close()
    return pid

def on_the_side(sql, pid):
    with psycopg.connect(os.environ["DATABASE_URL"], autocommit=True) as other:
        return other.execute(sql, [pid]).fetchone()[0]

def server_received_last(pid):
    return on_the_side("SELECT query FROM pg_stat_activity WHERE pid = %s", pid)

def after_the_idle_threshold():
    time.sleep(float(os.environ["DB_POOL_CHECK_IDLE_SECONDS"]) + 0.5)
"""


def _test_database_url() -> str:
    db = connection.settings_dict
    host = f"{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}"
    return f"postgres://{quote(db['USER'])}:{quote(db['PASSWORD'])}@{host}/{db['NAME']}"


def test_with_a_pool_size_requests_reuse_the_pools_connections():
    result = manage("shell", "--no-imports", "-c", TEN_REQUESTS, DATABASE_URL=_test_database_url(),
                    DB_POOL_MAX_SIZE="3")
    assert result.returncode == 0, result.stderr
    servers, pool_size = map(int, result.stdout.split())
    assert servers <= pool_size == 3


def test_without_a_pool_size_each_request_opens_its_own_connection():
    result = manage("shell", "--no-imports", "-c", TEN_REQUESTS, DATABASE_URL=_test_database_url())
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["10", "no", "pool"]


@pytest.mark.parametrize("env, named", [
    ({"DB_POOL_MAX_SIZE": "3", "DB_CONN_MAX_AGE": "60"}, "DB_CONN_MAX_AGE"),
    ({"DB_POOL_MAX_SIZE": "2", "DB_POOL_MIN_SIZE": "5"}, "DB_POOL_MIN_SIZE"),
])
def test_a_pool_setting_that_cannot_work_stops_startup_naming_it(env, named):
    result = manage("check", DATABASE_URL=_test_database_url(), **env)
    assert result.returncode != 0 and named in result.stderr


def test_a_connection_lent_again_at_once_is_not_checked_with_a_round_trip():
    lent_twice = REQUESTS + """
pid = request()
connection.ensure_connection()  # the next request takes the same connection at once
print(repr(server_received_last(pid)))
connection.close()
after_the_idle_threshold()
connection.ensure_connection()
print(repr(server_received_last(pid)))
"""
    result = manage("shell", "--no-imports", "-c", lent_twice, DATABASE_URL=_test_database_url(),
                    **ONE_POOLED_CONNECTION)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["'SELECT pg_backend_pid()'", "''"]  # then checked, after a second idle


def test_a_connection_whose_server_process_ended_while_idle_is_replaced_before_a_request_gets_it():
    server_gone = REQUESTS + """
pid = request()
print(on_the_side("SELECT pg_terminate_backend(%s)", pid))  # as a PostgreSQL restart would end it
after_the_idle_threshold()
print(request() != pid)
"""
    result = manage("shell", "--no-imports", "-c", server_gone, DATABASE_URL=_test_database_url(),
                    **ONE_POOLED_CONNECTION)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "True"]
