"""Supabase Auth (GoTrue) for the dashboard's signup and login, through the supabase client.

Active when SUPABASE_URL and SUPABASE_ANON_KEY are set; Django's own auth serves otherwise.
"""

from dataclasses import dataclass

import httpx
from django.conf import settings
from supabase import create_client
from supabase_auth.errors import AuthError

UNREACHABLE = "Supabase Auth could not be reached; try again in a moment."


class SupabaseAuthFailed(Exception):
    pass


@dataclass(frozen=True)
class SupabaseIdentity:
    uid: str
    email: str


def supabase_auth_enabled() -> bool:
    return bool(settings.SUPABASE_URL and settings.SUPABASE_ANON_KEY)


def _auth():
    return create_client(settings.SUPABASE_URL, settings.SUPABASE_ANON_KEY).auth


def _identity(response) -> SupabaseIdentity:
    if response.user is None:
        raise SupabaseAuthFailed("Supabase returned no user.")
    return SupabaseIdentity(uid=str(response.user.id), email=(response.user.email or "").lower())


def supabase_sign_up(*, email: str, password: str, name: str) -> SupabaseIdentity:
    try:
        return _identity(_auth().sign_up({"email": email, "password": password, "options": {"data": {"name": name}}}))
    except AuthError as exc:
        raise SupabaseAuthFailed(exc.message) from None
    except httpx.HTTPError:
        raise SupabaseAuthFailed(UNREACHABLE) from None


def supabase_sign_in(*, email: str, password: str) -> SupabaseIdentity:
    try:
        return _identity(_auth().sign_in_with_password({"email": email, "password": password}))
    except AuthError as exc:
        raise SupabaseAuthFailed(exc.message) from None
    except httpx.HTTPError:
        raise SupabaseAuthFailed(UNREACHABLE) from None


def supabase_send_password_reset(*, email: str, redirect_to: str) -> None:
    try:
        _auth().reset_password_for_email(email, {"redirect_to": redirect_to})
    except AuthError as exc:
        raise SupabaseAuthFailed(exc.message) from None
    except httpx.HTTPError:
        raise SupabaseAuthFailed(UNREACHABLE) from None
