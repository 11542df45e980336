"""DB_POOL_MAX_SIZE: a process borrows its PostgreSQL connections from Django's psycopg pool and reuses them."""

from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection

from tests.test_settings import manage

pytestmark = [
    pytest.mark.skipif(settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql",
                       reason="the pool is psycopg's: run with DATABASE_URL=postgres://…"),
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
