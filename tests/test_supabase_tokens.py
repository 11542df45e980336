"""The API accepts Supabase access tokens (`Authorization: Bearer <jwt>`), verified locally.

Tokens are signed here, as Supabase signs them: HS256 with the project's JWT secret, or RS256 /
ES256 with a private key whose public half the project publishes in its JWKS (served by the fake
GoTrue on a local port).
"""

import base64
import hashlib
import hmac
import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from rest_framework.test import APIClient

from tests.fakes.gotrue import running_gotrue
from tests.fakes.http import unreachable_url

SECRET = "super-secret-jwt-token-with-at-least-64-characters-for-any-hmac-size"
ISSUER = "https://docent-test.supabase.co/auth/v1"
PROJECT_ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def hs256_project(settings):
    """A legacy Supabase project: access tokens are HS256 with the JWT secret."""
    settings.SUPABASE_JWT_SECRET = SECRET
    settings.SUPABASE_JWT_ISSUER = ISSUER
    settings.SUPABASE_JWKS_URL = ""


@pytest.fixture
def gotrue():
    with running_gotrue(anon_key="anon-key", jwt_secret=SECRET) as fake:
        yield fake


@pytest.fixture
def jwks_project(settings, gotrue):
    """A project with asymmetric signing keys, published at its JWKS URL."""
    settings.SUPABASE_JWT_SECRET = ""
    settings.SUPABASE_JWT_ISSUER = gotrue.issuer
    settings.SUPABASE_JWKS_URL = gotrue.jwks_url
    return gotrue


def claims_for(user, **overrides) -> dict:
    now = int(time.time())
    claims = {
        "iss": ISSUER, "sub": str(user.supabase_uid or uuid.uuid4()), "aud": "authenticated",
        "exp": now + 3600, "iat": now, "email": user.email, "role": "authenticated",
    }
    return {**claims, **overrides}


def call_api(token: str, client: APIClient | None = None):
    return (client or APIClient()).get("/api/me", HTTP_AUTHORIZATION=f"Bearer {token}")


def assert_rejected(response, message: str):
    assert response.status_code == 401, response.content
    assert response.json()["error"]["message"] == message
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unsigned_token(header: dict, claims: dict, signature: bytes = b"") -> str:
    return ".".join([b64url(json.dumps(header).encode()), b64url(json.dumps(claims).encode()),
                     b64url(signature)])


def new_private_key(alg: str):
    if alg == "RS256":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return ec.generate_private_key(ec.SECP256R1())


def published(gotrue, public_key, *, kid: str, alg: str) -> None:
    jwk = jwt.get_algorithm_by_name(alg).to_jwk(public_key, as_dict=True)
    gotrue.published_keys.append({**jwk, "kid": kid, "alg": alg, "use": "sig"})


@pytest.fixture
def linked_owner(owner_a):
    owner_a.supabase_uid = uuid.uuid4()
    owner_a.save(update_fields=["supabase_uid"])
    return owner_a


def test_it_answers_as_the_user_the_token_names(hs256_project, linked_owner):
    response = call_api(jwt.encode(claims_for(linked_owner), SECRET, algorithm="HS256"))
    assert response.status_code == 200
    assert response.json()["email"] == "owner@acme.test"
    assert response.json()["company"]["name"] == "Acme Analytics"


def test_it_never_links_an_account_by_the_tokens_email(hs256_project, owner_a):
    # The token does not say whether its email was confirmed: whoever registered this address in
    # Supabase must not become owner_a. Linking happens at dashboard login, on a confirmed email.
    response = call_api(jwt.encode(claims_for(owner_a, sub=str(uuid.uuid4())), SECRET, algorithm="HS256"))
    assert_rejected(response, "No active Docent account matches this token.")
    owner_a.refresh_from_db()
    assert owner_a.supabase_uid is None


def test_it_finds_a_linked_user_by_sub_after_an_email_change(hs256_project, linked_owner):
    claims = claims_for(linked_owner, email="new-address@acme.test")
    response = call_api(jwt.encode(claims, SECRET, algorithm="HS256"))
    assert response.status_code == 200
    assert response.json()["email"] == "owner@acme.test"


def test_it_needs_no_csrf_token_with_a_bearer_token(hs256_project, linked_owner):
    client = APIClient(enforce_csrf_checks=True)
    token = jwt.encode(claims_for(linked_owner), SECRET, algorithm="HS256")
    response = client.patch("/api/company", {"name": "Acme Insights"}, format="json",
                            HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 200
    assert response.json()["name"] == "Acme Insights"


def test_it_asks_for_credentials_without_an_authorization_header(hs256_project, linked_owner):
    response = APIClient().get("/api/me")
    assert_rejected(response, "Authentication credentials were not provided.")
    assert response.json()["error"]["code"] == "not_authenticated"


def test_it_rejects_an_expired_token(hs256_project, linked_owner):
    expired = claims_for(linked_owner, iat=int(time.time()) - 7200, exp=int(time.time()) - 3600)
    response = call_api(jwt.encode(expired, SECRET, algorithm="HS256"))
    assert_rejected(response, "Token has expired.")
    assert response.json()["error"]["code"] == "authentication_failed"


def test_it_rejects_a_token_signed_with_another_secret(hs256_project, linked_owner):
    other_secret = "another-projects-secret-of-at-least-32-characters"
    response = call_api(jwt.encode(claims_for(linked_owner), other_secret, algorithm="HS256"))
    assert_rejected(response, "Token signature is invalid.")


def test_it_rejects_an_unsigned_token(hs256_project, linked_owner):
    token = unsigned_token({"alg": "none", "typ": "JWT"}, claims_for(linked_owner))
    assert_rejected(call_api(token), "Tokens signed with 'none' are not accepted.")


def test_it_rejects_an_algorithm_outside_the_allow_list(hs256_project, linked_owner):
    token = jwt.encode(claims_for(linked_owner), SECRET, algorithm="HS512")
    assert_rejected(call_api(token), "Tokens signed with 'HS512' are not accepted.")


def test_it_rejects_a_token_for_another_audience(hs256_project, linked_owner):
    token = jwt.encode(claims_for(linked_owner, aud="anon"), SECRET, algorithm="HS256")
    assert_rejected(call_api(token), "Token audience is not accepted.")


def test_it_rejects_a_token_from_another_issuer(hs256_project, linked_owner):
    claims = claims_for(linked_owner, iss="https://another-project.supabase.co/auth/v1")
    assert_rejected(call_api(jwt.encode(claims, SECRET, algorithm="HS256")),
                    "Token issuer is not accepted.")


def test_it_rejects_the_projects_anon_key_as_a_user_token(hs256_project, db):  # db: each request's transaction
    now = int(time.time())
    anon_key = jwt.encode({"iss": "supabase", "ref": "docent-test", "role": "anon", "iat": now,
                           "exp": now + 3600}, SECRET, algorithm="HS256")
    assert_rejected(call_api(anon_key), 'Token is invalid: Token is missing the "sub" claim.')


def test_it_rejects_a_subject_that_is_not_a_supabase_user_id(hs256_project, linked_owner):
    token = jwt.encode(claims_for(linked_owner, sub="owner"), SECRET, algorithm="HS256")
    assert_rejected(call_api(token), "Token subject is not a Supabase user id.")


def test_it_rejects_a_token_for_an_unknown_user(hs256_project, linked_owner):
    claims = claims_for(linked_owner, sub=str(uuid.uuid4()), email="stranger@elsewhere.test")
    assert_rejected(call_api(jwt.encode(claims, SECRET, algorithm="HS256")),
                    "No active Docent account matches this token.")


def test_it_rejects_a_token_for_a_deactivated_user(hs256_project, linked_owner):
    linked_owner.is_active = False
    linked_owner.save(update_fields=["is_active"])
    assert_rejected(call_api(jwt.encode(claims_for(linked_owner), SECRET, algorithm="HS256")),
                    "No active Docent account matches this token.")


def test_it_rejects_a_malformed_token(hs256_project, linked_owner):
    assert_rejected(call_api("not.a.jwt"), "Malformed token.")


def test_it_rejects_hs256_tokens_when_no_secret_is_configured(jwks_project, linked_owner):
    token = jwt.encode(claims_for(linked_owner, iss=jwks_project.issuer), SECRET, algorithm="HS256")
    assert_rejected(call_api(token), "Tokens signed with 'HS256' are not accepted.")


@pytest.mark.parametrize("alg", ["RS256", "ES256"])
def test_it_accepts_a_token_signed_with_a_key_from_the_projects_jwks(jwks_project, linked_owner, alg):
    private_key = new_private_key(alg)
    published(jwks_project, private_key.public_key(), kid="key-2025", alg=alg)
    claims = claims_for(linked_owner, iss=jwks_project.issuer)
    response = call_api(jwt.encode(claims, private_key, algorithm=alg, headers={"kid": "key-2025"}))
    assert response.status_code == 200
    assert response.json()["company"]["name"] == "Acme Analytics"


def test_it_rejects_a_token_signed_with_a_key_the_project_does_not_publish(jwks_project, linked_owner):
    published(jwks_project, new_private_key("ES256").public_key(), kid="key-2025", alg="ES256")
    stranger_key = new_private_key("ES256")
    claims = claims_for(linked_owner, iss=jwks_project.issuer)
    token = jwt.encode(claims, stranger_key, algorithm="ES256", headers={"kid": "key-1999"})
    assert_rejected(call_api(token), "Token signing key is not one of the project's keys.")


def test_it_rejects_a_token_whose_signature_does_not_match_the_published_key(jwks_project, linked_owner):
    published(jwks_project, new_private_key("ES256").public_key(), kid="key-2025", alg="ES256")
    forger_key = new_private_key("ES256")
    claims = claims_for(linked_owner, iss=jwks_project.issuer)
    token = jwt.encode(claims, forger_key, algorithm="ES256", headers={"kid": "key-2025"})
    assert_rejected(call_api(token), "Token signature is invalid.")


def test_it_rejects_an_hs256_token_keyed_with_the_published_public_key(settings, jwks_project,
                                                                       linked_owner):
    """The classic algorithm confusion: an attacker HMAC-signs with the public key's PEM."""
    settings.SUPABASE_JWT_SECRET = SECRET
    private_key = new_private_key("RS256")
    published(jwks_project, private_key.public_key(), kid="key-2025", alg="RS256")
    pem = private_key.public_key().public_bytes(serialization.Encoding.PEM,
                                                serialization.PublicFormat.SubjectPublicKeyInfo)
    header = {"alg": "HS256", "typ": "JWT", "kid": "key-2025"}
    claims = claims_for(linked_owner, iss=jwks_project.issuer)
    signing_input = unsigned_token(header, claims).rsplit(".", 1)[0]
    signature = hmac.new(pem, signing_input.encode(), hashlib.sha256).digest()
    assert_rejected(call_api(f"{signing_input}.{b64url(signature)}"), "Token signature is invalid.")


def test_it_rejects_an_asymmetric_token_when_the_project_publishes_no_keys(jwks_project, linked_owner):
    """A legacy (HS256-only) project serves an empty JWKS."""
    key = new_private_key("ES256")
    claims = claims_for(linked_owner, iss=jwks_project.issuer)
    token = jwt.encode(claims, key, algorithm="ES256", headers={"kid": "key-2025"})
    assert_rejected(call_api(token), "Token signing key is not one of the project's keys.")


def test_it_rejects_an_asymmetric_token_with_an_unreadable_payload(jwks_project, linked_owner):
    token = f"{b64url(json.dumps({'alg': 'RS256', 'kid': 'key-2025'}).encode())}.bm90IGpzb24.c2ln"
    assert_rejected(call_api(token), "Malformed token.")


def test_it_says_so_when_the_projects_keys_cannot_be_fetched(settings, jwks_project, linked_owner):
    settings.SUPABASE_JWKS_URL = unreachable_url() + "/auth/v1/.well-known/jwks.json"
    key = new_private_key("ES256")
    claims = claims_for(linked_owner, iss=jwks_project.issuer)
    token = jwt.encode(claims, key, algorithm="ES256", headers={"kid": "key-2025"})
    assert_rejected(call_api(token), "Token signing keys could not be fetched; try again in a moment.")


def test_jwks_url_and_issuer_default_to_the_supabase_projects_auth_endpoints():
    env = {key: value for key, value in os.environ.items()
           if key not in ("SUPABASE_JWKS_URL", "SUPABASE_JWT_ISSUER")}
    env.update(SUPABASE_URL="https://docent-test.supabase.co/", DJANGO_SETTINGS_MODULE="config.settings")
    script = "from django.conf import settings; print(settings.SUPABASE_JWKS_URL); print(settings.SUPABASE_JWT_ISSUER)"
    result = subprocess.run([sys.executable, "-c", script], cwd=PROJECT_ROOT, env=env,
                            capture_output=True, text=True, check=True)
    assert result.stdout.splitlines() == [
        "https://docent-test.supabase.co/auth/v1/.well-known/jwks.json",
        "https://docent-test.supabase.co/auth/v1",
    ]
