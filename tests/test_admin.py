import pytest
from django.contrib import admin

from chatbots.models import Chatbot, ChatbotDataSource
from datasources.models import DataSource
from integrations.models import Integration

PROJECT_APPS = {"accounts", "datasources", "chatbots", "integrations", "chat", "analytics", "webhooks"}
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


def test_the_reprocess_action_queues_the_selected_data_sources(superuser, populated, client,
                                                                django_capture_on_commit_callbacks):
    from django_tasks_db.models import DBTaskResult

    DataSource.objects.filter(pk=populated.pk).update(status="error", error_message="boom")
    client.force_login(superuser)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/admin/datasources/datasource/",
                               {"action": "reprocess", "_selected_action": [populated.pk]})
    assert response.status_code == 302
    populated.refresh_from_db()
    assert populated.status == "processing" and populated.error_message == ""
    assert DBTaskResult.objects.count() == 1


def test_the_extract_again_action_queues_ready_data_sources_and_keeps_them_ready(superuser, populated, client):
    from django_tasks_db.models import DBTaskResult

    DataSource.objects.filter(pk=populated.pk).update(status="ready")
    client.force_login(superuser)
    response = client.post("/admin/datasources/datasource/",
                           {"action": "extract_again", "_selected_action": [populated.pk]})
    assert response.status_code == 302
    populated.refresh_from_db()
    assert populated.status == "ready"  # still searched until its new chunks are in
    [task] = DBTaskResult.objects.all()
    assert task.task_path.endswith("refresh_data_source") and task.args_kwargs["args"] == [str(populated.pk)]


def test_chunks_are_read_only_in_admin(superuser, client):
    from datasources.admin import ChunkAdmin

    request = client.get("/").wsgi_request
    request.user = superuser
    chunk_admin = ChunkAdmin(admin.site._registry[DataSource].model, admin.site)
    assert not chunk_admin.has_add_permission(request)
    assert not chunk_admin.has_change_permission(request)
