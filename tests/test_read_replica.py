"""Analytics read from a real streaming replica; visitors and every write stay on the primary.

PostgreSQL only. The test database of the run cannot be replicated (the machine's cluster allows no
replication connections), so these tests serve the `default` alias from a primary of their own and
add a `replica` alias for its streaming standby (tests/replication.py), then put both back. They are
`transaction=True` tests: data a test rolls back would never reach a replica.
"""

import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from django.core.management import call_command
from django.db import DEFAULT_DB_ALIAS, connections
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import Company, User
from accounts.roles import Role
from analytics import services
from analytics.aggregation import utc_day
from analytics.models import DailyStats
from chat.models import Conversation, Message
from config import rls, routers
from config.routers import REPLICA, ReplicaBehind, await_replica
from tests import rowsecurity
from tests.chatting import LICENCE_QUESTION, WAREHOUSE, add_source, ask, bot, widget_key
from tests.replication import primary_and_replica
from tests.test_analytics_api import conversation, exchange

pytestmark = [
    pytest.mark.skipif(connections[DEFAULT_DB_ALIAS].vendor != "postgresql",
                       reason="streaming replication needs PostgreSQL: run with DATABASE_URL=postgres://…"),
    pytest.mark.django_db(transaction=True),
]

REPLAY_TIMEOUT = 10  # seconds; a local standby pauses within milliseconds


@contextmanager
def _serving(**aliases: dict) -> Iterator[None]:
    """Serve these database aliases from the given settings, then put back what served them before."""
    before = {alias: connections.settings.get(alias) for alias in aliases}
    _replace(aliases)
    try:
        yield
    finally:
        _replace(before)


def _replace(aliases: dict) -> None:
    for alias, config in aliases.items():
        if alias in connections.settings:
            connections[alias].close()
            del connections[alias]
            del connections.settings[alias]
        if config is not None:
            connections.settings[alias] = config


@pytest.fixture(scope="session")
def replication(django_db_setup, django_db_blocker):
    """A primary with Docent's schema and its streaming replica, for the whole session."""
    with primary_and_replica() as (primary, replica), django_db_blocker.unblock():
        as_owner = primary.database_settings(connections.settings[DEFAULT_DB_ALIAS])
        with _serving(default=as_owner):
            call_command("migrate", verbosity=0)  # the primary only: the replica replays it
        if rowsecurity.under_row_security():  # Docent's roles in this cluster too; the replica replays them
            with _serving(**{rls.OWNER: as_owner}):
                rowsecurity.prepare_roles(rls.OWNER)
                with connections[rls.OWNER].cursor() as cursor:  # the tests pause and resume the standby
                    cursor.execute(f'GRANT EXECUTE ON FUNCTION pg_wal_replay_pause(), pg_wal_replay_resume() '
                                   f'TO "{rowsecurity.RESTRICTED["USER"]}"')
        yield primary, replica


def _as_docent(cluster, template: dict) -> dict:
    """Settings reaching the cluster's database as Docent does: its restricted login under row-level security."""
    config = cluster.database_settings(template)
    return {**config, **rowsecurity.RESTRICTED} if rowsecurity.under_row_security() else config


@pytest.fixture
def replicated(transactional_db, replication):
    """`default` is the replicated primary and `replica` its standby during the test; emptied after it."""
    primary, replica = replication
    template = connections.settings[DEFAULT_DB_ALIAS]
    with _serving(default=_as_docent(primary, template), replica=_as_docent(replica, template)):
        # The test case admits the aliases that existed when it was set up, and refuses a later one
        # only when it opens its connection lazily: the replica's is opened here, before the test.
        connections[REPLICA].connect()
        yield
        _resume_replay()
        call_command("flush", interactive=False, reset_sequences=False, verbosity=0)


@pytest.fixture
def owner(replicated):
    company = Company.objects.create(name="Acme Analytics")
    return User.objects.create_user(email="owner@acme.test", password="x" * 20, name="owner", company=company,
                                    role=Role.OWNER)


@pytest.fixture
def staff(owner) -> APIClient:
    client = APIClient()
    client.force_login(owner)
    return client


def _one_value(alias: str, sql: str, params=()):
    with connections[alias].cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()[0]


def _pause_replay() -> None:
    _one_value(REPLICA, "SELECT pg_wal_replay_pause()::text")
    deadline = time.monotonic() + REPLAY_TIMEOUT
    while _one_value(REPLICA, "SELECT pg_get_wal_replay_pause_state()") != "paused":
        assert time.monotonic() < deadline, f"the replica did not pause within {REPLAY_TIMEOUT} s"
        time.sleep(0.02)


def _resume_replay() -> None:
    _one_value(REPLICA, "SELECT pg_wal_replay_resume()::text")


def _questions(client: APIClient) -> int:
    response = client.get("/api/analytics/dashboard")
    assert response.status_code == 200, response.content
    return response.json()["totals"]["questions"]


def _reads_of(queries: CaptureQueriesContext, table: str) -> list[str]:
    return [q["sql"] for q in queries.captured_queries if f'FROM "{table}"' in q["sql"]]


def test_the_dashboard_reads_the_chats_from_the_replica(owner, staff):
    chatbot = bot(owner.company)
    exchange(conversation(chatbot, utc_day(timezone.now()), "v1"), "What are your opening hours?", latency=120)
    await_replica()
    with CaptureQueriesContext(connections[REPLICA]) as on_replica, \
            CaptureQueriesContext(connections[DEFAULT_DB_ALIAS]) as on_primary:
        api_questions = _questions(staff)
        page = staff.get("/")
    assert api_questions == 1
    assert page.status_code == 200 and "what are your opening hours" in page.content.decode()
    assert _reads_of(on_replica, Message._meta.db_table) and _reads_of(on_replica, Conversation._meta.db_table)
    assert not _reads_of(on_primary, Message._meta.db_table)
    assert not _reads_of(on_primary, Conversation._meta.db_table)


def test_a_visitors_chat_is_written_to_the_primary_and_reaches_the_dashboard_through_the_replica(
        owner, staff, local_models):
    chatbot = bot(owner.company, add_source(owner.company, "handbook.pdf", WAREHOUSE))
    key = widget_key(chatbot)
    with CaptureQueriesContext(connections[REPLICA]) as on_replica:
        response = ask(APIClient(), chatbot, LICENCE_QUESTION, key=key)
    assert response.status_code == 200, response.content
    assert on_replica.captured_queries == []
    assert Message.objects.using(DEFAULT_DB_ALIAS).filter(company=owner.company, role="user").count() == 1
    await_replica()
    assert _questions(staff) == 1


def test_an_analytics_page_shows_the_replicas_older_figures_while_it_lags(owner, staff):
    chatbot = bot(owner.company)
    today = utc_day(timezone.now())
    exchange(conversation(chatbot, today, "v1"), "What are your opening hours?", latency=120)
    await_replica()
    _pause_replay()
    exchange(conversation(chatbot, today, "v2"), "Do you ship abroad?", latency=150)
    page = staff.get(f"/chatbots/{chatbot.id}/analytics/")
    assert page.status_code == 200 and "do you ship abroad" not in page.content.decode()
    assert _questions(staff) == 1
    _resume_replay()
    await_replica()
    assert _questions(staff) == 2


def test_the_rollup_reads_the_chats_from_the_replica_and_stores_its_figures_on_the_primary(owner):
    chatbot = bot(owner.company)
    settled = timezone.now() - 2 * services.SETTLING
    exchange(conversation(chatbot, utc_day(settled), "v1", when=settled), "Opening hours?", latency=120)
    await_replica()
    with CaptureQueriesContext(connections[REPLICA]) as on_replica:
        services.rollup_day(day=utc_day(settled))
    assert _reads_of(on_replica, Message._meta.db_table)
    assert DailyStats.objects.using(DEFAULT_DB_ALIAS).get(chatbot=chatbot, console=False).questions == 1


def test_the_rollup_waits_for_a_lagging_replica_and_changes_nothing_if_it_stays_behind(owner, monkeypatch):
    monkeypatch.setattr(routers, "REPLICA_CATCH_UP_SECONDS", 0.3)
    chatbot = bot(owner.company)
    settled = timezone.now() - 2 * services.SETTLING
    exchange(conversation(chatbot, utc_day(settled), "v1", when=settled), "Opening hours?", latency=120)
    await_replica()
    services.rollup_day(day=utc_day(settled))
    _pause_replay()
    exchange(conversation(chatbot, utc_day(settled), "v2", when=settled), "Do you ship abroad?", latency=150)
    with pytest.raises(ReplicaBehind):
        services.rollup_day(day=utc_day(settled))
    assert DailyStats.objects.get(chatbot=chatbot, console=False).questions == 1
    _resume_replay()
    services.rollup_day(day=utc_day(settled))
    assert DailyStats.objects.get(chatbot=chatbot, console=False).questions == 2
