from django.test import Client

from tests.isolation import assert_foreign_hidden


def test_api_me_shows_only_the_requesters_company(owner_a, outsider):
    response = assert_foreign_hidden(outsider, "/api/me", "Acme Analytics", str(owner_a.company_id))
    assert response.json()["company"]["name"] == "Bolt Brewing"


def test_api_company_shows_only_the_requesters_company(owner_a, outsider):
    response = assert_foreign_hidden(outsider, "/api/company", "Acme Analytics", str(owner_a.company_id))
    assert response.json()["name"] == "Bolt Brewing"


def test_dashboard_pages_show_only_the_requesters_company(owner_a, owner_b):
    client = Client()
    client.force_login(owner_b)
    for path in ["/", "/settings/company/"]:
        response = assert_foreign_hidden(client, path, "Acme Analytics")
        assert "Bolt Brewing" in response.content.decode()


def test_a_new_company_is_pointed_to_its_first_upload(owner_a):
    client = Client()
    client.force_login(owner_a)
    page = client.get("/").content.decode()
    assert "Start with your documents" in page and 'href="/files/"' in page
