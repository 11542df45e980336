from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed

from accounts import keys
from accounts.selectors import company_api_key, user_by_supabase_uid
from accounts.tokens import verify_supabase_token


def bearer_token(request) -> str | None:
    """The token of an `Authorization: Bearer …` header, or None when there is none: the one reading of
    that header, for Supabase tokens, company API keys and integrations' keys (chat.callers) alike."""
    parts = get_authorization_header(request).split()
    if not parts or parts[0].lower() != b"bearer":
        return None
    if len(parts) != 2:
        raise AuthenticationFailed("Malformed Authorization header: expected 'Bearer <token>'.")
    try:
        return parts[1].decode("ascii")
    except UnicodeDecodeError:
        raise AuthenticationFailed("Malformed Authorization header.") from None


class SupabaseJWTAuthentication(BaseAuthentication):
    """`Authorization: Bearer <Supabase access token>`, mapped to the local user."""

    def authenticate(self, request):
        token = bearer_token(request)
        if token is None or token.count(".") != 2:
            return None  # not a JWT: another authenticator (API keys) may take it
        claims = verify_supabase_token(token)
        # An access token does not say whether its email was confirmed, so it is matched by id
        # only; the dashboard login links an existing account by its confirmed email.
        user = user_by_supabase_uid(claims["sub"])
        if user is None or not user.is_active:
            raise AuthenticationFailed("No active Docent account matches this token.")
        return user, claims

    def authenticate_header(self, request):
        return 'Bearer realm="api"'


class SupabaseJWTScheme(OpenApiAuthenticationExtension):
    target_class = SupabaseJWTAuthentication
    name = "supabaseJWT"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "bearerFormat": "JWT",
                "description": "A Supabase Auth access token of a Docent user."}


class CompanyApiKeyAuthentication(BaseAuthentication):
    """`Authorization: Bearer dct_rw_…` (read-write) or `dct_ro_…` (read-only): a company API key.

    The request acts as the key's creator within the key's scope and the creator's role in the key's
    company; `request.auth` is the key. A key whose creator is deactivated or no longer a member of
    that company is refused like a revoked one.
    """

    def authenticate(self, request):
        token = bearer_token(request)
        if token is None or not token.startswith(keys.COMPANY_PREFIXES):
            return None
        key = company_api_key(token)
        if key is None or key.refusal_reason:
            raise AuthenticationFailed("Unknown, rotated or revoked API key.")
        key.note_use()
        return key.created_by, key

    def authenticate_header(self, request):
        return 'Bearer realm="api"'


class CompanyApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = CompanyApiKeyAuthentication
    name = "companyApiKey"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer",
                "description": "A company API key: dct_rw_… (read-write) or dct_ro_… (read-only)."}
