"""The improve-answer loop: a question the documents cannot answer is listed; staff write the answer;
it becomes the chatbot's Q&A data source, processed by the pipeline; the next visitor gets it."""

import pytest
from django.test import Client

from chat.models import ImprovedAnswer
from datasources.models import DataSource
from tests.chatting import ask, widget_key
from tests.ingestion import run_worker
from tests.isolation import assert_foreign_404

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("local_models")]

CANTEEN = "Where is the staff canteen?"


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def page(client, chatbot) -> str:
    response = client.get(f"/chatbots/{chatbot.id}/unanswered/")
    assert response.status_code == 200
    return response.content.decode()


def test_a_staff_answer_reaches_the_next_visitor(client, admin_a, handbook_bot):
    key = widget_key(handbook_bot)
    for _ in range(2):
        assert ask(client, handbook_bot, CANTEEN, key=key).json()["answered"] is False
    ask(client, handbook_bot, "where is the staff canteen", key=key)
    staff = logged_in(admin_a)
    listing = page(staff, handbook_bot)
    assert "staff canteen" in listing and "asked 3 times" in listing  # one question, however it was typed

    response = staff.post(f"/chatbots/{handbook_bot.id}/unanswered/",
                          {"question": CANTEEN, "answer": "The canteen is on the second floor, next to bay 4."})
    assert response.status_code == 302
    qa = DataSource.objects.get(name=f"Q&A · {handbook_bot.name}.md")
    assert qa.type == "md" and qa.status == "processing" and handbook_bot.data_sources.filter(pk=qa.pk).exists()
    run_worker()
    qa.refresh_from_db()
    assert qa.status == "ready", qa.error_message

    answer = ask(client, handbook_bot, "Where can I find the staff canteen?", key=key).json()
    assert answer["answered"] is True and "second floor" in answer["response"]
    assert answer["sources"][0].startswith(f"Q&A · {handbook_bot.name}.md")
    assert CANTEEN not in page(staff, handbook_bot).split("Answers you wrote")[0]


def test_a_second_answer_rebuilds_the_same_qa_data_source(admin_a, handbook_bot):
    staff = logged_in(admin_a)
    for question, text in ((CANTEEN, "Second floor."), ("Is there parking?", "Yes, behind bay 6.")):
        staff.post(f"/chatbots/{handbook_bot.id}/unanswered/", {"question": question, "answer": text})
    run_worker()
    [qa] = DataSource.objects.filter(name__startswith="Q&A")
    assert qa.status == "ready" and qa.chunk_count >= 1
    assert set(ImprovedAnswer.objects.values_list("data_source", flat=True)) == {qa.id}


def test_an_empty_answer_is_refused_with_a_reason(admin_a, handbook_bot):
    response = logged_in(admin_a).post(f"/chatbots/{handbook_bot.id}/unanswered/", {"question": CANTEEN,
                                                                                    "answer": "  "})
    assert response.status_code == 400 and "Write the answer" in response.content.decode()
    assert not ImprovedAnswer.objects.exists()


def test_another_company_cannot_see_or_answer(owner_b, handbook_bot):
    staff = logged_in(owner_b)
    assert_foreign_404(staff, "get", f"/chatbots/{handbook_bot.id}/unanswered/")
    assert_foreign_404(staff, "post", f"/chatbots/{handbook_bot.id}/unanswered/", data={"question": "Q",
                                                                                       "answer": "A"})
    assert not ImprovedAnswer.objects.exists()
