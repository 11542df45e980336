"""GET /api/analytics/dashboard and /api/analytics/chatbot/<id>: exact figures, live today, rolled-up days."""

import datetime
from collections import Counter
from decimal import Decimal

import pytest
from django.utils import timezone

from analytics import selectors, services
from analytics.aggregation import latency_bucket, percentile
from chat.models import Conversation, Message
from chatbots.models import Chatbot
from tests.clock import NOON
from tests.isolation import assert_foreign_404, assert_foreign_hidden

pytestmark = pytest.mark.usefixtures("at_noon")

TODAY = NOON.date()
D1, D2 = TODAY - datetime.timedelta(days=1), TODAY - datetime.timedelta(days=2)
PERIOD = f"from={D2}&to={TODAY}"
PRICES = "prices.pdf page 1"


def at(day: datetime.date, hour: int = 10) -> datetime.datetime:
    if day == TODAY:
        return timezone.now()  # today's rows are "just now", whatever the hour the suite runs
    return datetime.datetime.combine(day, datetime.time(hour), tzinfo=datetime.UTC)


def conversation(chatbot: Chatbot, day: datetime.date, visitor: str = "", *, when=None,
                 channel: str = "") -> Conversation:
    """A visitor's widget conversation, or a server's through the API without a visitor id."""
    return Conversation.objects.create(company=chatbot.company, chatbot=chatbot, chatbot_name=chatbot.name,
                                       channel=channel or ("widget" if visitor else "api"), visitor_id=visitor,
                                       created_at=when or at(day))


def exchange(conv: Conversation, question: str, *, latency: int, answered: bool = True, sources=(),
             feedback: str = "") -> Message:
    """A question and its answer, on the conversation's day; returns the answer."""
    when = conv.created_at
    common = {"conversation": conv, "company_id": conv.company_id, "chatbot_id": conv.chatbot_id}
    Message.objects.create(role="user", content=question, created_at=when, **common)
    return Message.objects.create(
        role="assistant", content="…", created_at=when, answered=answered, latency_ms=latency,
        prompt_tokens=100_000, completion_tokens=10_000, sources=list(sources), mode="openai",
        feedback=feedback, feedback_at=timezone.now() if feedback else None, **common)


def make_activity(company_a, company_b) -> tuple[Chatbot, Chatbot]:
    """Five exchanges of company A over three days with its chatbots Sales and Support, and company B's,
    which must never be counted."""
    sales = Chatbot.objects.create(company=company_a, name="Sales")
    support = Chatbot.objects.create(company=company_a, name="Support")
    first = conversation(sales, D2, "v1")
    exchange(first, "What is the price?", latency=100, sources=[PRICES], feedback="up")
    exchange(first, "  what is the PRICE ", latency=200, sources=[PRICES, "terms.pdf page 3"])
    exchange(conversation(sales, D1, "v2"), "Opening hours?", latency=300, answered=False, feedback="down")
    exchange(conversation(support, D1, "v1"), "What is the price ?", latency=400, sources=[PRICES])
    exchange(conversation(support, TODAY), "How do I reset my password?", latency=500)
    bolt = Chatbot.objects.create(company=company_b, name="Bolt bot")
    for day in (D2, D1, TODAY):
        exchange(conversation(bolt, day, "bolt-visitor"), "Bolt secret recipe?", latency=9000,
                 sources=["bolt-secrets.pdf page 9"], feedback="down")
    return sales, support


@pytest.fixture
def activity(company_a, company_b):
    return make_activity(company_a, company_b)


@pytest.fixture
def sales(activity):
    return activity[0]


@pytest.fixture
def support(activity):
    return activity[1]


def dashboard(client, query: str = PERIOD) -> dict:
    response = client.get(f"/api/analytics/dashboard?{query}")
    assert response.status_code == 200, response.content
    return response.json()


def test_it_counts_the_company_exactly(api_client, owner_a, activity):
    body = dashboard(api_client(owner_a))
    assert body["from"] == D2.isoformat() and body["to"] == TODAY.isoformat() and body["timezone"] == "UTC"
    assert body["totals"] == {
        "conversations": 4, "questions": 5, "answers": 5, "answered": 4, "unanswered": 1, "answered_rate": 0.8,
        "unique_visitors": 2, "latency_p50_ms": 300, "latency_p95_ms": 500,
        "prompt_tokens": 500_000, "completion_tokens": 50_000, "estimated_cost_usd": 0.105,
        "feedback_up": 1, "feedback_down": 1,
    }


def test_it_gives_the_series_per_utc_day(api_client, owner_a, activity):
    days = dashboard(api_client(owner_a))["days"]
    assert [(d["date"], d["conversations"], d["questions"], d["answered_rate"], d["latency_p50_ms"],
             d["latency_p95_ms"]) for d in days] == [
        (D2.isoformat(), 1, 2, 1.0, 100, 200),
        (D1.isoformat(), 2, 2, 0.5, 300, 400),
        (TODAY.isoformat(), 1, 1, 1.0, 500, 500),
    ]


def test_it_ranks_normalised_questions_and_cited_sources(api_client, owner_a, activity):
    body = dashboard(api_client(owner_a))
    assert body["top_questions"][0] == {"question": "what is the price", "count": 3}
    assert {q["question"] for q in body["top_questions"][1:]} == {"opening hours", "how do i reset my password"}
    assert body["top_sources"] == [{"source": PRICES, "count": 3}, {"source": "terms.pdf page 3", "count": 1}]


def test_it_breaks_the_figures_down_per_chatbot(api_client, owner_a, sales, support):
    rows = {row["name"]: row for row in dashboard(api_client(owner_a))["chatbots"]}
    assert set(rows) == {"Sales", "Support"}
    assert rows["Sales"]["id"] == str(sales.id)
    assert (rows["Sales"]["conversations"], rows["Sales"]["questions"], rows["Sales"]["answered_rate"],
            rows["Sales"]["unique_visitors"], rows["Sales"]["feedback_down"]) == (2, 3, 0.6667, 2, 1)
    assert (rows["Support"]["conversations"], rows["Support"]["questions"], rows["Support"]["unique_visitors"],
            rows["Support"]["latency_p50_ms"]) == (2, 2, 1, 400)


def test_a_deleted_chatbots_history_stays_counted(api_client, owner_a, sales):
    sales.delete()
    body = dashboard(api_client(owner_a))
    assert body["totals"]["questions"] == 5
    assert {row["name"]: row["questions"] for row in body["chatbots"]} == {"Support": 2, "Deleted chatbots": 3}
    deleted = next(row for row in body["chatbots"] if row["id"] is None)
    assert (deleted["unique_visitors"], deleted["feedback_up"], deleted["feedback_down"]) == (2, 1, 1)
    assert (body["totals"]["unique_visitors"], body["totals"]["feedback_down"]) == (2, 1)


def test_the_chatbot_endpoint_gives_one_chatbots_figures(api_client, member_a, support):
    response = api_client(member_a).get(f"/api/analytics/chatbot/{support.id}/?{PERIOD}")
    assert response.status_code == 200
    body = response.json()
    assert body["chatbot"] == {"id": str(support.id), "name": "Support"} and body["chatbots"] == []
    assert (body["totals"]["conversations"], body["totals"]["questions"], body["totals"]["unique_visitors"],
            body["totals"]["latency_p50_ms"], body["totals"]["latency_p95_ms"]) == (2, 2, 1, 400, 500)
    assert body["top_sources"] == [{"source": PRICES, "count": 1}]


def test_it_answers_404_for_another_companys_chatbot(outsider, sales):
    assert_foreign_404(outsider, "get", f"/api/analytics/chatbot/{sales.id}")


def test_the_dashboard_never_shows_another_companys_activity(api_client, owner_a, activity):
    assert_foreign_hidden(api_client(owner_a), f"/api/analytics/dashboard?{PERIOD}",
                          "Bolt", "bolt secret", "bolt-secrets.pdf", "9000")


def test_it_defaults_to_the_last_30_days(api_client, owner_a, activity):
    body = dashboard(api_client(owner_a), "")
    assert body["to"] == TODAY.isoformat() and len(body["days"]) == 30
    assert body["totals"]["questions"] == 5


@pytest.mark.parametrize("query, message", [
    ("from=2026-02-30", "`from` must be a date written YYYY-MM-DD."),
    ("to=yesterday", "`to` must be a date written YYYY-MM-DD."),
    ("from=2026-03-02&to=2026-03-01", "`from` must not be after `to`."),
    ("from=2025-01-01&to=2026-01-02", "A period covers at most 366 days."),
])
def test_it_refuses_a_bad_period(api_client, owner_a, query, message):
    response = api_client(owner_a).get(f"/api/analytics/dashboard?{query}")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_period"
    assert response.json()["error"]["message"] == message


def test_it_accepts_a_whole_year(api_client, owner_a):
    body = dashboard(api_client(owner_a), "from=2024-01-01&to=2024-12-31")
    assert len(body["days"]) == 366 and body["totals"]["conversations"] == 0


def test_a_rolled_up_day_equals_the_raw_aggregation(api_client, owner_a, activity):
    client = api_client(owner_a)
    live = dashboard(client)
    services.rollup_day(day=D2)
    services.rollup_day(day=D1)
    rolled = dashboard(client)
    assert (rolled["method"]["rolled_up_days"], rolled["method"]["live_days"]) == (2, 1)
    for figures in (live, rolled):
        del figures["method"]
    assert rolled == live


def test_a_message_added_today_shows_at_once(api_client, owner_a, support):
    client = api_client(owner_a)
    services.rollup_day(day=D1)
    before = dashboard(client)["totals"]
    exchange(conversation(support, TODAY, "v3"), "What is the price?", latency=600, sources=[PRICES])
    after = dashboard(client)
    assert after["totals"]["questions"] == before["questions"] + 1
    assert after["totals"]["unique_visitors"] == before["unique_visitors"] + 1
    assert after["top_questions"][0] == {"question": "what is the price", "count": 4}
    assert after["top_sources"][0] == {"source": PRICES, "count": 4}


def test_a_live_question_overtakes_the_rolled_up_leaders_exactly(api_client, owner_a, company_a):
    sales = Chatbot.objects.create(company=company_a, name="Sales")
    for n in range(12):  # twelve rolled-up questions: "question 0" to "question 10" twice, "rare" once
        chat = conversation(sales, D1, f"v{n}")
        for _ in range(1 if n == 11 else 2):
            exchange(chat, "rare" if n == 11 else f"question {n}", latency=100)
    services.rollup_day(day=D1)
    for _ in range(2):
        exchange(conversation(sales, TODAY), "Rare?", latency=100)
    top = dashboard(api_client(owner_a))["top_questions"]
    assert top[0] == {"question": "rare", "count": 3}
    assert len(top) == 10 and all(row["count"] == 2 for row in top[1:])


def ask(chatbot: Chatbot, day: datetime.date, questions: dict[str, int]) -> None:
    chat = conversation(chatbot, day, "v1")
    for question, times in questions.items():
        for _ in range(times):
            exchange(chat, question, latency=100)


@pytest.fixture
def two_leaders_a_day(monkeypatch):
    """The top two questions, from each chatbot's two most asked questions of a day, instead of ten
    from fifty: the same rule, on days small enough to write down."""
    monkeypatch.setattr(services, "LEADING_TERMS", 2)
    monkeypatch.setattr(selectors, "TOP_TERMS", 2)


def test_a_question_counts_whole_even_on_days_it_was_not_among_the_most_asked(api_client, owner_a, company_a,
                                                                               two_leaders_a_day):
    sales = Chatbot.objects.create(company=company_a, name="Sales")
    ask(sales, D2, {"alpha": 5, "steady": 4, "other": 1})
    ask(sales, D1, {"beta": 5, "gamma": 4, "steady": 3})  # steady is third here
    client = api_client(owner_a)
    live = dashboard(client)["top_questions"]
    services.rollup_day(day=D2)
    services.rollup_day(day=D1)
    assert dashboard(client)["top_questions"] == live
    assert live[0] == {"question": "steady", "count": 7} and live[1]["count"] == 5


def test_a_question_never_among_a_days_most_asked_can_top_the_period(api_client, owner_a, company_a,
                                                                      two_leaders_a_day):
    sales = Chatbot.objects.create(company=company_a, name="Sales")
    for day, (first, second) in ((D2, ("alpha", "beta")), (D1, ("gamma", "delta")), (TODAY, ("eta", "zeta"))):
        ask(sales, day, {first: 3, second: 3, "steady": 2})
    services.rollup_settled_days(since=D2, now=timezone.now() + services.SETTLING + datetime.timedelta(seconds=1))
    top = dashboard(api_client(owner_a))["top_questions"]
    assert top[0] == {"question": "steady", "count": 6} and top[1]["count"] == 3


def test_a_rating_given_after_the_roll_up_counts_at_once(api_client, owner_a, activity):
    services.rollup_day(day=D1)
    answer = Message.objects.get(role="assistant", answered=True, created_at__date=D1, company=owner_a.company)
    answer.feedback, answer.feedback_at = "up", timezone.now()
    answer.save()
    assert dashboard(api_client(owner_a))["totals"]["feedback_up"] == 2


def test_latency_percentiles_are_nearest_rank():
    histogram = Counter(range(1, 101))
    assert (percentile(histogram, 0.5), percentile(histogram, 0.95)) == (50, 95)
    assert percentile(Counter(), 0.5) is None


def test_latencies_keep_two_significant_digits():
    assert [latency_bucket(ms) for ms in (7, 99, 100, 1234, 1250, 1260, 25_049)] == [7, 99, 100, 1200, 1200,
                                                                                     1300, 25_000]


def test_estimated_cost_follows_the_price_settings(api_client, owner_a, activity, settings):
    settings.OPENAI_PRICE_PER_1M_PROMPT_TOKENS_USD = Decimal("2.50")
    settings.OPENAI_PRICE_PER_1M_COMPLETION_TOKENS_USD = Decimal("10")
    assert dashboard(api_client(owner_a))["totals"]["estimated_cost_usd"] == 1.75
