"""Supabase Auth (GoTrue) for the dashboard's signup and login, through the supabase client.

Active when SUPABASE_URL and SUPABASE_ANON_KEY are set; Django's own auth serves otherwise.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from supabase import create_client
from supabase.lib.client_options import SyncClientOptions
from supabase_auth import SyncGoTrueClient
from supabase_auth.errors import AuthError

logger = logging.getLogger(__name__)

UNAVAILABLE = "Supabase Auth is unavailable right now; try again in a moment."
ALREADY_REGISTERED = "An account with this email already exists. Log in instead."


class SupabaseAuthFailed(Exception):
    pass


@dataclass(frozen=True)
class SupabaseIdentity:
    uid: str
    email: str
    email_confirmed: bool


def supabase_auth_enabled() -> bool:
    return bool(settings.SUPABASE_URL and settings.SUPABASE_ANON_KEY)


def _client_options() -> SyncClientOptions:
    # The client lives for one request on the server. The library's defaults suit a browser: they
    # start a refresh timer thread per login that would keep refreshing every user's Supabase
    # session in this process, and use PKCE, whose verifier would die with the client and leave
    # the emailed confirmation and recovery links unusable.
    return SyncClientOptions(auto_refresh_token=False, persist_session=False, flow_type="implicit")


def _call(action: Callable[[SyncGoTrueClient], object]):
    """Run `action` on a fresh auth client; GoTrue's failures become SupabaseAuthFailed."""
    auth = create_client(settings.SUPABASE_URL, settings.SUPABASE_ANON_KEY, _client_options()).auth
    try:
        return action(auth)
    except AuthError as exc:
        raise _failure(exc) from None
    finally:
        auth.close()


def _failure(exc: AuthError) -> SupabaseAuthFailed:
    # GoTrue writes its 4xx messages for the person at the form ("Invalid login credentials").
    # A rejected API key (401/403), a server error or no answer at all is for the operator.
    status = getattr(exc, "status", 0)
    if 400 <= status < 500 and status not in (401, 403):
        return SupabaseAuthFailed(exc.message)
    logger.error("Supabase Auth call failed (%s): %s", status or "no response", exc.message)
    return SupabaseAuthFailed(UNAVAILABLE)


def _identity(response) -> SupabaseIdentity:
    if response.user is None:
        raise SupabaseAuthFailed("Supabase returned no user.")
    user = response.user
    return SupabaseIdentity(uid=str(user.id), email=(user.email or "").lower(),
                            email_confirmed=user.email_confirmed_at is not None)


def supabase_sign_up(*, email: str, password: str, name: str) -> SupabaseIdentity:
    credentials = {"email": email, "password": password, "options": {"data": {"name": name}}}
    response = _call(lambda auth: auth.sign_up(credentials))
    # With "Confirm email" on, a taken email gets a made-up user without identities instead of
    # an error (so signup cannot probe for accounts); linking to its id would strand the account.
    if response.user is not None and response.user.identities == []:
        raise SupabaseAuthFailed(ALREADY_REGISTERED)
    return _identity(response)


def supabase_sign_in(*, email: str, password: str) -> SupabaseIdentity:
    return _identity(_call(lambda auth: auth.sign_in_with_password(
        {"email": email, "password": password})))


def supabase_send_password_reset(*, email: str, redirect_to: str) -> None:
    _call(lambda auth: auth.reset_password_for_email(email, {"redirect_to": redirect_to}))


def supabase_update_password(*, access_token: str, refresh_token: str, password: str
                             ) -> SupabaseIdentity:
    """Set a new password for the user of a session, such as the one a recovery link opens."""
    def update(auth: SyncGoTrueClient):
        auth.set_session(access_token, refresh_token)
        return auth.update_user({"password": password})

    return _identity(_call(update))
