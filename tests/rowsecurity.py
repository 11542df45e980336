"""The PostgreSQL pass under row-level security (config.rls), as Docent runs in production.

With DB_ALL_COMPANIES_ROLE and DATABASE_OWNER_URL set, the test database is created and migrated as the
tables' owner, `manage.py row_security_roles` sets up the roles, and then every connection of the tests logs
in as DATABASE_URL's restricted role: requests, tasks, socket messages and the worker and web processes the
tests start work under the wall. The tests' own set-up and checks span companies (an owner, a member and an
outsider), so the test thread's connection works as the all-companies role, as Django admin does; each
request, task or socket message switches its transaction back to the login role and its company.

Without those settings (SQLite, or PostgreSQL as before) nothing here changes anything, except that on
PostgreSQL the sessions other threads left on the test database end before pytest-django drops it.
"""

import fcntl
import functools
import tempfile
import threading
from contextlib import contextmanager
from pathlib import Path

import pytest
from asgiref.sync import SyncToAsync
from django.conf import settings
from django.core.management import call_command
from django.db import connections
from django.db.backends.signals import connection_created

from config import rls


def under_row_security() -> bool:
    return rls.enforced() and rls.OWNER in settings.DATABASES


def _login(alias: str) -> dict:
    return {key: settings.DATABASES[alias][key] for key in ("USER", "PASSWORD")}


RESTRICTED = _login("default")


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings):
    """pytest-django's (per-worker database names), then the owner's login for creating the test database."""
    if under_row_security():
        _log_in_as(_login(rls.OWNER))


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """pytest-django's, as the owner; then the roles, and the restricted login for everything after."""
    if not under_row_security():
        yield
        _end_other_threads_sessions(django_db_blocker)
        return
    with django_db_blocker.unblock():
        prepare_roles(rls.OWNER)
        connections[rls.OWNER].close()  # it holds the test database, which the teardown drops
    _log_in_as(RESTRICTED)
    _async_tests_thread()  # asked now: asked from that thread itself, the question would wait on itself
    connection_created.connect(_test_thread_sees_every_company)
    yield
    connection_created.disconnect(_test_thread_sees_every_company)
    _log_in_as(_login(rls.OWNER))  # pytest-django's teardown drops the test database
    _end_other_threads_sessions(django_db_blocker)


def _end_other_threads_sessions(django_db_blocker) -> None:
    """End the sessions this process's other threads still hold on the test database (the async tests' thread, the
    threads socket messages ran on: Django closes a thread's connection only on that thread), which would keep
    pytest-django's teardown from dropping it ("being accessed by other users")."""
    connection = connections["default"]
    if connection.vendor != "postgresql":
        return
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                       "WHERE datname = current_database() AND pid <> pg_backend_pid()")


def prepare_roles(owner_alias: str) -> None:
    """The roles on the cluster of `owner_alias` (a migrated database, reached as its tables' owner), and the
    TRUNCATE that pytest-django's emptying of the tables between transactional tests needs (tests only)."""
    with _one_worker_at_a_time():  # roles are the cluster's: two xdist workers altering one at once collide
        call_command("row_security_roles", database=owner_alias, login=RESTRICTED["USER"],
                     password=RESTRICTED["PASSWORD"], verbosity=0)
    with connections[owner_alias].cursor() as cursor:
        cursor.execute(f'GRANT TRUNCATE ON ALL TABLES IN SCHEMA public TO "{RESTRICTED["USER"]}", '
                       f'"{settings.DB_ALL_COMPANIES_ROLE}"')


@contextmanager
def _one_worker_at_a_time():
    lock_path = Path(tempfile.gettempdir()) / f"docent-row-security-{RESTRICTED['USER']}.lock"
    with lock_path.open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _log_in_as(login: dict) -> None:
    connections["default"].close()
    connections["default"].settings_dict.update(login)


def _test_thread_sees_every_company(sender, connection, **kwargs):
    if connection.alias == "default" and connection.settings_dict["USER"] == RESTRICTED["USER"] and _on_a_test_thread():
        with connection.cursor() as cursor:
            cursor.execute(f'SET ROLE "{settings.DB_ALL_COMPANIES_ROLE}"')


def _on_a_test_thread() -> bool:
    """The test's own thread, or the one thread where an async test's ORM calls and `sync_to_async` run
    (asgiref's thread-sensitive executor); Docent's socket messages and answers run on threads of their own."""
    thread = threading.current_thread()
    return thread is threading.main_thread() or thread is _async_tests_thread()


@functools.cache
def _async_tests_thread() -> threading.Thread:
    """The thread-sensitive executor's one thread, asked of the thread itself. Its executor's set of threads
    will not do: the executor starts the thread, which may already be running the first task (and opening
    its connection) before the executor adds it to the set, so that connection would miss the role."""
    return SyncToAsync.single_thread_executor.submit(threading.current_thread).result()
