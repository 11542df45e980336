"""Dashboard signup, login and password reset through Supabase Auth, when the project uses it.

Supabase Auth is the fake GoTrue in tests/fakes/gotrue.py, reached over HTTP by the supabase
client exactly as the real service would be.
"""

import re
import threading
import time
import uuid
from urllib.parse import parse_qsl, urlsplit

import jwt
import pytest
from django.contrib.staticfiles import finders
from django.test import Client
from rest_framework.test import APIClient
from supabase import create_client
from supabase.lib.client_options import SyncClientOptions

from accounts.models import Company, User
from tests.conftest import PASSWORD
from tests.fakes.gotrue import Recovery, running_gotrue
from tests.fakes.http import unreachable_url

ANON_KEY = "sb_publishable_docent_test_anon_key"
JWT_SECRET = "super-secret-jwt-token-with-at-least-64-characters-for-any-hmac-size"
SUPABASE_PASSWORD = "a-password-only-supabase-knows"
SIGNUP = {"company_name": "Orbit Optics", "name": "Olivia Orbit", "email": "olivia@orbit.test",
          "password": "lenses-and-mirrors-2025"}
UNAVAILABLE = "Supabase Auth is unavailable right now; try again in a moment."
RECOVERY_PAGE = "/password/reset/supabase/"
NEW_PASSWORD = "a-fresh-password-for-supabase"

pytestmark = pytest.mark.django_db


def _supabase_mode(settings, **options):
    with running_gotrue(anon_key=ANON_KEY, jwt_secret=JWT_SECRET, **options) as gotrue:
        settings.SUPABASE_URL = gotrue.url
        settings.SUPABASE_ANON_KEY = ANON_KEY
        settings.SUPABASE_JWT_SECRET = JWT_SECRET
        settings.SUPABASE_JWT_ISSUER = gotrue.issuer
        yield gotrue


@pytest.fixture
def gotrue(settings):
    """A project with "Confirm email" off: signup returns a session at once."""
    yield from _supabase_mode(settings)


@pytest.fixture
def confirming_gotrue(settings):
    """A project with "Confirm email" on, as new Supabase projects start."""
    yield from _supabase_mode(settings, confirm_email=True)


def page(response) -> str:
    return response.content.decode()


def assert_dashboard_shows(client, company_name: str):
    response = client.get("/")
    assert response.status_code == 200
    assert company_name in page(response)


def assert_logged_out(client):
    assert client.get("/").status_code == 302


def log_in(client, email: str, password: str, **extra):
    return client.post("/login/", {"email": email, "password": password, **extra})


@pytest.mark.parametrize("project", ["gotrue", "confirming_gotrue"])
def test_signup_creates_the_company_and_a_user_linked_to_supabase(request, client, project):
    gotrue = request.getfixturevalue(project)
    response = client.post("/signup/", SIGNUP)
    assert response.status_code == 302 and response["Location"] == "/"
    assert_dashboard_shows(client, "Orbit Optics")
    supabase_user = gotrue.users["olivia@orbit.test"]
    user = User.objects.get(email="olivia@orbit.test")
    assert user.supabase_uid == uuid.UUID(supabase_user["id"])
    assert user.company.name == "Orbit Optics"
    assert user.role == "owner"
    assert not user.has_usable_password()  # the password lives in Supabase only
    assert supabase_user["user_metadata"]["name"] == "Olivia Orbit"


def test_signup_shows_supabases_error_for_an_email_it_already_has(gotrue, client):
    gotrue.add_user("olivia@orbit.test", SUPABASE_PASSWORD)
    response = client.post("/signup/", SIGNUP)
    assert response.status_code == 200
    assert "User already registered" in page(response)
    assert not User.objects.filter(email="olivia@orbit.test").exists()
    assert not Company.objects.filter(name="Orbit Optics").exists()
    assert_logged_out(client)


def test_signup_refuses_an_email_supabase_already_has_when_it_hides_that(confirming_gotrue, client):
    confirming_gotrue.add_user("olivia@orbit.test", SUPABASE_PASSWORD)
    response = client.post("/signup/", SIGNUP)
    assert response.status_code == 200
    assert "An account with this email already exists. Log in instead." in page(response)
    assert not Company.objects.filter(name="Orbit Optics").exists()
    assert_logged_out(client)


def test_login_opens_a_dashboard_session_and_links_the_supabase_user(gotrue, client, owner_a):
    supabase_user = gotrue.add_user("owner@acme.test", SUPABASE_PASSWORD)
    response = log_in(client, "Owner@Acme.test", SUPABASE_PASSWORD)
    assert response.status_code == 302 and response["Location"] == "/"
    assert_dashboard_shows(client, "Acme Analytics")
    owner_a.refresh_from_db()
    assert owner_a.supabase_uid == uuid.UUID(supabase_user["id"])


def test_login_checks_the_password_at_supabase_not_in_django(gotrue, client, owner_a):
    gotrue.add_user("owner@acme.test", SUPABASE_PASSWORD)
    response = log_in(client, "owner@acme.test", PASSWORD)
    assert response.status_code == 200
    assert "Invalid login credentials" in page(response)
    assert_logged_out(client)


def test_login_before_confirming_the_email_says_so(confirming_gotrue, client, owner_a):
    confirming_gotrue.add_user("owner@acme.test", SUPABASE_PASSWORD, confirmed=False)
    response = log_in(client, "owner@acme.test", SUPABASE_PASSWORD)
    assert "Email not confirmed" in page(response)
    assert_logged_out(client)


def test_login_of_a_supabase_user_without_a_docent_account_asks_to_sign_up(gotrue, client):
    gotrue.add_user("drifter@nowhere.test", SUPABASE_PASSWORD)
    response = log_in(client, "drifter@nowhere.test", SUPABASE_PASSWORD)
    assert "No Docent account uses this email yet: sign up first." in page(response)
    assert_logged_out(client)


def test_login_asks_for_both_fields_without_calling_supabase(gotrue, client, owner_a):
    response = log_in(client, "owner@acme.test", "")
    assert "Enter your email and password." in page(response)
    assert gotrue.requests == []


def test_login_says_supabase_is_unavailable_when_it_rejects_the_api_key(settings, gotrue, client,
                                                                       owner_a):
    gotrue.add_user("owner@acme.test", SUPABASE_PASSWORD)
    settings.SUPABASE_ANON_KEY = "sb_publishable_of_another_project"
    response = log_in(client, "owner@acme.test", SUPABASE_PASSWORD)
    assert UNAVAILABLE in page(response)
    assert "Invalid API key" not in page(response)
    assert_logged_out(client)


def test_login_says_supabase_is_unavailable_when_it_cannot_be_reached(settings, client, owner_a):
    settings.SUPABASE_URL = unreachable_url()
    settings.SUPABASE_ANON_KEY = ANON_KEY
    response = log_in(client, "owner@acme.test", SUPABASE_PASSWORD)
    assert UNAVAILABLE in page(response)
    assert_logged_out(client)


@pytest.mark.parametrize("next_url, destination", [
    ("/settings/company/", "/settings/company/"),
    ("https://evil.example/", "/"),
    ("//evil.example/", "/"),
    ("/\\evil.example/", "/"),
])
def test_login_goes_on_to_next_only_within_the_site(gotrue, client, owner_a, next_url, destination):
    gotrue.add_user("owner@acme.test", SUPABASE_PASSWORD)
    response = log_in(client, "owner@acme.test", SUPABASE_PASSWORD, next=next_url)
    assert response.status_code == 302
    assert response["Location"] == destination


def test_login_leaves_no_session_refresh_running_on_the_server(gotrue, client, owner_a):
    """Supabase sessions belong to the browser; the server keeps only the Django session."""
    gotrue.add_user("owner@acme.test", SUPABASE_PASSWORD)
    timers_before = {t for t in threading.enumerate() if isinstance(t, threading.Timer)}
    assert log_in(client, "owner@acme.test", SUPABASE_PASSWORD).status_code == 302
    assert Client().post("/signup/", SIGNUP).status_code == 302
    timers_after = {t for t in threading.enumerate() if isinstance(t, threading.Timer)}
    assert timers_after - timers_before == set()


def test_password_reset_asks_supabase_to_send_the_email(gotrue, client, owner_a, mailoutbox):
    response = client.post("/password/reset/", {"email": "owner@acme.test"})
    assert response.status_code == 302 and response["Location"] == "/password/reset/sent/"
    # No PKCE challenge: its verifier would have to outlive this request for the link to work.
    assert gotrue.recoveries == [Recovery(email="owner@acme.test",
                                          redirect_to=f"http://testserver{RECOVERY_PAGE}",
                                          code_challenge=None)]
    assert mailoutbox == []


def test_password_reset_shows_when_supabase_cannot_be_reached(settings, client, owner_a, mailoutbox):
    settings.SUPABASE_URL = unreachable_url()
    settings.SUPABASE_ANON_KEY = ANON_KEY
    response = client.post("/password/reset/", {"email": "owner@acme.test"})
    assert response.status_code == 200
    assert UNAVAILABLE in page(response)
    assert mailoutbox == []


def test_without_supabase_settings_django_signs_up_and_logs_in(settings, gotrue, client):
    settings.SUPABASE_URL = ""
    settings.SUPABASE_ANON_KEY = ""
    assert client.post("/signup/", SIGNUP).status_code == 302
    client.post("/logout/")
    assert_logged_out(client)
    response = log_in(client, SIGNUP["email"], SIGNUP["password"])
    assert response.status_code == 302
    assert_dashboard_shows(client, "Orbit Optics")
    assert User.objects.get(email="olivia@orbit.test").supabase_uid is None
    assert gotrue.requests == []


def test_an_access_token_from_supabase_authenticates_the_api(settings, gotrue, client):
    """End to end: sign up in the dashboard, sign in to Supabase as an app would, call the API."""
    client.post("/signup/", SIGNUP)
    app_side = create_client(gotrue.url, ANON_KEY, SyncClientOptions(auto_refresh_token=False))
    session = app_side.auth.sign_in_with_password({"email": SIGNUP["email"],
                                                   "password": SIGNUP["password"]}).session
    response = APIClient().get("/api/me", HTTP_AUTHORIZATION=f"Bearer {session.access_token}")
    assert response.status_code == 200
    assert response.json()["email"] == "olivia@orbit.test"
    assert response.json()["company"]["name"] == "Orbit Optics"


def follow_recovery_link(client, gotrue, email: str) -> dict:
    """Ask for the reset email and follow its link as a browser does: the page loads without the
    URL fragment, whose tokens the page's script copies into the form."""
    client.post("/password/reset/", {"email": email})
    link = urlsplit(gotrue.recovery_link(gotrue.recoveries[-1]))
    assert client.get(link.path).status_code == 200
    fragment = dict(parse_qsl(link.fragment))
    return {"access_token": fragment["access_token"], "refresh_token": fragment["refresh_token"]}


def choose_password(client, tokens: dict, password: str):
    return client.post(RECOVERY_PAGE, {**tokens, "new_password1": password, "new_password2": password})


def password_updates(gotrue) -> list:
    return [r for r in gotrue.requests if (r.method, r.path) == ("PUT", "/auth/v1/user")]


def test_recovery_link_sets_the_new_password_at_supabase_and_logs_in(gotrue, client, owner_a):
    supabase_user = gotrue.add_user("owner@acme.test", SUPABASE_PASSWORD)
    tokens = follow_recovery_link(client, gotrue, "owner@acme.test")
    response = choose_password(client, tokens, NEW_PASSWORD)
    assert response.status_code == 302 and response["Location"] == "/"
    dashboard = client.get("/")
    assert "Acme Analytics" in page(dashboard) and "Your password is changed." in page(dashboard)
    owner_a.refresh_from_db()
    assert owner_a.supabase_uid == uuid.UUID(supabase_user["id"])
    assert log_in(Client(), "owner@acme.test", NEW_PASSWORD).status_code == 302
    assert "Invalid login credentials" in page(log_in(Client(), "owner@acme.test", SUPABASE_PASSWORD))


def _forged(claims: dict) -> str:
    return jwt.encode(claims, "the-jwt-secret-of-some-other-project-which-signed-this-token",
                      algorithm="HS256")


def _expired(claims: dict) -> str:
    return jwt.encode({**claims, "exp": int(time.time()) - 60}, JWT_SECRET, algorithm="HS256")


@pytest.mark.parametrize("tamper, reason", [(_forged, "Token signature is invalid."),
                                            (_expired, "Token has expired.")])
def test_recovery_refuses_a_token_that_is_not_a_valid_one_of_the_project(gotrue, client, owner_a,
                                                                        tamper, reason):
    gotrue.add_user("owner@acme.test", SUPABASE_PASSWORD)
    tokens = follow_recovery_link(client, gotrue, "owner@acme.test")
    claims = jwt.decode(tokens["access_token"], options={"verify_signature": False})
    response = choose_password(client, {**tokens, "access_token": tamper(claims)}, NEW_PASSWORD)
    assert response.status_code == 200
    assert f"This link cannot be used: {reason}" in page(response)
    assert 'href="/password/reset/">Ask for a new one' in page(response)
    assert password_updates(gotrue) == []
    assert_logged_out(client)


def test_recovery_refuses_a_weak_password_without_calling_supabase(gotrue, client, owner_a):
    gotrue.add_user("owner@acme.test", SUPABASE_PASSWORD)
    tokens = follow_recovery_link(client, gotrue, "owner@acme.test")
    calls_before = len(gotrue.requests)
    response = choose_password(client, tokens, "12345678")
    assert response.status_code == 200
    assert "This password is too common." in page(response)
    assert len(gotrue.requests) == calls_before
    # The form comes back with the link's tokens, for another try without a new email.
    assert f'value="{tokens["access_token"]}"' in page(response)
    assert_logged_out(client)


def test_recovery_shows_supabases_refusal_of_the_same_password(gotrue, client, owner_a):
    gotrue.add_user("owner@acme.test", SUPABASE_PASSWORD)
    tokens = follow_recovery_link(client, gotrue, "owner@acme.test")
    response = choose_password(client, tokens, SUPABASE_PASSWORD)
    assert response.status_code == 200
    assert "New password should be different from the old password." in page(response)
    assert_logged_out(client)


def test_recovery_says_supabase_is_unavailable_when_it_rejects_the_api_key(settings, gotrue, client,
                                                                          owner_a):
    gotrue.add_user("owner@acme.test", SUPABASE_PASSWORD)
    tokens = follow_recovery_link(client, gotrue, "owner@acme.test")
    settings.SUPABASE_ANON_KEY = "sb_publishable_of_another_project"
    response = choose_password(client, tokens, NEW_PASSWORD)
    assert UNAVAILABLE in page(response)
    assert gotrue.passwords["owner@acme.test"] == SUPABASE_PASSWORD
    assert_logged_out(client)


def test_recovery_of_a_supabase_user_without_a_docent_account_asks_to_sign_up(gotrue, client):
    gotrue.add_user("drifter@nowhere.test", SUPABASE_PASSWORD)
    tokens = follow_recovery_link(client, gotrue, "drifter@nowhere.test")
    response = choose_password(client, tokens, NEW_PASSWORD)
    assert "No Docent account uses this email yet: sign up first." in page(response)
    assert_logged_out(client)


def test_recovery_page_takes_the_tokens_from_the_fragment_with_its_own_script(gotrue, client):
    html = page(client.get(RECOVERY_PAGE))
    assert '<script src="/static/js/supabase-recovery.js">' in html
    assert all("src=" in tag for tag in re.findall(r"<script[^>]*>", html))  # no inline script
    assert 'name="access_token"' in html and 'name="refresh_token"' in html
    script = open(finders.find("js/supabase-recovery.js")).read()
    assert "id_access_token" in script and "history.replaceState" in script


def test_recovery_page_does_not_exist_without_supabase(settings, client):
    settings.SUPABASE_URL = ""
    settings.SUPABASE_ANON_KEY = ""
    assert client.get(RECOVERY_PAGE).status_code == 404


def test_change_password_offers_the_emailed_link_for_the_users_own_email(gotrue, client, owner_a):
    client.force_login(owner_a)
    html = page(client.get("/password/change/"))
    assert '<form method="post" action="/password/reset/">' in html
    assert '<input type="hidden" name="email" value="owner@acme.test">' in html
    assert "old_password" not in html  # Django's form would change a password nobody logs in with
