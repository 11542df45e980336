"""/api/team/…: the same team rules as the dashboard, enforced in the API, in the one error shape."""

import re

import pytest

from accounts.models import Invitation, User
from accounts.roles import Role
from tests.isolation import assert_foreign_404, assert_foreign_hidden

MEMBERS = "/api/team/members"
INVITATIONS = "/api/team/invitations"


def error_code(response) -> str:
    return response.json()["error"]["code"]


@pytest.fixture
def invitation(owner_a, api_client, mailoutbox) -> Invitation:
    response = api_client(owner_a).post(INVITATIONS, {"email": "new@acme.test"}, format="json")
    assert response.status_code == 201, response.content
    return Invitation.objects.get(pk=response.json()["id"])


def test_everyone_in_the_company_lists_its_members(owner_a, admin_a, member_a, api_client):
    response = api_client(member_a).get(MEMBERS)
    assert response.status_code == 200
    people = {person["email"]: person for person in response.json()["results"]}
    assert set(people) == {"owner@acme.test", "admin@acme.test", "member@acme.test"}
    assert people["owner@acme.test"]["role"] == "owner"
    assert set(people["member@acme.test"]) == {"id", "email", "name", "role", "last_login", "created_at"}


def test_an_admin_invites_and_the_email_carries_the_link(admin_a, api_client, mailoutbox):
    response = api_client(admin_a).post(INVITATIONS, {"email": "Pat@Acme.test", "role": "admin"}, format="json")
    assert response.status_code == 201
    body = response.json()
    assert (body["email"], body["role"], body["status"], body["invited_by"]) == (
        "pat@acme.test", "admin", "pending", "admin@acme.test")
    assert "token" not in str(body)  # the link exists only in the email
    assert re.search(r"http://testserver/invitations/\S+/", mailoutbox[0].body)
    assert [i["email"] for i in api_client(admin_a).get(INVITATIONS).json()["results"]] == ["pat@acme.test"]


@pytest.mark.parametrize(("payload", "field"), [
    ({"email": "not-an-email"}, "email"),
    ({"email": "pat@acme.test", "role": "owner"}, "role"),
    ({}, "email"),
])
def test_an_invitation_needs_an_email_and_an_assignable_role(payload, field, owner_a, api_client, mailoutbox):
    response = api_client(owner_a).post(INVITATIONS, payload, format="json")
    assert response.status_code == 400
    assert error_code(response) == "invalid" and field in response.json()["error"]["details"]
    assert mailoutbox == []


def test_inviting_a_current_member_is_a_conflict(owner_a, member_a, api_client, mailoutbox):
    response = api_client(owner_a).post(INVITATIONS, {"email": "MEMBER@acme.test"}, format="json")
    assert response.status_code == 409
    assert error_code(response) == "already_member"
    assert mailoutbox == []


def test_inviting_again_replaces_the_open_invitation(owner_a, invitation, api_client):
    client = api_client(owner_a)
    client.post(INVITATIONS, {"email": "new@acme.test", "role": "admin"}, format="json")
    [listed] = client.get(INVITATIONS).json()["results"]
    assert listed["role"] == "admin" and listed["id"] != str(invitation.id)


def test_resend_mails_a_fresh_link_and_revoke_withdraws_it(owner_a, invitation, api_client, mailoutbox):
    client = api_client(owner_a)
    response = client.post(f"{INVITATIONS}/{invitation.id}/resend")
    assert response.status_code == 200 and len(mailoutbox) == 2
    fresh = response.json()["id"]
    assert client.delete(f"{INVITATIONS}/{fresh}").status_code == 204
    assert client.get(INVITATIONS).json()["results"] == []
    assert client.delete(f"{INVITATIONS}/{fresh}").status_code == 404


def test_members_cannot_invite_or_manage_people(member_a, admin_a, invitation, api_client, mailoutbox):
    client = api_client(member_a)
    for method, path, payload in [
        ("post", INVITATIONS, {"email": "pat@acme.test"}),
        ("post", f"{INVITATIONS}/{invitation.id}/resend", None),
        ("delete", f"{INVITATIONS}/{invitation.id}", None),
        ("patch", f"{MEMBERS}/{admin_a.id}", {"role": "member"}),
        ("delete", f"{MEMBERS}/{admin_a.id}", None),
        ("post", f"{MEMBERS}/{admin_a.id}/transfer-ownership", None),
    ]:
        response = getattr(client, method)(path, payload, format="json")
        assert response.status_code == 403, (method, path)
        assert error_code(response) == "permission_denied"
    assert len(mailoutbox) == 1
    assert client.get(INVITATIONS).status_code == 200  # read-only: they still see who is invited
    admin_a.refresh_from_db()
    assert admin_a.role == Role.ADMIN


@pytest.mark.parametrize(("method", "path", "payload"), [
    ("post", "/api/keys", {"name": "Mine", "scope": "write"}),
    ("patch", "/api/company", {"name": "Mine now"}),
    ("delete", "/api/company", None),
])
def test_members_cannot_manage_keys_company_settings_or_delete_the_company(method, path, payload, member_a,
                                                                           api_client):
    response = getattr(api_client(member_a), method)(path, payload, format="json")
    assert response.status_code == 403
    assert error_code(response) == "permission_denied"
    assert member_a.company.name == "Acme Analytics"


def test_an_admin_changes_roles_and_removes_people_but_never_the_owner(owner_a, admin_a, member_a, api_client):
    client = api_client(admin_a)
    response = client.patch(f"{MEMBERS}/{member_a.id}", {"role": "admin"}, format="json")
    assert response.status_code == 200 and response.json()["role"] == "admin"
    for response in (client.patch(f"{MEMBERS}/{owner_a.id}", {"role": "member"}, format="json"),
                     client.delete(f"{MEMBERS}/{owner_a.id}")):
        assert response.status_code == 409 and error_code(response) == "owner_protected"
    assert client.post(f"{MEMBERS}/{member_a.id}/transfer-ownership").status_code == 403
    assert client.delete(f"{MEMBERS}/{member_a.id}").status_code == 204
    assert [p["email"] for p in client.get(MEMBERS).json()["results"]] == ["owner@acme.test", "admin@acme.test"]
    owner_a.refresh_from_db()
    assert owner_a.role == Role.OWNER


def test_a_role_change_cannot_make_an_owner(owner_a, member_a, api_client):
    response = api_client(owner_a).patch(f"{MEMBERS}/{member_a.id}", {"role": "owner"}, format="json")
    assert response.status_code == 400 and "role" in response.json()["error"]["details"]


def test_the_only_owner_cannot_step_down_or_leave_without_a_transfer(owner_a, admin_a, api_client):
    client = api_client(owner_a)
    assert error_code(client.patch(f"{MEMBERS}/{owner_a.id}", {"role": "admin"}, format="json")) == "owner_protected"
    assert error_code(client.delete(f"{MEMBERS}/{owner_a.id}")) == "owner_protected"
    assert error_code(client.post(f"{MEMBERS}/{owner_a.id}/transfer-ownership")) == "already_owner"

    response = client.post(f"{MEMBERS}/{admin_a.id}/transfer-ownership")
    assert response.status_code == 200 and response.json()["role"] == "owner"
    roles = {p["email"]: p["role"] for p in client.get(MEMBERS).json()["results"]}
    assert roles == {"owner@acme.test": "admin", "admin@acme.test": "owner"}
    assert list(roles.values()).count("owner") == 1


def test_a_removed_admins_api_key_stops_working(owner_a, admin_a, api_client):
    key = api_client(admin_a).post("/api/keys", {"name": "Nightly", "scope": "write"}, format="json").json()["key"]
    with_key = api_client()
    with_key.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    assert with_key.get(MEMBERS).status_code == 200
    api_client(owner_a).delete(f"{MEMBERS}/{admin_a.id}")
    assert with_key.get(MEMBERS).status_code in (401, 403)


def test_an_api_key_cannot_manage_people(owner_a, member_a, api_client, mailoutbox):
    key = api_client(owner_a).post("/api/keys", {"name": "Script", "scope": "write"}, format="json").json()["key"]
    with_key = api_client()
    with_key.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    assert with_key.post(INVITATIONS, {"email": "pat@acme.test"}, format="json").status_code == 403
    assert with_key.delete(f"{MEMBERS}/{member_a.id}").status_code == 403
    assert mailoutbox == [] and User.objects.get(email="member@acme.test").company is not None


def test_the_team_api_needs_authentication(db, api_client):
    response = api_client().get(MEMBERS)
    assert response.status_code in (401, 403)
    assert "error" in response.json()


# Another company's people and invitations

def test_another_companys_people_and_invitations_are_not_found(member_a, invitation, outsider):
    for method, path in [("patch", f"{MEMBERS}/{member_a.id}"), ("delete", f"{MEMBERS}/{member_a.id}"),
                         ("post", f"{MEMBERS}/{member_a.id}/transfer-ownership"),
                         ("delete", f"{INVITATIONS}/{invitation.id}"),
                         ("post", f"{INVITATIONS}/{invitation.id}/resend"),
                         ("patch", f"{MEMBERS}/not-a-uuid")]:
        assert_foreign_404(outsider, method, path, data={"role": "admin"}, format="json")
    member_a.refresh_from_db()
    invitation.refresh_from_db()
    assert (member_a.company.name, member_a.role, invitation.revoked_at) == ("Acme Analytics", Role.MEMBER, None)


def test_the_team_lists_show_only_the_requesters_company(member_a, invitation, outsider):
    assert_foreign_hidden(outsider, MEMBERS, "member@acme.test", str(member_a.id))
    assert_foreign_hidden(outsider, INVITATIONS, "new@acme.test", str(invitation.id))


def test_an_outsider_invitation_goes_to_the_outsiders_company(member_a, outsider, mailoutbox):
    response = outsider.post(INVITATIONS, {"email": "member@acme.test"}, format="json")
    assert response.status_code == 201  # that person is in another company: nothing about it is revealed
    assert Invitation.objects.get().company.name == "Bolt Brewing"
