"""The overview page's key numbers, charts and latest conversations, and a chatbot's analytics page."""

import pytest

from chatbots.models import Chatbot
from datasources.models import DataSource
from tests.isolation import assert_foreign_404, assert_foreign_hidden
from tests.test_analytics_api import TODAY, conversation, exchange, make_activity

pytestmark = pytest.mark.usefixtures("at_noon")


@pytest.fixture
def activity(company_a, company_b):
    return make_activity(company_a, company_b)


def test_the_overview_shows_the_key_numbers_charts_table_and_latest_conversations(api_client, owner_a, activity):
    response = api_client(owner_a).get("/")
    body = response.content.decode()
    assert response.status_code == 200
    assert 'aria-label="Key numbers, last 30 days"' in body and ">5</span><span class=\"stat-label\">questions" in body
    assert "80%" in body and "300 ms" in body  # answered rate, median answer time
    assert body.count("<canvas") == 3 and 'id="analytics-days"' in body and "chart.umd.js" in body
    assert "<table>" in body and f'"date": "{TODAY.isoformat()}"' in body
    first = owner_a.company.conversations.order_by("-created_at").first()
    assert f'href="/conversations/{first.pk}/"' in body
    assert "how do i reset my password" in body  # top questions
    assert f'href="/chatbots/{activity[1].id}/analytics/">Support</a>' in body  # per chatbot
    assert "No conversations in the last 30 days" not in body


def test_the_overview_never_shows_another_companys_activity(api_client, owner_a, activity):
    assert_foreign_hidden(api_client(owner_a), "/", "Bolt secret", "bolt-secrets.pdf", "Bolt bot")


def test_without_conversations_the_overview_says_what_to_do_next(api_client, owner_a, company_a):
    DataSource.objects.create(company=company_a, name="handbook.pdf", type="pdf", status="ready")
    Chatbot.objects.create(company=company_a, name="Helper")
    body = api_client(owner_a).get("/").content.decode()
    assert "No conversations in the last 30 days" in body and "Your chatbots" in body
    assert "<canvas" not in body and "Latest conversations" not in body


def test_a_new_company_is_told_to_upload_documents_first(api_client, owner_a):
    body = api_client(owner_a).get("/").content.decode()
    assert "Start with your documents" in body and "<canvas" not in body


def test_a_chatbots_analytics_page_shows_its_own_figures(api_client, member_a, activity):
    support = activity[1]
    body = api_client(member_a).get(f"/chatbots/{support.id}/analytics/").content.decode()
    assert "Analytics · Support" in body and ">2</span><span class=\"stat-label\">questions" in body
    assert "opening hours" not in body  # asked to Sales


@pytest.mark.parametrize("with_data", [True, False])
def test_a_chatbot_without_conversations_gets_next_steps(api_client, owner_a, company_a, with_data):
    chatbot = Chatbot.objects.create(company=company_a, name="Quiet")
    if with_data:
        exchange(conversation(chatbot, TODAY, "v9"), "Anyone there?", latency=50)
    body = api_client(owner_a).get(f"/chatbots/{chatbot.id}/analytics/").content.decode()
    assert ("No conversations in the last 30 days" in body) is not with_data
    assert ("anyone there" in body) is with_data


def test_another_companys_chatbot_analytics_page_is_404(outsider, activity):
    assert_foreign_404(outsider, "get", f"/chatbots/{activity[0].id}/analytics/")


@pytest.mark.parametrize("answers, embedding, said", [
    ("extractive", "local", ["Quoted from the best passages", "By the meaning and the words"]),
    ("openai", "none", ["Written by a language model", "By the words of the question only"]),
])
def test_the_overview_says_how_chatbots_answer_in_staff_words(api_client, owner_a, settings, answers, embedding,
                                                               said):
    settings.ANSWER_BACKEND, settings.EMBEDDING_BACKEND = answers, embedding
    settings.OPENAI_CHAT_MODEL, settings.OPENAI_API_KEY = "gpt-test", "sk-test"
    body = api_client(owner_a).get("/").content.decode()
    assert "How your chatbots answer" in body and all(words in body for words in said)
    for developer_word in ["Engines", "Channellayer", "Vectorindex", "local-memory", "in-memory", "sqlite"]:
        assert developer_word not in body, developer_word
