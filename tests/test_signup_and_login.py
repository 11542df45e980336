import re

from django.core import mail

from accounts.models import Company, User
from accounts.roles import Role
from tests.conftest import PASSWORD

SIGNUP = {"company_name": "Cobalt Consulting", "name": "Cora", "email": "Cora@Cobalt.test",
          "password": "a-long-enough-passphrase"}


def test_signup_creates_the_company_and_its_owner_and_lands_in_the_dashboard(db, client):
    response = client.post("/signup/", SIGNUP, follow=True)
    assert response.redirect_chain[-1][0] == "/"
    assert "Cobalt Consulting" in response.content.decode()
    user = User.objects.get(email="cora@cobalt.test")
    assert user.role == Role.OWNER
    assert user.company.name == "Cobalt Consulting"
    assert Company.objects.count() == 1


def test_signup_refuses_an_email_already_in_use(owner_a, client):
    response = client.post("/signup/", {**SIGNUP, "email": "OWNER@acme.test"})
    assert response.status_code == 200
    assert "already exists" in response.content.decode()
    assert Company.objects.filter(name="Cobalt Consulting").count() == 0


def test_signup_refuses_a_weak_password(db, client):
    response = client.post("/signup/", {**SIGNUP, "password": "12345678"})
    assert "too common" in response.content.decode()
    assert not User.objects.exists()


def test_login_with_email_and_password_then_logout(owner_a, client):
    response = client.post("/login/", {"email": "Owner@Acme.test", "password": PASSWORD}, follow=True)
    assert "Acme Analytics" in response.content.decode()
    client.post("/logout/")
    assert client.get("/").status_code == 302


def test_login_refuses_a_wrong_password(owner_a, client):
    response = client.post("/login/", {"email": "owner@acme.test", "password": "wrong"})
    assert "Email or password is wrong" in response.content.decode()
    assert client.get("/").status_code == 302


def test_login_only_follows_a_local_next_url(owner_a, client):
    response = client.post("/login/?next=https://evil.example/", {"email": "owner@acme.test", "password": PASSWORD,
                                                                   "next": "https://evil.example/"})
    assert response["Location"] == "/"


def test_the_dashboard_requires_login(db, client):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_password_change(owner_a, client):
    client.force_login(owner_a)
    response = client.post("/password/change/", {"old_password": PASSWORD, "new_password1": "another-long-passphrase",
                                                  "new_password2": "another-long-passphrase"}, follow=True)
    assert response.redirect_chain[-1][0] == "/password/change/done/"
    assert '<a href="/">Back to the dashboard</a>' in response.content.decode()
    owner_a.refresh_from_db()
    assert owner_a.check_password("another-long-passphrase")


def test_password_reset_by_email_link(owner_a, client):
    client.post("/password/reset/", {"email": "owner@acme.test"})
    assert len(mail.outbox) == 1
    link = re.search(r"http://testserver(/password/reset/\S+/)", mail.outbox[0].body).group(1)
    form_page = client.get(link, follow=True)
    response = client.post(form_page.redirect_chain[-1][0], {"new_password1": "brand-new-passphrase-9",
                                                             "new_password2": "brand-new-passphrase-9"})
    assert response.status_code == 302
    owner_a.refresh_from_db()
    assert owner_a.check_password("brand-new-passphrase-9")


def test_a_member_cannot_open_company_settings(member_a, client):
    client.force_login(member_a)
    assert client.get("/settings/company/").status_code == 403


def test_an_admin_renames_the_company_from_the_dashboard(admin_a, client):
    client.force_login(admin_a)
    response = client.post("/settings/company/", {"name": "Acme Two", "logo": ""}, follow=True)
    assert "Acme Two" in response.content.decode()
