"""A company API key acts only while its creator is an active member of the key's own company, with
at most the creator's role there; removing the creator revokes it or hands it to the remover."""

import re

import pytest
from django.test import Client
from rest_framework.test import APIClient

from accounts.models import CompanyApiKey, User
from accounts.roles import Role
from chatbots.models import Chatbot
from datasources.models import DataSource
from tests.conftest import PASSWORD
from tests.ingestion import upload_bytes
from tests.isolation import assert_foreign_404

MEMBERS = "/api/team/members"
REMOVED = "Its creator was removed from the company."


def key_client(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def create_key(api_client, user, scope="write") -> str:
    response = api_client(user).post("/api/keys", {"name": f"{user.email} nightly", "scope": scope}, format="json")
    assert response.status_code == 201
    return response.json()["key"]


def listed(api_client, owner) -> dict:
    return {key["name"]: key for key in api_client(owner).get("/api/keys").json()["results"]}


@pytest.fixture
def acme_content(company_a, owner_a, api_client):
    """A chatbot and a file of company A, for a stray key to try to read and change."""
    chatbot = Chatbot.objects.create(company=company_a, name="Acme helpdesk")
    upload_bytes(api_client(owner_a), "prices.txt", b"Our prices are fair.")
    return chatbot, DataSource.objects.get(company=company_a)


def join_company_b(api_client, owner_b, person: User, role: str, mailoutbox) -> None:
    """Company B invites the person; they accept the emailed link while logged in; `owner` comes by a transfer."""
    invitation_role = Role.ADMIN if role == Role.OWNER else role
    response = api_client(owner_b).post("/api/team/invitations", {"email": person.email, "role": invitation_role},
                                        format="json")
    assert response.status_code == 201
    link = re.search(r"http://testserver(/invitations/[^\s]+/)", mailoutbox[-1].body).group(1)
    assert logged_in(person).post(link).status_code == 302
    if role == Role.OWNER:
        assert api_client(owner_b).post(f"{MEMBERS}/{person.id}/transfer-ownership").status_code == 200
    person.refresh_from_db()
    assert (person.company.name, person.role) == ("Bolt Brewing", role)


@pytest.mark.parametrize("role_in_b", [Role.MEMBER, Role.ADMIN, Role.OWNER])
def test_a_removed_creators_key_stays_dead_when_they_join_another_company(
        role_in_b, owner_a, admin_a, owner_b, acme_content, api_client, mailoutbox):
    chatbot, data_source = acme_content
    key = create_key(api_client, admin_a)
    assert key_client(key).get("/api/files").status_code == 200

    assert api_client(owner_a).delete(f"{MEMBERS}/{admin_a.id}").status_code == 204
    assert key_client(key).get("/api/files").status_code == 401
    join_company_b(api_client, owner_b, admin_a, role_in_b, mailoutbox)

    stray = key_client(key)
    for path in ["/api/files", "/api/chatbots", "/api/analytics/dashboard", "/api/company"]:
        response = stray.get(path)
        assert response.status_code == 401, (path, response.status_code)
        assert "Acme" not in response.content.decode()
    assert stray.patch(f"/api/chatbots/{chatbot.id}", {"name": "Taken over"}, format="json").status_code == 401
    assert upload_bytes(stray, "planted.txt", b"Planted.").status_code == 401
    assert stray.delete(f"/api/files/{data_source.id}").status_code == 401

    chatbot.refresh_from_db()
    assert chatbot.name == "Acme helpdesk"
    assert list(DataSource.objects.filter(company=owner_a.company).values_list("name", flat=True)) == ["prices.txt"]
    shown = listed(api_client, owner_a)["admin@acme.test nightly"]
    assert (shown["status"], shown["revoked_reason"]) == ("revoked", REMOVED)
    assert shown["created_by"] is None  # a former member, whose account company A no longer sees


def test_rejoining_the_same_company_does_not_revive_a_revoked_key(owner_a, admin_a, api_client, mailoutbox):
    key = create_key(api_client, admin_a)
    api_client(owner_a).delete(f"{MEMBERS}/{admin_a.id}")
    api_client(owner_a).post("/api/team/invitations", {"email": admin_a.email, "role": Role.ADMIN}, format="json")
    link = re.search(r"http://testserver(/invitations/[^\s]+/)", mailoutbox[-1].body).group(1)
    logged_in(admin_a).post(link)
    admin_a.refresh_from_db()
    assert admin_a.company == owner_a.company
    assert key_client(key).get("/api/files").status_code == 401


def test_a_key_acts_with_at_most_its_creators_present_role(owner_a, admin_a, company_a, api_client):
    key = create_key(api_client, admin_a)
    chatbot = Chatbot.objects.create(company=company_a, name="Acme helpdesk")
    integration = {"chatbot_id": str(chatbot.id), "type": "iframe"}
    assert key_client(key).post("/api/integrations", integration, format="json").status_code == 201
    api_client(owner_a).patch(f"{MEMBERS}/{admin_a.id}", {"role": Role.MEMBER}, format="json")
    assert key_client(key).post("/api/integrations", {**integration, "type": "api"}, format="json").status_code == 403
    assert key_client(key).get("/api/chatbots").status_code == 200  # what a member may still do


def test_a_creator_moved_to_another_company_in_admin_leaves_their_keys_behind_revoked(
        superuser, admin_a, owner_a, owner_b, api_client):
    key = create_key(api_client, admin_a)
    form = {"email": admin_a.email, "name": admin_a.name, "company": str(owner_b.company_id), "role": Role.OWNER,
            "is_active": "on", "created_at_0": "2026-01-01", "created_at_1": "00:00:00"}
    response = logged_in(superuser).post(f"/admin/accounts/user/{admin_a.id}/change/", form)
    assert response.status_code == 302, response.content.decode()[:2000]
    admin_a.refresh_from_db()
    assert admin_a.company == owner_b.company
    assert key_client(key).get("/api/files").status_code == 401
    assert listed(api_client, owner_a)["admin@acme.test nightly"]["revoked_reason"] == REMOVED


def test_a_deactivated_creators_keys_are_shown_revoked_with_the_reason(
        superuser, admin_a, owner_a, api_client):
    key = create_key(api_client, admin_a)
    User.objects.filter(pk=admin_a.pk).update(is_active=False)
    assert key_client(key).get("/api/files").status_code == 401

    shown = listed(api_client, owner_a)["admin@acme.test nightly"]
    assert (shown["status"], shown["revoked_reason"]) == ("revoked", "Its creator's account is deactivated.")
    page = logged_in(owner_a).get("/settings/api-keys/").content.decode()
    assert "Its creator&#x27;s account is deactivated." in page
    admin_list = logged_in(superuser).get("/admin/accounts/companyapikey/", {"revoked": "yes"}).content.decode()
    assert "admin@acme.test nightly" in admin_list and "Its creator&#x27;s account is deactivated." in admin_list
    active = logged_in(superuser).get("/admin/accounts/companyapikey/", {"revoked": "no"}).content.decode()
    assert "admin@acme.test nightly" not in active


# Removing a person: their keys first, revoked or handed to the remover

def test_the_api_lists_the_keys_a_removal_would_stop(owner_a, admin_a, member_a, api_client):
    create_key(api_client, admin_a)
    create_key(api_client, owner_a, scope="read")
    keys = api_client(owner_a).get(f"{MEMBERS}/{admin_a.id}/api-keys").json()
    assert [key["name"] for key in keys] == ["admin@acme.test nightly"]
    assert api_client(member_a).get(f"{MEMBERS}/{admin_a.id}/api-keys").status_code == 403


def test_the_remover_can_take_the_keys_over_and_they_keep_working(owner_a, admin_a, api_client):
    key = create_key(api_client, admin_a)
    response = api_client(owner_a).delete(f"{MEMBERS}/{admin_a.id}?transfer_api_keys=true")
    assert response.status_code == 204
    assert key_client(key).get("/api/files").status_code == 200
    shown = listed(api_client, owner_a)["admin@acme.test nightly"]
    assert (shown["status"], shown["created_by"]) == ("active", "owner@acme.test")


def test_a_removal_option_that_is_not_a_yes_or_no_is_refused(owner_a, admin_a, api_client):
    response = api_client(owner_a).delete(f"{MEMBERS}/{admin_a.id}?transfer_api_keys=maybe")
    assert response.status_code == 400 and "transfer_api_keys" in response.json()["error"]["details"]
    admin_a.refresh_from_db()
    assert admin_a.company is not None


def test_the_removal_dialog_lists_their_keys_first_and_offers_to_take_them_over(owner_a, admin_a, api_client):
    create_key(api_client, admin_a)
    page = logged_in(owner_a).get(f"/settings/team/members/{admin_a.id}/remove/").content.decode()
    assert page.index("admin@acme.test nightly") < page.index('<button type="submit" class="danger">Remove admin')
    assert "Transfer them to me" in page and "Revoke them" in page

    response = logged_in(owner_a).post(f"/settings/team/members/{admin_a.id}/remove/", {"api_keys": "transfer"},
                                       follow=True)
    assert "1 API key(s) were transferred to you" in response.content.decode()
    api_key = CompanyApiKey.objects.get()
    assert (api_key.created_by, api_key.refusal_reason) == (owner_a, "")


def test_removing_from_the_dialog_revokes_their_keys_by_default(owner_a, admin_a, api_client):
    key = create_key(api_client, admin_a)
    response = logged_in(owner_a).post(f"/settings/team/members/{admin_a.id}/remove/", follow=True)
    assert "1 API key(s) were revoked" in response.content.decode()
    assert key_client(key).get("/api/files").status_code == 401
    assert REMOVED in logged_in(owner_a).get("/settings/api-keys/").content.decode()


def test_the_team_page_leads_to_the_removal_dialog(owner_a, admin_a):
    page = logged_in(owner_a).get("/settings/team/").content.decode()
    assert f'href="/settings/team/members/{admin_a.id}/remove/"' in page


def test_another_companys_member_keys_are_not_found(admin_a, owner_b, api_client):
    create_key(api_client, admin_a)
    assert_foreign_404(api_client(owner_b), "get", f"{MEMBERS}/{admin_a.id}/api-keys")
    assert_foreign_404(logged_in(owner_b), "get", f"/settings/team/members/{admin_a.id}/remove/")


def test_a_person_without_a_company_cannot_log_into_the_old_one(owner_a, admin_a, api_client):
    api_client(owner_a).delete(f"{MEMBERS}/{admin_a.id}")
    client = Client()
    assert client.login(email=admin_a.email, password=PASSWORD)
    assert client.get("/api/files").status_code == 403
