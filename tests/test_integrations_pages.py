"""The dashboard's integrations page and API keys page, the account menu link, and the admin."""

import re

import pytest
from django.test import Client

from accounts import services as key_services
from accounts.models import CompanyApiKey
from accounts.selectors import company_api_key
from chatbots.models import Chatbot
from config.errors import ApiError
from integrations import access, services
from integrations.models import Integration
from tests.isolation import assert_foreign_404, assert_foreign_hidden


@pytest.fixture
def chatbot(company_a):
    return Chatbot.objects.create(name="Helpdesk", company=company_a)


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def page(user, path) -> str:
    response = logged_in(user).get(path)
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def integrations_page(user, chatbot) -> str:
    return page(user, f"/chatbots/{chatbot.id}/integrations/")


# A chatbot's integrations page

def test_the_page_shows_the_widget_snippet_of_a_new_chatbot_with_a_copy_button(owner_a, chatbot):
    html = integrations_page(owner_a, chatbot)
    widget = Integration.objects.get(chatbot=chatbot, type="widget")
    assert (f"&lt;script src=&quot;http://testserver/api/widget/{chatbot.id}&quot; "
            f"data-key=&quot;{widget.api_key}&quot; async&gt;&lt;/script&gt;") in html
    assert f'data-copy="snippet-{widget.id}-script"' in html and f'id="snippet-{widget.id}-script"' in html
    assert "No site yet: only Docent's own pages may use this key" in html
    assert "Never used" in html
    assert "js/integrations.js" in html


def test_a_new_chatbot_offers_the_script_the_iframe_and_a_curl_call(owner_a, chatbot):
    html = integrations_page(owner_a, chatbot)
    widget = Integration.objects.get(chatbot=chatbot, type="widget")
    assert f'id="snippet-{widget.id}-script"' in html
    assert (f"&lt;iframe src=&quot;http://testserver/api/embed/{chatbot.id}?key={widget.api_key}&quot;"
            in html) and f'data-copy="snippet-{widget.id}-iframe"' in html
    assert "curl -X POST http://testserver/api/chat" in html and "Bearer $DOCENT_API_KEY" in html
    assert 'href="?add=api#add-title"' in html
    assert not Integration.objects.filter(chatbot=chatbot, type="api").exists()


def test_the_create_a_secret_key_link_preselects_an_api_integration(owner_a, chatbot):
    html = page(owner_a, f"/chatbots/{chatbot.id}/integrations/?add=api")
    assert '<option value="api" selected>' in html
    assert not Integration.objects.filter(chatbot=chatbot, type="api").exists()


def test_members_see_the_curl_call_but_no_link_to_create_a_key(member_a, chatbot):
    html = integrations_page(member_a, chatbot)
    assert "Bearer $DOCENT_API_KEY" in html and "?add=api" not in html


def test_owners_get_the_origins_editor_and_key_actions_with_confirmations(owner_a, chatbot):
    services.ensure_widget_integration(chatbot=chatbot)
    services.integration_update(integration=Integration.objects.get(), settings={"allowed_origins": [
        "https://shop.example.com", "https://www.example.org"]})
    html = integrations_page(owner_a, chatbot)
    textarea = re.search(r'<textarea id="origins-[^>]*>(.*?)</textarea>', html, re.S).group(1)
    assert textarea.split() == ["https://shop.example.com", "https://www.example.org"]
    for action in ["rotate", "revoke", "delete"]:
        assert re.search(rf'data-action="{action}"[^>]*data-confirm="[^"]+"', html), action
    assert 'id="add-title"' in html and '<option value="api">' in html and '<option value="widget">' not in html


def test_members_read_snippets_but_get_no_management_controls(member_a, chatbot):
    html = integrations_page(member_a, chatbot)
    assert "data-key=&quot;dct_pk_" in html
    assert 'data-action="rotate"' not in html and "<textarea" not in html and 'id="add-title"' not in html


def test_the_page_never_shows_an_api_secret(owner_a, chatbot):
    secret = services.integration_save(chatbot=chatbot, type="api").secret
    html = integrations_page(owner_a, chatbot)
    assert secret not in html
    assert Integration.objects.get(type="api").key_preview in html
    assert "$DOCENT_API_KEY" in html


def test_a_revoked_integration_says_so_and_offers_no_snippet(owner_a, chatbot):
    widget = services.integration_revoke(integration=services.ensure_widget_integration(chatbot=chatbot))
    html = integrations_page(owner_a, chatbot)
    assert "the key is refused" in html
    assert f'id="snippet-{widget.id}-script"' not in html


def test_the_integrations_page_needs_login(chatbot):
    response = Client().get(f"/chatbots/{chatbot.id}/integrations/")
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_another_companys_integrations_page_answers_404(owner_b, chatbot):
    assert_foreign_404(logged_in(owner_b), "get", f"/chatbots/{chatbot.id}/integrations/")
    assert not Integration.objects.filter(chatbot=chatbot).exists()


# The API keys page

def test_the_api_keys_page_lists_keys_without_their_secrets(owner_a):
    issued = key_services.api_key_create(company=owner_a.company, name="Nightly import", scope="write",
                                     created_by=owner_a)
    html = page(owner_a, "/settings/api-keys/")
    assert "Nightly import" in html and issued.record.key_preview in html and "Read and write" in html
    assert issued.secret not in html
    assert re.search(r'data-url="/api/keys/[^"]+/rotate"\s+data-confirm="[^"]+"', html)
    assert 'id="secret-dialog"' in html


def test_the_api_keys_page_says_what_to_do_when_empty(admin_a):
    assert "No API keys yet" in page(admin_a, "/settings/api-keys/")


def test_members_cannot_open_the_api_keys_page_nor_see_its_link(member_a, owner_a):
    assert logged_in(member_a).get("/settings/api-keys/").status_code == 403
    assert 'href="/settings/api-keys/"' not in page(member_a, "/")
    assert 'href="/settings/api-keys/"' in page(owner_a, "/")


def test_the_api_keys_page_shows_only_the_requesters_company(owner_a, owner_b):
    key_services.api_key_create(company=owner_a.company, name="acme-nightly-import", scope="read", created_by=owner_a)
    assert_foreign_hidden(logged_in(owner_b), "/settings/api-keys/", "acme-nightly-import")


# Admin

@pytest.fixture
def keys_made(owner_a, chatbot):
    return [services.integration_save(chatbot=chatbot, type="api"),
            key_services.api_key_create(company=owner_a.company, name="CI", scope="read", created_by=owner_a)]


@pytest.mark.parametrize("url", ["/admin/integrations/integration/", "/admin/accounts/companyapikey/"])
def test_admin_lists_filter_and_never_show_hashes_or_secrets(superuser, keys_made, url):
    client = logged_in(superuser)
    for query in [{}, {"revoked": "yes"}, {"revoked": "no"}, {"q": "dct_"}]:
        html = client.get(url, query).content.decode()
        for issued in keys_made:
            assert issued.secret not in html and issued.record.key_hash not in html
    record = keys_made[0 if "integration/" in url else 1].record
    detail = client.get(f"{url}{record.pk}/change/").content.decode()
    assert record.key_preview in detail
    assert record.key_hash not in detail and keys_made[0].secret not in detail and keys_made[1].secret not in detail


def test_the_admin_rotate_action_shows_each_new_secret_once(superuser, keys_made):
    api_key = keys_made[1].record
    response = logged_in(superuser).post("/admin/accounts/companyapikey/",
                                         {"action": "rotate_keys", "_selected_action": [api_key.pk]})
    assert response.status_code == 200
    new_secret = re.search(r"<code>(dct_ro_\w+)</code>", response.content.decode()).group(1)
    assert new_secret != keys_made[1].secret
    assert company_api_key(new_secret).pk == api_key.pk
    assert company_api_key(keys_made[1].secret).pk == api_key.pk  # grace period
    assert new_secret not in logged_in(superuser).get("/admin/accounts/companyapikey/").content.decode()


def test_the_admin_revoke_action_refuses_keys_at_once(superuser, keys_made):
    integration = keys_made[0].record
    response = logged_in(superuser).post("/admin/integrations/integration/",
                                         {"action": "revoke_keys", "_selected_action": [integration.pk]})
    assert response.status_code == 302
    with pytest.raises(ApiError):
        access.authorize_server(key=keys_made[0].secret)


def test_admin_refuses_invalid_allowed_origins(superuser, chatbot):
    widget = services.ensure_widget_integration(chatbot=chatbot)
    response = logged_in(superuser).post(f"/admin/integrations/integration/{widget.pk}/change/",
                                         {"settings": '{"allowed_origins": ["javascript:alert(1)"]}'})
    assert response.status_code == 200
    assert "starts with https://" in response.content.decode()
    widget.refresh_from_db()
    assert widget.allowed_origins == []


def test_api_keys_cannot_be_added_in_admin(superuser):
    assert logged_in(superuser).get("/admin/accounts/companyapikey/add/").status_code == 403
    assert not CompanyApiKey.objects.exists()
