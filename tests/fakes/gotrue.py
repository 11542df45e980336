"""Supabase Auth (GoTrue) on 127.0.0.1, speaking the endpoints supabase-py's auth client calls.

    with running_gotrue(anon_key=..., jwt_secret=...) as gotrue:
        settings.SUPABASE_URL = gotrue.url

Like the real service it rejects requests without the project's `apikey`, answers with GoTrue's
session, user and error bodies, and issues access tokens that are real HS256 JWTs signed with the
project's JWT secret (so Docent's API accepts them when SUPABASE_JWT_SECRET is that secret).
It also serves the project's JWKS, holding whatever public keys a test publishes, and
`recovery_link` stands for following the link in a password recovery email.
"""

import secrets
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlencode

import jwt

from tests.fakes.http import Reply, Request, serve

AUTH = "/auth/v1"
JWKS_PATH = f"{AUTH}/.well-known/jwks.json"
API_VERSION_HEADER = "x-supabase-api-version"
ACCESS_TOKEN_LIFETIME = 3600


@dataclass(frozen=True)
class Recovery:
    """A password recovery email GoTrue was asked to send."""

    email: str
    redirect_to: str | None
    code_challenge: str | None  # set by PKCE clients, which must keep the verifier to use the link


def _now() -> str:
    return datetime.now(UTC).isoformat()


def _error(request: Request, status: int, code: str, message: str) -> Reply:
    """GoTrue's error body, in the shape of the API version the client asked for."""
    if request.headers.get(API_VERSION_HEADER, "") >= "2024-01-01":
        return Reply(status, {"code": code, "message": message}, {API_VERSION_HEADER: "2024-01-01"})
    return Reply(status, {"code": status, "error_code": code, "msg": message})


class FakeGoTrue:
    def __init__(self, *, anon_key: str, jwt_secret: str, confirm_email: bool = False):
        self.anon_key = anon_key
        self.jwt_secret = jwt_secret
        self.confirm_email = confirm_email  # the project setting "Confirm email"
        self.url = ""
        self.users: dict[str, dict] = {}  # by email, in GoTrue's JSON shape
        self.passwords: dict[str, str] = {}
        self.recoveries: list[Recovery] = []
        self.published_keys: list[dict] = []
        self.requests: list[Request] = []  # the server's record, once running

    @property
    def issuer(self) -> str:
        return f"{self.url}{AUTH}"

    @property
    def jwks_url(self) -> str:
        return f"{self.url}{JWKS_PATH}"

    def add_user(self, email: str, password: str, *, data: dict | None = None,
                 confirmed: bool = True) -> dict:
        uid, now = str(uuid.uuid4()), _now()
        identity_data = {"email": email, "email_verified": confirmed, "phone_verified": False,
                         "sub": uid}
        self.users[email] = {
            "id": uid, "aud": "authenticated", "role": "authenticated", "email": email,
            "email_confirmed_at": now if confirmed else None, "phone": "",
            "confirmation_sent_at": None if confirmed else now,
            "confirmed_at": now if confirmed else None, "last_sign_in_at": None,
            "app_metadata": {"provider": "email", "providers": ["email"]},
            "user_metadata": {**identity_data, **(data or {})},
            "identities": [{
                "identity_id": str(uuid.uuid4()), "id": uid, "user_id": uid,
                "identity_data": identity_data, "provider": "email", "last_sign_in_at": now,
                "created_at": now, "updated_at": now, "email": email,
            }],
            "created_at": now, "updated_at": now, "is_anonymous": False,
        }
        self.passwords[email] = password
        return self.users[email]

    def access_token(self, user: dict, *, method: str = "password") -> str:
        issued_at = int(time.time())
        claims = {
            "iss": self.issuer, "sub": user["id"], "aud": "authenticated",
            "exp": issued_at + ACCESS_TOKEN_LIFETIME, "iat": issued_at,
            "email": user["email"], "phone": "", "app_metadata": user["app_metadata"],
            "user_metadata": user["user_metadata"], "role": "authenticated", "aal": "aal1",
            "amr": [{"method": method, "timestamp": issued_at}],
            "session_id": str(uuid.uuid4()), "is_anonymous": False,
        }
        return jwt.encode(claims, self.jwt_secret, algorithm="HS256")

    def __call__(self, request: Request) -> Reply:
        if (request.method, request.path) == ("GET", JWKS_PATH):
            return Reply(200, {"keys": self.published_keys})  # public: no apikey needed
        if request.headers.get("apikey") != self.anon_key:
            # The API gateway answers this one, in its own shape rather than GoTrue's.
            return Reply(401, {"message": "Invalid API key",
                               "hint": "Double check your Supabase `anon` or `service_role` API key."})
        endpoint = {
            ("POST", f"{AUTH}/signup"): self._signup,
            ("POST", f"{AUTH}/token"): self._token,
            ("POST", f"{AUTH}/recover"): self._recover,
            ("GET", f"{AUTH}/user"): self._get_user,
            ("PUT", f"{AUTH}/user"): self._update_user,
        }.get((request.method, request.path))
        if endpoint is None:
            return Reply(404, {"message": "no Route matched with those values"})
        return endpoint(request)

    def recovery_link(self, recovery: Recovery) -> str:
        """Where the emailed link sends the browser once GoTrue has checked it: to `redirect_to`
        with a session in the fragment, as GoTrue's implicit flow does."""
        session = self._session(self.users[recovery.email], method="recovery")
        fragment = {name: session[name] for name in
                    ("access_token", "expires_at", "expires_in", "refresh_token", "token_type")}
        return f"{recovery.redirect_to}#{urlencode({**fragment, 'type': 'recovery'})}"

    def _session(self, user: dict, *, method: str = "password") -> dict:
        return {
            "access_token": self.access_token(user, method=method), "token_type": "bearer",
            "expires_in": ACCESS_TOKEN_LIFETIME, "expires_at": int(time.time()) + ACCESS_TOKEN_LIFETIME,
            "refresh_token": secrets.token_urlsafe(9), "user": user, "weak_password": None,
        }

    def _obfuscated_user(self, email: str) -> dict:
        """What GoTrue returns, with email confirmation on, for an email that is already taken:
        a made-up user with no identities, so that signup cannot be used to probe for accounts."""
        now = _now()
        return {"id": str(uuid.uuid4()), "aud": "authenticated", "role": "authenticated",
                "email": email, "phone": "", "confirmation_sent_at": now,
                "app_metadata": {"provider": "email", "providers": ["email"]},
                "user_metadata": {}, "identities": [], "created_at": now, "updated_at": now,
                "is_anonymous": False}

    def _signup(self, request: Request) -> Reply:
        body = request.json()
        email = body["email"].lower()
        if email in self.users:
            if self.confirm_email:
                return Reply(200, self._obfuscated_user(email))
            return _error(request, 422, "user_already_exists", "User already registered")
        user = self.add_user(email, body["password"], data=body.get("data"),
                             confirmed=not self.confirm_email)
        if self.confirm_email:
            return Reply(200, user)  # no session until the emailed link is followed
        return Reply(200, self._session(user))

    def _token(self, request: Request) -> Reply:
        if request.query.get("grant_type") != "password":
            return _error(request, 400, "validation_failed", "unsupported_grant_type")
        body = request.json()
        email = (body.get("email") or "").lower()
        if email not in self.users or self.passwords[email] != body.get("password"):
            return _error(request, 400, "invalid_credentials", "Invalid login credentials")
        user = self.users[email]
        if user["email_confirmed_at"] is None:
            return _error(request, 400, "email_not_confirmed", "Email not confirmed")
        user["last_sign_in_at"] = _now()
        return Reply(200, self._session(user))

    def _recover(self, request: Request) -> Reply:
        body = request.json()
        self.recoveries.append(Recovery(email=body["email"], redirect_to=request.query.get("redirect_to"),
                                        code_challenge=body.get("code_challenge")))
        return Reply(200, {})  # the same for unknown emails, so it cannot be used to probe


    def _bearer_user(self, request: Request) -> dict | None:
        """The user whose valid access token authorizes the request."""
        token = request.headers.get("authorization", "").removeprefix("Bearer ")
        try:
            claims = jwt.decode(token, self.jwt_secret, algorithms=["HS256"], audience="authenticated")
        except jwt.InvalidTokenError:
            return None
        return next((user for user in self.users.values() if user["id"] == claims["sub"]), None)

    def _get_user(self, request: Request) -> Reply:
        user = self._bearer_user(request)
        if user is None:
            return _error(request, 403, "bad_jwt", "invalid JWT: unable to parse or verify signature")
        return Reply(200, user)

    def _update_user(self, request: Request) -> Reply:
        user = self._bearer_user(request)
        if user is None:
            return _error(request, 403, "bad_jwt", "invalid JWT: unable to parse or verify signature")
        password = request.json().get("password")
        if password is not None:
            if password == self.passwords[user["email"]]:
                return _error(request, 422, "same_password",
                              "New password should be different from the old password.")
            self.passwords[user["email"]] = password
        user["updated_at"] = _now()
        return Reply(200, user)


@contextmanager
def running_gotrue(*, anon_key: str, jwt_secret: str, confirm_email: bool = False
                   ) -> Iterator[FakeGoTrue]:
    gotrue = FakeGoTrue(anon_key=anon_key, jwt_secret=jwt_secret, confirm_email=confirm_email)
    with serve(gotrue) as server:
        gotrue.url = server.url
        gotrue.requests = server.requests
        yield gotrue
