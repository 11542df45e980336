"""PostgreSQL row-level security, the second wall (config.rls): whatever a query forgets to filter, the database
admits only the rows of the company the request, task or socket message acts for, and none without one.

These run in the PostgreSQL pass, which works under the wall (tests/rowsecurity.py)."""

import threading

import pytest
from django.db import DatabaseError, connection
from django.http import JsonResponse
from django.urls import include, path, reverse

from accounts.models import Company, User
from accounts.scoping import request_company
from chatbots.models import Chatbot
from config import rls
from datasources.models import DataSource
from datasources.tasks import data_source_company
from tests.conftest import PASSWORD

pytestmark = pytest.mark.skipif(not rls.enforced(), reason="row-level security: PostgreSQL with DB_ALL_COMPANIES_ROLE")


def careless_view(request):
    """What a view that forgot its company filter would read, once the scoping knows the caller."""
    if request.user.is_authenticated:
        request_company(request)
    return JsonResponse({"orm": sorted(DataSource.objects.values_list("name", flat=True)),
                         "sql": _names_by_sql(),
                         "people": sorted(User.objects.values_list("email", flat=True)),
                         "companies": sorted(Company.objects.values_list("name", flat=True))})


urlpatterns = [path("careless/", careless_view), path("", include("config.urls"))]


def _names_by_sql() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM data_sources ORDER BY name")
        return [name for (name,) in cursor.fetchall()]


@pytest.fixture
def two_companies_files(company_a, company_b):
    return (DataSource.objects.create(company=company_a, name="acme-prices.pdf", type="pdf"),
            DataSource.objects.create(company=company_b, name="bolt-recipes.pdf", type="pdf"))


def test_docent_logs_in_as_a_role_that_owns_no_table_and_bypasses_nothing(db):
    with connection.cursor() as cursor:
        cursor.execute("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = session_user")
        assert cursor.fetchone() == (False, False)
        cursor.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tableowner = session_user")
        assert cursor.fetchone() == (0,)


@pytest.mark.urls(__name__)
def test_an_unscoped_query_in_a_request_returns_only_the_requesters_company(client, owner_a, member_a, owner_b,
                                                                            two_companies_files):
    client.force_login(owner_a)

    read = client.get("/careless/").json()

    assert read == {"orm": ["acme-prices.pdf"], "sql": ["acme-prices.pdf"],
                    "people": ["member@acme.test", "owner@acme.test"], "companies": ["Acme Analytics"]}


@pytest.mark.urls(__name__)
def test_a_request_with_no_company_reads_nothing(client, owner_b, two_companies_files):
    assert client.get("/careless/").json() == {"orm": [], "sql": [], "people": [], "companies": []}


@pytest.mark.urls(__name__)
def test_a_signed_in_account_without_a_company_reads_its_own_row_only(client, owner_b, two_companies_files):
    removed = User.objects.create_user(email="former@acme.test", password=PASSWORD, name="Former", company=None)
    client.force_login(removed)

    read = client.get("/careless/").json()

    assert read == {"orm": [], "sql": [], "people": ["former@acme.test"], "companies": []}


@pytest.mark.urls(__name__)
def test_signing_in_with_email_and_password_works_behind_the_wall(client, owner_a, owner_b):
    response = client.post(reverse("login"), {"email": "owner@acme.test", "password": PASSWORD})

    assert response.status_code == 302
    assert client.get("/careless/").json()["people"] == ["owner@acme.test"]


def test_a_company_cannot_write_a_row_of_another(company_a, company_b):
    with pytest.raises(DatabaseError, match="row-level security"), rls.company_transaction(company_a.pk):
        Chatbot.objects.create(company=company_b, name="Planted bot")


@pytest.mark.django_db(transaction=True)
def test_a_task_for_one_company_cannot_read_another(two_companies_files):
    acme_file, bolt_file = two_companies_files
    seen = {}

    def worker():  # a task worker's thread: a connection of its own, logged in as Docent
        try:
            with data_source_company(str(acme_file.pk)):
                seen["orm"] = list(DataSource.objects.values_list("name", flat=True))
                seen["sql"] = _names_by_sql()
                seen["renamed"] = DataSource.objects.filter(pk=bolt_file.pk).update(name="taken over")
        finally:
            connection.close()

    thread = threading.Thread(target=worker)
    thread.start()
    thread.join()

    assert seen == {"orm": ["acme-prices.pdf"], "sql": ["acme-prices.pdf"], "renamed": 0}
    bolt_file.refresh_from_db()
    assert bolt_file.name == "bolt-recipes.pdf"


def test_only_the_listed_ways_go_around_the_wall(db):
    with pytest.raises(TypeError, match="not one of the ways around"), rls.dangerously_all_companies("migrations"):
        pass
