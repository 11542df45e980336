"""Test-console chats are staff trying a chatbot out: analytics leaves them out unless asked to count them,
on the API and on the dashboard, live and rolled up alike."""

import importlib

import pytest
from django.apps import apps

from analytics import services
from analytics.aggregation import day_bounds, raw_figures
from analytics.models import DailyStats, DailyTerm
from tests.test_analytics_api import D1, D2, PERIOD, TODAY, conversation, dashboard, exchange, make_activity

pytestmark = pytest.mark.usefixtures("at_noon")

TRIED_OUT = "does the console count"


@pytest.fixture
def activity(company_a, company_b):
    """make_activity's visitors, and staff trying the Sales chatbot out in the test console on D1 and today."""
    sales, support = make_activity(company_a, company_b)
    for day in (D1, TODAY):
        exchange(conversation(sales, day, channel="console"), TRIED_OUT, latency=9000, feedback="down")
    return sales, support


def counted(body: dict) -> tuple:
    totals = body["totals"]
    return totals["conversations"], totals["questions"], totals["latency_p95_ms"], totals["feedback_down"]


def test_the_dashboard_leaves_test_console_chats_out(api_client, owner_a, activity):
    body = dashboard(api_client(owner_a))
    assert counted(body) == (4, 5, 500, 1) and body["include_console"] is False
    assert TRIED_OUT not in [row["question"] for row in body["top_questions"]]
    sales = next(row for row in body["chatbots"] if row["name"] == "Sales")
    assert (sales["conversations"], sales["questions"]) == (2, 3)


def test_include_console_counts_them(api_client, owner_a, activity):
    body = dashboard(api_client(owner_a), f"{PERIOD}&include_console=true")
    assert counted(body) == (6, 7, 9000, 3) and body["include_console"] is True
    assert {"question": TRIED_OUT, "count": 2} in body["top_questions"]


def test_a_chatbots_figures_leave_them_out_too(api_client, owner_a, activity):
    sales = activity[0]
    url = f"/api/analytics/chatbot/{sales.id}?{PERIOD}"
    assert api_client(owner_a).get(url).json()["totals"]["conversations"] == 2
    assert api_client(owner_a).get(f"{url}&include_console=true").json()["totals"]["conversations"] == 4


def test_rolled_up_days_keep_console_chats_apart(api_client, owner_a, activity):
    client = api_client(owner_a)
    live = [dashboard(client, f"{PERIOD}&include_console={flag}") for flag in ("false", "true")]
    services.rollup_settled_days(since=D2)
    rolled = [dashboard(client, f"{PERIOD}&include_console={flag}") for flag in ("false", "true")]
    assert DailyStats.objects.filter(day=D1, console=True).exists()
    assert DailyTerm.objects.filter(day=D1, console=True, term=TRIED_OUT).exists()
    for figures in live + rolled:
        del figures["method"]
    assert rolled == live


def test_it_refuses_an_include_console_that_is_not_a_boolean(api_client, owner_a):
    response = api_client(owner_a).get("/api/analytics/dashboard?include_console=maybe")
    assert response.status_code == 400 and response.json()["error"]["code"] == "invalid"


def test_days_rolled_up_before_are_rolled_up_again_without_the_console(api_client, owner_a, activity, company_a):
    """What a roll-up stored before test-console chats were kept apart: every chat in one row."""
    start, end = day_bounds(D1, D1)
    services.rollup_day(day=D1)
    DailyStats.objects.filter(day=D1).delete()
    DailyTerm.objects.filter(day=D1).delete()
    services._store_day(company_a.id, D1, False, raw_figures(company_id=company_a.id, start=start, end=end))
    assert counted(dashboard(api_client(owner_a)))[0] == 5  # the past figure, console included

    importlib.import_module("analytics.migrations.0004_test_console_chats_apart").forget_rolled_up_days(apps, None)
    assert counted(dashboard(api_client(owner_a)))[0] == 4
    services.rollup_settled_days(since=D2)
    assert counted(dashboard(api_client(owner_a)))[0] == 4


def test_the_overview_page_leaves_them_out_with_a_link_to_count_them(api_client, owner_a, activity):
    client = api_client(owner_a)
    page = client.get("/").content.decode()
    assert ">4</span><span class=\"stat-label\">conversations" in page and TRIED_OUT not in page
    assert "test-console chats are left out" in page and 'href="?include_console=true"' in page
    page = client.get("/?include_console=true").content.decode()
    assert ">6</span><span class=\"stat-label\">conversations" in page and TRIED_OUT in page
    assert "Test-console chats included" in page
