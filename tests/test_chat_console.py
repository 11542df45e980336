"""The test console page: staff of the chatbot's company only."""

import pytest
from django.test import Client

from chatbots.models import Chatbot
from datasources.models import DataSource
from tests.isolation import assert_foreign_404


@pytest.fixture
def chatbot(company_a):
    return Chatbot.objects.create(company=company_a, name="Support <bot>")


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_every_role_of_the_company_opens_the_console(member_a, chatbot):
    response = logged_in(member_a).get(f"/chatbots/{chatbot.id}/console/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "Test console · Support &lt;bot&gt;" in body and f'data-chatbot="{chatbot.id}"' in body
    assert "no ready data source" in body  # says why every answer would be the fallback


def test_the_console_stops_warning_once_a_data_source_is_ready(member_a, chatbot):
    processing = DataSource.objects.create(company=chatbot.company, name="a.pdf", type="pdf")
    chatbot.data_sources.add(processing)
    assert "no ready data source" in logged_in(member_a).get(f"/chatbots/{chatbot.id}/console/").content.decode()
    chatbot.data_sources.add(DataSource.objects.create(company=chatbot.company, name="b.pdf", type="pdf",
                                                       status=DataSource.Status.READY))
    assert "no ready data source" not in logged_in(member_a).get(f"/chatbots/{chatbot.id}/console/").content.decode()


def test_another_companys_staff_get_404(owner_b, chatbot):
    assert_foreign_404(logged_in(owner_b), "get", f"/chatbots/{chatbot.id}/console/")


def test_visitors_who_are_not_logged_in_are_sent_to_log_in(client, chatbot):
    response = client.get(f"/chatbots/{chatbot.id}/console/")
    assert response.status_code == 302 and "/login" in response["Location"]
