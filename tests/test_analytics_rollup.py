"""The daily roll-up: `rollup_analytics`, the task the dashboard queues, and re-rolling a day."""

import datetime
from io import StringIO

import pytest
from django.core.cache import cache
from django.core.management import CommandError, call_command
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from analytics import selectors, services
from analytics.aggregation import utc_day
from analytics.models import DailyStats, RolledUpDay
from tests.test_analytics_api import D1, D2, TODAY, conversation, dashboard, exchange, make_activity

pytestmark = pytest.mark.usefixtures("at_noon")


@pytest.fixture
def activity(company_a, company_b):
    return make_activity(company_a, company_b)


def test_rolling_a_day_up_again_replaces_its_figures(activity, company_a):
    services.rollup_day(day=D1)
    services.rollup_day(day=D1)
    assert sum(DailyStats.objects.filter(company=company_a, day=D1).values_list("questions", flat=True)) == 2


def test_days_are_rolled_up_to_ten_minutes_ago_and_only_once(activity):
    tomorrow = timezone.now() + datetime.timedelta(days=1)
    assert services.rollup_settled_days(since=D2, now=tomorrow) == [D2, D1, TODAY, utc_day(tomorrow)]
    assert services.rollup_settled_days(since=D2, now=tomorrow) == []
    until = RolledUpDay.objects.get(day=TODAY).until
    assert until == datetime.datetime.combine(TODAY + datetime.timedelta(days=1), datetime.time(), tzinfo=datetime.UTC)


def test_today_is_rolled_up_to_ten_minutes_ago_and_the_rest_counted_live(api_client, owner_a, activity):
    support = activity[1]
    live = dashboard(api_client(owner_a))
    later = timezone.now() + services.SETTLING + datetime.timedelta(seconds=1)
    services.rollup_settled_days(since=D2, now=later)
    assert RolledUpDay.objects.get(day=TODAY).until == later - services.SETTLING
    rolled = dashboard(api_client(owner_a))
    assert rolled["method"]["rolled_up_days"] == 3 and rolled["method"]["live_days"] == 1
    assert rolled["totals"] == live["totals"] and rolled["top_questions"] == live["top_questions"]
    chat = conversation(support, TODAY, "v7", when=later)  # after the roll-up's end: counted live
    exchange(chat, "What is the price?", latency=700)
    after = dashboard(api_client(owner_a))["totals"]
    assert (after["questions"], after["unique_visitors"]) == (live["totals"]["questions"] + 1, 3)


def test_the_dashboard_queues_a_roll_up_of_what_it_aggregated_live(api_client, owner_a, activity,
                                                                        django_capture_on_commit_callbacks):
    cache.clear()
    with django_capture_on_commit_callbacks(execute=True):
        dashboard(api_client(owner_a))
        dashboard(api_client(owner_a))
    assert DBTaskResult.objects.filter(task_path="analytics.tasks.rollup_analytics").count() == 1


def test_the_command_rolls_up_each_day_to_ten_minutes_ago(activity):
    out = StringIO()
    call_command("rollup_analytics", "--since", D2.isoformat(), stdout=out)
    assert {D2, D1} <= set(RolledUpDay.objects.values_list("day", flat=True))
    assert f"day(s): {D2} …" in out.getvalue()


def test_the_command_refuses_a_day_not_started(activity):
    with pytest.raises(CommandError, match="has not started yet"):
        call_command("rollup_analytics", "--day", (TODAY + datetime.timedelta(days=2)).isoformat())


def test_a_roll_up_committing_during_a_report_is_not_counted_twice(api_client, owner_a, activity, monkeypatch):
    expected = dashboard(api_client(owner_a))["totals"]
    services.rollup_day(day=TODAY, now=timezone.now() - datetime.timedelta(minutes=1))  # before today's exchange
    real_rolled_figures = selectors._rolled_figures
    calls = []

    def roll_up_first(*args):
        if not calls:  # today's roll-up moves on between the report's first query and this one
            services.rollup_day(day=TODAY, now=timezone.now() + services.SETTLING + datetime.timedelta(seconds=1))
        calls.append(args)
        return real_rolled_figures(*args)

    monkeypatch.setattr(selectors, "_rolled_figures", roll_up_first)
    assert dashboard(api_client(owner_a))["totals"] == expected
    assert len(calls) == 2
