"""Verification of Supabase access tokens (JWT), locally: no call to Supabase per request."""

from functools import lru_cache

import jwt
from django.conf import settings
from rest_framework.exceptions import AuthenticationFailed

ASYMMETRIC_ALGORITHMS = ("RS256", "ES256", "EdDSA")
REQUIRED_CLAIMS = ["exp", "sub", "aud"]


@lru_cache(maxsize=4)
def _jwks_client(url: str) -> jwt.PyJWKClient:
    return jwt.PyJWKClient(url, cache_keys=True, lifespan=600, timeout=5)


def _signing_key(token: str, algorithm: str):
    if algorithm == "HS256" and settings.SUPABASE_JWT_SECRET:
        return settings.SUPABASE_JWT_SECRET
    if algorithm in ASYMMETRIC_ALGORITHMS and settings.SUPABASE_JWKS_URL:
        try:
            return _jwks_client(settings.SUPABASE_JWKS_URL).get_signing_key_from_jwt(token).key
        except jwt.PyJWKClientError as exc:
            raise AuthenticationFailed(f"Token signing key could not be found: {exc}") from None
    raise AuthenticationFailed(f"Tokens signed with {algorithm!r} are not accepted.")


def verify_supabase_token(token: str) -> dict:
    """Return the token's claims, or raise AuthenticationFailed with the reason."""
    try:
        algorithm = jwt.get_unverified_header(token).get("alg")
    except jwt.DecodeError:
        raise AuthenticationFailed("Malformed token.") from None
    key = _signing_key(token, algorithm)
    try:
        return jwt.decode(
            token,
            key,
            algorithms=[algorithm],
            audience=settings.SUPABASE_JWT_AUDIENCE,
            issuer=settings.SUPABASE_JWT_ISSUER or None,
            options={"require": REQUIRED_CLAIMS},
        )
    except jwt.ExpiredSignatureError:
        raise AuthenticationFailed("Token has expired.") from None
    except jwt.InvalidAudienceError:
        raise AuthenticationFailed("Token audience is not accepted.") from None
    except jwt.InvalidIssuerError:
        raise AuthenticationFailed("Token issuer is not accepted.") from None
    except jwt.InvalidSignatureError:
        raise AuthenticationFailed("Token signature is invalid.") from None
    except jwt.InvalidTokenError as exc:
        raise AuthenticationFailed(f"Token is invalid: {exc}.") from None
