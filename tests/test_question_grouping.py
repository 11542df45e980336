"""One rule decides which questions are the same (chat.questions): the Unanswered page, the dashboard's
Top questions and the stored roll-ups count them alike, and every word counts, negations included."""

import html
import importlib
import re
import unicodedata

import pytest
from django.apps import apps
from django.test import Client

from analytics import services
from chatbots.models import Chatbot
from tests.test_analytics_api import D1, TODAY, conversation, dashboard, exchange

pytestmark = pytest.mark.usefixtures("at_noon")

# One question, typed four ways: case, spacing, punctuation, a phone's apostrophe, full-width letters.
SHIPPING = ["Don't you ship abroad?", "¿don’t you ship ABROAD", "ＤＯＮ'Ｔ you ship abroad!",
            "  don't   you ship abroad. "]
NEGATION_PAIR = ["Can I return it?", "Can I not return it?"]
GROUPED = {"don't you ship abroad": 4, "can i return it": 1, "can i not return it": 1}


@pytest.fixture
def shop(company_a):
    return Chatbot.objects.create(company=company_a, name="Shop")


def ask_unanswered(chatbot: Chatbot, day, questions: list[str]) -> None:
    for visitor, question in enumerate(questions):
        exchange(conversation(chatbot, day, f"v{visitor}"), question, latency=100, answered=False)


def top_questions(api_client, user) -> dict[str, int]:
    return {row["question"]: row["count"] for row in dashboard(api_client(user))["top_questions"]}


def unanswered_page(user, chatbot: Chatbot) -> dict[str, int]:
    """The Unanswered page's list: each question as last asked, and how many times it was."""
    client = Client()
    client.force_login(user)
    page = client.get(f"/chatbots/{chatbot.id}/unanswered/").content.decode()
    return {html.unescape(question): int(times) for question, times in
            re.findall(r'<strong>(.*?)</strong>\s*<span class="muted">asked (\d+) time', page)}


def test_the_unanswered_page_and_top_questions_count_the_same_questions(api_client, owner_a, shop):
    ask_unanswered(shop, TODAY, SHIPPING + NEGATION_PAIR)
    assert top_questions(api_client, owner_a) == GROUPED
    listed = unanswered_page(owner_a, shop)
    assert sorted(listed.values()) == sorted(GROUPED.values())
    assert listed["Can I return it?"] == listed["Can I not return it?"] == 1


def _analytics_rule_before_issue_12(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split()).strip(" \t\n?!.,;:¿¡\"'")[:300]


def test_days_rolled_up_with_the_earlier_rule_are_counted_again_with_the_one_rule(api_client, owner_a, shop,
                                                                                  monkeypatch):
    ask_unanswered(shop, D1, SHIPPING + NEGATION_PAIR)
    with monkeypatch.context() as earlier:
        earlier.setattr("analytics.aggregation.normalized_question", _analytics_rule_before_issue_12)
        services.rollup_day(day=D1)
    assert top_questions(api_client, owner_a)["don't you ship abroad"] == 3  # the phone's apostrophe apart

    importlib.import_module("analytics.migrations.0003_questions_grouped_by_the_one_normaliser"
                            ).forget_rolled_up_days(apps, None)
    assert top_questions(api_client, owner_a) == GROUPED
    services.rollup_settled_days(since=D1)
    body = dashboard(api_client(owner_a))
    assert body["method"]["rolled_up_days"] >= 1
    assert {row["question"]: row["count"] for row in body["top_questions"]} == GROUPED
