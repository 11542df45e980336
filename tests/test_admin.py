import pytest
from django.contrib import admin

from chatbots.models import Chatbot, ChatbotDataSource
from datasources.models import DataSource
from integrations.models import Integration

PROJECT_APPS = {"accounts", "datasources", "chatbots", "integrations", "chat", "analytics"}
ADMIN_URLS = [
    f"/admin/{model._meta.app_label}/{model._meta.model_name}/" for model in admin.site._registry
    if model._meta.app_label in PROJECT_APPS
]


@pytest.fixture
def populated(owner_a):
    source = DataSource.objects.create(name="report.pdf", type="pdf", company=owner_a.company)
    bot = Chatbot.objects.create(name="Helper", company=owner_a.company)
    ChatbotDataSource.objects.create(chatbot=bot, data_source=source)
    Integration.objects.create(chatbot=bot, type="widget", api_key="pk_test_1", company=owner_a.company)
    return source


def test_every_project_model_is_registered_in_admin():
    registered = set(admin.site._registry)
    for model in [DataSource, Chatbot, Integration]:
        assert model in registered


@pytest.mark.parametrize("url", ADMIN_URLS)
def test_a_superuser_opens_each_admin_list_with_search_and_add_page(superuser, populated, client, url):
    client.force_login(superuser)
    assert client.get(url).status_code == 200
    assert client.get(url, {"q": "acme"}).status_code == 200
    model_admin = next(a for m, a in admin.site._registry.items() if url.endswith(f"/{m._meta.model_name}/"))
    can_add = model_admin.has_add_permission(client.get(url).wsgi_request)
    assert client.get(url + "add/").status_code == (200 if can_add else 403)


def test_company_staff_cannot_open_admin(owner_a, client):
    client.force_login(owner_a)
    response = client.get("/admin/")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_a_superuser_creates_a_user_in_admin(superuser, company_a, client):
    client.force_login(superuser)
    response = client.post("/admin/accounts/user/add/", {
        "email": "new@acme.test", "company": company_a.pk, "role": "member", "usable_password": "true",
        "password1": "a-long-enough-passphrase", "password2": "a-long-enough-passphrase",
    })
    assert response.status_code == 302, response.content.decode()[:2000]
    from accounts.models import User

    assert User.objects.get(email="new@acme.test").company == company_a
