"""The team page and the invitation journey, as people see them in the browser."""

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import Invitation, User
from accounts.roles import Role
from tests.conftest import PASSWORD
from tests.isolation import assert_foreign_404, assert_foreign_hidden, record
from tests.test_supabase_login import gotrue  # noqa: F401  (a fake Supabase Auth, for the test that needs it)

NEW_PASSWORD = "a-long-enough-passphrase"


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def invite(user, email="new@acme.test", role="member"):
    return logged_in(user).post("/settings/team/invite/", {"email": email, "role": role}, follow=True)


def link_in(message) -> str:
    return re.search(r"http://testserver(/invitations/[^\s]+/)", message.body).group(1)


@pytest.fixture
def invited(owner_a, mailoutbox):
    """The path of the link emailed to new@acme.test, invited as a member by company A's owner."""
    invite(owner_a)
    return link_in(mailoutbox[-1])


# Inviting, and accepting as a new person

def test_the_owner_invites_by_email_and_the_invitee_joins_with_a_password(owner_a, mailoutbox, client):
    response = invite(owner_a, email="New@Acme.test", role="admin")
    assert "Invitation emailed to new@acme.test" in response.content.decode()
    [message] = mailoutbox
    assert message.to == ["new@acme.test"]
    assert "Acme Analytics" in message.subject
    assert "72 hours" in message.body

    page = client.get(link_in(message))
    assert "Join Acme Analytics" in page.content.decode()
    response = client.post(link_in(message), {"name": "Nora New", "password": NEW_PASSWORD}, follow=True)
    assert response.redirect_chain[-1][0] == "/"
    assert "Welcome to Acme Analytics, Nora New" in response.content.decode()

    nora = User.objects.get(email="new@acme.test")
    assert (nora.company.name, nora.role, nora.name) == ("Acme Analytics", Role.ADMIN, "Nora New")
    client.post("/logout/")
    assert Client().post("/login/", {"email": "new@acme.test", "password": NEW_PASSWORD}).status_code == 302


def test_with_supabase_auth_the_invitees_password_lives_in_supabase(request, invited, client):
    supabase = request.getfixturevalue("gotrue")
    response = client.post(invited, {"name": "Nora", "password": NEW_PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/"
    nora = User.objects.get(email="new@acme.test")
    assert str(nora.supabase_uid) == supabase.users["new@acme.test"]["id"]
    assert not nora.has_usable_password()
    assert nora.company.name == "Acme Analytics"


def test_an_accepted_link_cannot_be_used_again(invited, client):
    client.post(invited, {"name": "Nora", "password": NEW_PASSWORD})
    response = Client().post(invited, {"name": "Mallory", "password": NEW_PASSWORD})
    assert response.status_code == 410
    assert "already used" in response.content.decode()
    assert User.objects.filter(email="new@acme.test").count() == 1


def test_an_expired_link_is_refused_with_a_clear_page(invited, client):
    Invitation.objects.update(expires_at=timezone.now() - timedelta(minutes=1))
    for response in (client.get(invited), client.post(invited, {"name": "Nora", "password": NEW_PASSWORD})):
        assert response.status_code == 410
        assert "This invitation has expired" in response.content.decode()
    assert not User.objects.filter(email="new@acme.test").exists()


def test_the_link_lasts_as_long_as_the_setting_says(settings, owner_a, mailoutbox):
    settings.INVITATION_EXPIRY_HOURS = 1
    invite(owner_a)
    invitation = Invitation.objects.get()
    assert timedelta(minutes=59) < invitation.expires_at - timezone.now() <= timedelta(hours=1)
    assert "1 hours" in mailoutbox[0].body


def test_a_revoked_link_is_refused(owner_a, invited, client):
    invitation = Invitation.objects.get()
    logged_in(owner_a).post(f"/settings/team/invitations/{invitation.id}/revoke/")
    response = client.get(invited)
    assert response.status_code == 410
    assert "withdrawn or replaced" in response.content.decode()


def test_inviting_the_same_address_again_replaces_the_earlier_link(owner_a, invited, mailoutbox, client):
    invite(owner_a, email="NEW@acme.test", role="admin")
    assert client.get(invited).status_code == 410
    assert Invitation.objects.filter(revoked_at__isnull=True).count() == 1
    client.post(link_in(mailoutbox[-1]), {"name": "Nora", "password": NEW_PASSWORD})
    assert User.objects.get(email="new@acme.test").role == Role.ADMIN


def test_resending_mails_a_new_link_and_the_old_one_stops_working(owner_a, invited, mailoutbox, client):
    invitation = Invitation.objects.get()
    Invitation.objects.update(expires_at=timezone.now() - timedelta(minutes=1))
    response = logged_in(owner_a).post(f"/settings/team/invitations/{invitation.id}/resend/", follow=True)
    assert "A new invitation link was emailed to new@acme.test" in response.content.decode()
    assert client.get(invited).status_code == 410
    assert client.get(link_in(mailoutbox[-1])).status_code == 200


def shown_link(response) -> str | None:
    found = re.search(r'<code id="invitation-link">http://testserver(/invitations/[^<]+/)</code>',
                      response.content.decode())
    return found.group(1) if found else None


def test_the_inviter_gets_the_link_once_whatever_the_email_backend(owner_a, mailoutbox):
    owner = logged_in(owner_a)
    response = owner.post("/settings/team/invite/", {"email": "new@acme.test", "role": "member"}, follow=True)
    assert shown_link(response) == link_in(mailoutbox[-1])
    assert 'data-copy="invitation-link"' in response.content.decode()
    assert shown_link(owner.get("/settings/team/")) is None


def test_resending_shows_the_inviter_the_new_link(owner_a, invited, mailoutbox, client):
    invitation = Invitation.objects.get()
    response = logged_in(owner_a).post(f"/settings/team/invitations/{invitation.id}/resend/", follow=True)
    assert shown_link(response) == link_in(mailoutbox[-1]) != invited
    assert client.get(shown_link(response)).status_code == 200


def test_the_team_page_is_in_the_navigation(member_a):
    body = logged_in(member_a).get("/conversations/").content.decode()
    navigation = re.search(r'<nav class="nav" aria-label="Main">(.*?)</nav>', body, re.S).group(1)
    assert 'href="/settings/team/"' in navigation


def test_an_unknown_link_gets_a_clear_page(db, client):
    response = client.get("/invitations/not-a-real-token/")
    assert response.status_code == 404
    assert "This invitation link is not valid" in response.content.decode()


def test_a_weak_password_is_refused_and_nothing_is_used_up(invited, client):
    response = client.post(invited, {"name": "Nora", "password": "12345678"})
    assert response.status_code == 200
    assert "too common" in response.content.decode()
    assert Invitation.objects.get().accepted_at is None


# Accepting with an existing account

def test_someone_in_another_company_is_told_plainly_they_cannot_join(owner_a, owner_b, mailoutbox):
    invite(owner_a, email="owner@bolt.test")
    link = link_in(mailoutbox[-1])
    client = logged_in(owner_b)
    for response in (client.get(link), client.post(link)):
        assert response.status_code == 409
        assert "belongs to Bolt Brewing" in response.content.decode()
        assert "one company only" in response.content.decode()
        assert '<a href="/">Go to your dashboard</a>' in response.content.decode()
    owner_b.refresh_from_db()
    assert (owner_b.company.name, owner_b.role) == ("Bolt Brewing", Role.OWNER)
    assert Invitation.objects.get().accepted_at is None


def test_a_logged_in_account_without_a_company_joins_when_the_email_matches(invited):
    nora = User.objects.create_user(email="new@acme.test", password=PASSWORD)
    client = logged_in(nora)
    assert "Join Acme Analytics" in client.get(invited).content.decode()
    assert client.post(invited).status_code == 302
    nora.refresh_from_db()
    assert (nora.company.name, nora.role) == ("Acme Analytics", Role.MEMBER)
    assert client.get("/").status_code == 200


def test_a_logged_in_account_with_another_email_is_asked_to_log_out(invited):
    drifter = User.objects.create_user(email="drifter@elsewhere.test", password=PASSWORD)
    response = logged_in(drifter).post(invited)
    assert response.status_code == 403
    assert "This invitation is for new@acme.test" in response.content.decode()
    drifter.refresh_from_db()
    assert drifter.company is None


def test_a_logged_out_invitee_with_an_account_is_asked_to_log_in(invited, client):
    User.objects.create_user(email="new@acme.test", password=PASSWORD)
    body = client.get(invited).content.decode()
    assert "log in to accept" in body
    assert f"/login/?next={invited}" in body


# The team page

def test_the_team_page_lists_people_with_role_you_and_last_login(owner_a, member_a, invited):
    member_a.last_login = timezone.now() - timedelta(days=2)
    member_a.save()
    body = logged_in(owner_a).get("/settings/team/").content.decode()
    assert re.search(r"owner\s*<span class=\"badge you\">you</span>", body)
    assert "member@acme.test" in body and "2\xa0days ago" in body
    assert "new@acme.test" in body and "Pending invitations" in body
    assert "Send invitation" in body and "Make owner" in body


def test_members_see_the_team_read_only_and_cannot_invite(member_a, owner_a, mailoutbox):
    body = logged_in(member_a).get("/settings/team/").content.decode()
    assert "owner@acme.test" in body
    assert "Send invitation" not in body and "Remove" not in body and "Make owner" not in body
    assert invite(member_a).status_code == 403
    assert logged_in(member_a).post(f"/settings/team/members/{owner_a.id}/remove/").status_code == 403
    assert mailoutbox == [] and not Invitation.objects.exists()


def test_the_team_link_is_in_everyones_account_menu(member_a):
    assert 'href="/settings/team/"' in logged_in(member_a).get("/").content.decode()


def test_an_admin_changes_a_members_role(admin_a, member_a):
    response = logged_in(admin_a).post(f"/settings/team/members/{member_a.id}/role/", {"role": "admin"}, follow=True)
    assert "member is now admin" in response.content.decode()
    member_a.refresh_from_db()
    assert member_a.role == Role.ADMIN


def test_the_owner_can_be_neither_demoted_nor_removed(owner_a, admin_a):
    for client in (logged_in(owner_a), logged_in(admin_a)):
        response = client.post(f"/settings/team/members/{owner_a.id}/role/", {"role": "member"}, follow=True)
        assert "stays owner until they transfer ownership" in response.content.decode()
        client.post(f"/settings/team/members/{owner_a.id}/remove/")
    owner_a.refresh_from_db()
    assert (owner_a.company.name, owner_a.role) == ("Acme Analytics", Role.OWNER)


def test_a_removed_member_loses_access_at_once(owner_a, member_a):
    member_client = logged_in(member_a)
    response = logged_in(owner_a).post(f"/settings/team/members/{member_a.id}/remove/", follow=True)
    assert "no longer belongs to Acme Analytics" in response.content.decode()
    assert member_client.get("/settings/team/").status_code == 403
    assert User.objects.filter(email="member@acme.test", company=None).exists()


def test_the_owner_hands_over_ownership_and_becomes_an_admin(owner_a, admin_a):
    response = logged_in(owner_a).post(f"/settings/team/members/{admin_a.id}/transfer-ownership/", follow=True)
    assert "admin is now the owner; you are an admin" in response.content.decode()
    owner_a.refresh_from_db()
    admin_a.refresh_from_db()
    assert (owner_a.role, admin_a.role) == (Role.ADMIN, Role.OWNER)


def test_an_admin_cannot_hand_over_ownership(admin_a, member_a):
    assert logged_in(admin_a).post(f"/settings/team/members/{member_a.id}/transfer-ownership/").status_code == 403
    member_a.refresh_from_db()
    assert member_a.role == Role.MEMBER


def test_inviting_a_current_member_says_so_on_the_form(owner_a, member_a, mailoutbox):
    response = invite(owner_a, email="member@acme.test")
    assert response.status_code == 400
    assert "member@acme.test is already a member of this company" in response.content.decode()
    assert mailoutbox == []


def test_long_names_do_not_break_the_pages(owner_a, company_a, mailoutbox, client):
    long_name = "Wolfeschlegelsteinhausenbergerdorff" * 6  # 210 characters, no spaces
    company_a.name = long_name[:200]
    company_a.save()
    owner_a.name = long_name[:200]
    owner_a.save()
    team = logged_in(owner_a).get("/settings/team/")
    assert team.status_code == 200 and long_name[:200] in team.content.decode()
    invite(owner_a)
    assert long_name[:200] in mailoutbox[0].subject.replace("\n", "")
    accept = client.get(link_in(mailoutbox[0]))
    assert accept.status_code == 200 and f"Join {long_name[:200]}" in accept.content.decode()


# Another company's people and invitations

@pytest.mark.parametrize("path", [
    "/settings/team/members/{member}/role/", "/settings/team/members/{member}/remove/",
    "/settings/team/members/{member}/transfer-ownership/",
    "/settings/team/invitations/{invitation}/resend/", "/settings/team/invitations/{invitation}/revoke/",
])
def test_another_companys_people_and_invitations_are_not_found(path, member_a, owner_b, invited):
    path = path.format(member=member_a.id, invitation=Invitation.objects.get().id)
    assert_foreign_404(logged_in(owner_b), "post", path, data={"role": "admin"})
    member_a.refresh_from_db()
    assert (member_a.company.name, member_a.role) == ("Acme Analytics", Role.MEMBER)
    assert Invitation.objects.get().revoked_at is None


def test_the_team_page_shows_only_the_requesters_company(owner_a, member_a, owner_b, invited):
    assert_foreign_hidden(logged_in(owner_b), "/settings/team/", "owner@acme.test", "member@acme.test",
                          "new@acme.test", "Acme Analytics")
    response = invite(owner_b, email="owner@acme.test")
    assert response.status_code == 200  # not refused as "already a member": that person is elsewhere


def test_an_invitation_lands_in_the_inviters_company_only(owner_a, owner_b, mailoutbox):
    invite(owner_b, email="someone@bolt.test")
    record("/settings/team/invite/")
    assert Invitation.objects.get().company.name == "Bolt Brewing"
    assert "someone@bolt.test" not in logged_in(owner_a).get("/settings/team/").content.decode()
