"""Verification of Supabase access tokens (JWT), locally: no call to Supabase per request."""

import logging
import uuid
from functools import lru_cache

import jwt
from django.conf import settings
from rest_framework.exceptions import AuthenticationFailed

logger = logging.getLogger(__name__)

ASYMMETRIC_ALGORITHMS = ("RS256", "ES256", "EdDSA")
REQUIRED_CLAIMS = ["exp", "sub", "aud"]


@lru_cache(maxsize=4)
def _jwks_client(url: str) -> jwt.PyJWKClient:
    return jwt.PyJWKClient(url, cache_keys=True, lifespan=600, timeout=5)


def _signing_key(token: str, algorithm: str):
    if algorithm == "HS256" and settings.SUPABASE_JWT_SECRET:
        return settings.SUPABASE_JWT_SECRET
    if algorithm in ASYMMETRIC_ALGORITHMS and settings.SUPABASE_JWKS_URL:
        return _published_key(token, settings.SUPABASE_JWKS_URL)
    raise AuthenticationFailed(f"Tokens signed with {algorithm!r} are not accepted.")


def _published_key(token: str, jwks_url: str):
    """The project's public key named by the token's `kid`, from its JWKS (cached)."""
    try:
        return _jwks_client(jwks_url).get_signing_key_from_jwt(token).key
    except jwt.PyJWKClientConnectionError as exc:
        logger.error("Supabase JWKS could not be fetched from %s: %s", jwks_url, exc)
        raise AuthenticationFailed("Token signing keys could not be fetched; try again in a moment.") from None
    except jwt.DecodeError:
        raise AuthenticationFailed("Malformed token.") from None
    except jwt.PyJWTError:
        # No such kid, or a JWKS without usable keys: a legacy project publishes an empty one.
        raise AuthenticationFailed("Token signing key is not one of the project's keys.") from None


def _check_subject(claims: dict) -> dict:
    # Supabase user ids are UUIDs; anything else would fail the user lookup with a 500.
    try:
        uuid.UUID(str(claims["sub"]))
    except ValueError:
        raise AuthenticationFailed("Token subject is not a Supabase user id.") from None
    return claims


def verify_supabase_token(token: str) -> dict:
    """Return the token's claims, or raise AuthenticationFailed with the reason."""
    try:
        algorithm = jwt.get_unverified_header(token).get("alg")
    except jwt.DecodeError:
        raise AuthenticationFailed("Malformed token.") from None
    key = _signing_key(token, algorithm)
    try:
        claims = jwt.decode(
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
    return _check_subject(claims)
