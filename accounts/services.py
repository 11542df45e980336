import logging
import secrets
import smtplib
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from accounts import keys
from accounts.models import Company, CompanyApiKey, Invitation, RotatingKey, User
from accounts.roles import Role
from accounts.selectors import api_keys_acting_as, invitation_token_hash, unlinked_user_by_email, user_by_supabase_uid
from accounts.supabase import (
    SupabaseAuthFailed,
    SupabaseIdentity,
    supabase_auth_enabled,
    supabase_sign_in,
    supabase_sign_up,
    supabase_update_password,
)
from config import rls
from config.errors import ApiError
from config.sockets import access_changed

logger = logging.getLogger(__name__)

NO_DOCENT_ACCOUNT = "No Docent account uses this email yet: sign up first."


def _user_create(*, email: str, name: str, password: str | None, company: Company, role: str,
                 supabase_uid: str | None = None) -> User:
    """With Supabase auth the password lives in Supabase, so the local one is unusable."""
    user = User.objects.create_user(email=email, password=password, name=name.strip(), company=company,
                                    role=role, supabase_uid=supabase_uid)
    if password is None:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user


# --- Signing up and logging in: Django's own passwords, or Supabase Auth's when it is on -----------

def _credentials(*, email: str, password: str, name: str) -> dict:
    """A new account's password, or with Supabase Auth on, the Supabase identity that holds it
    (SupabaseAuthFailed with the reason when Supabase refuses). Supabase is asked before any
    transaction opens, so no database lock waits on it."""
    if supabase_auth_enabled():
        identity = supabase_sign_up(email=email, password=password, name=name)
        return {"password": None, "supabase_uid": identity.uid}
    return {"password": password}


def company_signup(*, company_name: str, name: str, email: str, password: str) -> User:
    """Someone signs up: a new company, with them as its owner."""
    return company_create(company_name=company_name, name=name, email=email,
                          **_credentials(email=email, password=password, name=name))


@transaction.atomic
def company_create(*, company_name: str, name: str, email: str, password: str | None,
                   supabase_uid: str | None = None) -> User:
    """Create a company and its owner, whose password is `password` (None: Supabase's)."""
    company = Company(name=company_name.strip())
    rls.set_company(company.pk)  # the new company's rows, its own included, are the transaction's from here
    company.save(force_insert=True)
    return _user_create(email=email, name=name, password=password, company=company, role=Role.OWNER,
                        supabase_uid=supabase_uid)


def supabase_login(*, email: str, password: str) -> User:
    """The active Docent user whose Supabase Auth password this is; SupabaseAuthFailed saying why not."""
    return _supabase_user(supabase_sign_in(email=email, password=password))


def supabase_password_set(*, access_token: str, refresh_token: str, password: str) -> User:
    """Give the Supabase user of a session (a recovery link's) a new password; its active Docent user, or
    SupabaseAuthFailed saying why not."""
    return _supabase_user(supabase_update_password(access_token=access_token, refresh_token=refresh_token,
                                                   password=password))


def _supabase_user(identity: SupabaseIdentity) -> User:
    user = user_for_supabase_identity(uid=identity.uid, email=identity.email, email_confirmed=identity.email_confirmed)
    if user is None or not user.is_active:
        raise SupabaseAuthFailed(NO_DOCENT_ACCOUNT)
    return user


def user_for_supabase_identity(*, uid: str, email: str, email_confirmed: bool) -> User | None:
    """The local user a Supabase identity maps to: by its id, else by email on first use (linked).

    Linking by email needs Supabase's word that the address was confirmed: otherwise anyone could
    register somebody else's address in Supabase and take over that person's Docent account.
    """
    user = user_by_supabase_uid(uid)
    if user is not None or not (email and email_confirmed):
        return user
    user = unlinked_user_by_email(email)
    if user is not None:
        user.supabase_uid = uid
        user.save(update_fields=["supabase_uid"])
    return user


def company_update(*, company: Company, **fields) -> Company:
    for name, value in fields.items():
        setattr(company, name, value)
    company.save(update_fields=list(fields))
    return company


@transaction.atomic
def company_delete(*, company: Company) -> None:
    """Delete the company with everything it owns (users, files, chatbots, conversations); its people's
    open sockets close."""
    for user_id in company.users.values_list("pk", flat=True):
        access_changed("user", user_id)
    company.delete()


# --- Team: invitations ----------------------------------------------------------------------

UNUSABLE_INVITATION = {
    Invitation.Status.EXPIRED: "This invitation has expired. Ask the person who invited you to send a new one.",
    Invitation.Status.ACCEPTED: "This invitation was already used. Log in with the account it created.",
    Invitation.Status.REVOKED: "This invitation was withdrawn or replaced by a newer one. Use the most "
                               "recent invitation email, or ask the person who invited you.",
}


def _send_invitation(invitation: Invitation) -> None:
    context = {"invitation": invitation, "company": invitation.company.name, "link": invitation.accept_link,
               "expiry_hours": settings.INVITATION_EXPIRY_HOURS}
    subject = " ".join(render_to_string("accounts/invitation_subject.txt", context).split())
    body = render_to_string("accounts/invitation_email.txt", context)
    try:
        send_mail(subject, body, None, [invitation.email])
    except (smtplib.SMTPException, OSError):
        logger.exception("Invitation email to %s could not be sent", invitation.email)
        raise ApiError("The invitation is saved, but its email could not be sent. Try Resend in a moment.",
                       code="email_failed", status_code=502) from None


def invitation_create(*, company: Company, invited_by: User, email: str, role: str, site_url: str) -> Invitation:
    """Invite `email` to the company and email the link; an open invitation to it is replaced.

    The returned invitation carries its link as `accept_link`, for the inviter to pass on however the
    email goes: only the token's hash is stored, so this is the one moment the link exists."""
    email = email.strip().lower()
    if User.objects.filter(company=company, email=email).exists():
        raise ApiError(f"{email} is already a member of this company.", code="already_member", status_code=409)
    with transaction.atomic():
        Invitation.objects.filter(company=company, email=email, accepted_at__isnull=True,
                                  revoked_at__isnull=True).update(revoked_at=timezone.now())
        token = secrets.token_urlsafe(32)
        invitation = Invitation.objects.create(
            company=company, email=email, role=role, invited_by=invited_by, token_hash=invitation_token_hash(token),
            expires_at=timezone.now() + timedelta(hours=settings.INVITATION_EXPIRY_HOURS))
    invitation.accept_link = site_url.rstrip("/") + reverse("invitation_accept", args=[token])
    _send_invitation(invitation)
    return invitation


def invitation_resend(*, invitation: Invitation, resent_by: User, site_url: str) -> Invitation:
    """A new invitation (new link, new expiry) replaces this one; the earlier link says it was replaced."""
    return invitation_create(company=invitation.company, invited_by=resent_by, email=invitation.email,
                             role=invitation.role, site_url=site_url)


def invitation_revoke(*, invitation: Invitation) -> None:
    invitation.revoked_at = timezone.now()
    invitation.save(update_fields=["revoked_at"])


def _invitation_claim(invitation: Invitation) -> Invitation:
    """Mark the invitation used, inside the caller's transaction; the row lock makes it single use."""
    invitation = Invitation.objects.select_for_update().select_related("company").get(pk=invitation.pk)
    if invitation.status != Invitation.Status.PENDING:
        raise ApiError(UNUSABLE_INVITATION[invitation.status], code=f"invitation_{invitation.status}",
                       status_code=410)
    invitation.accepted_at = timezone.now()
    invitation.save(update_fields=["accepted_at"])
    return invitation


def invitation_accept_new_user(*, invitation: Invitation, name: str, password: str) -> User:
    """The invitee has no account yet: make one in the company, with the invited email and role (its
    password Supabase's when Supabase Auth is on)."""
    return _invited_user_create(invitation, name=name,
                                **_credentials(email=invitation.email, password=password, name=name))


@transaction.atomic
def _invited_user_create(invitation: Invitation, *, name: str, password: str | None,
                         supabase_uid: str | None = None) -> User:
    invitation = _invitation_claim(invitation)
    return _user_create(email=invitation.email, name=name, password=password, company=invitation.company,
                        role=invitation.role, supabase_uid=supabase_uid)


def invitation_join_check(*, user: User, invitation: Invitation) -> None:
    """An ApiError unless this logged-in account may join the invitation's company: an account belongs to
    one company only, and an invitation is for the address it was sent to."""
    if user.company_id is not None:
        raise ApiError(f"You are logged in as {user.email}, which belongs to {user.company.name}. A Docent "
                       f"account belongs to one company only: to join {invitation.company.name}, ask for an "
                       "invitation to another email address.", code="already_in_company", status_code=409)
    if user.email != invitation.email:
        raise ApiError(f"This invitation is for {invitation.email}, but you are logged in as {user.email}. "
                       "Log out, then open the link again.", code="wrong_account", status_code=403)


@transaction.atomic
def invitation_accept_existing_user(*, invitation: Invitation, user: User) -> User:
    """An account without a company (say, removed from another one) joins with the invited role. The
    transaction admits the invitation's company (its token named it) and the account's own row (its session)."""
    user = User.objects.select_for_update().get(pk=user.pk)
    invitation_join_check(user=user, invitation=invitation)
    invitation = _invitation_claim(invitation)
    user.company, user.role = invitation.company, invitation.role
    user.save(update_fields=["company", "role"])
    return user


# --- Team: members --------------------------------------------------------------------------

def _refuse_owner_change(member: User) -> None:
    # Ownership only moves by a transfer, which names the next owner first: a company always has one.
    if member.role == Role.OWNER:
        raise ApiError("An owner stays owner until they transfer ownership to another member.",
                       code="owner_protected", status_code=409)


def member_update_role(*, member: User, role: str) -> User:
    _refuse_owner_change(member)
    member.role = role
    member.save(update_fields=["role"])
    access_changed("user", member.pk)
    return member


@transaction.atomic
def member_remove(*, member: User, removed_by: User, transfer_api_keys: bool = False) -> list[CompanyApiKey]:
    """Take the person out of the company; the account stays, without a company, so it can be invited again.

    Their sessions lose access at once. The company API keys acting as them are revoked, or, when
    `transfer_api_keys`, act as the remover from now on (a live integration may depend on one).
    Returns those keys.
    """
    _refuse_owner_change(member)
    acting = list(api_keys_acting_as(member=member))
    if transfer_api_keys and removed_by.pk != member.pk:
        CompanyApiKey.objects.filter(pk__in=[key.pk for key in acting]).update(created_by=removed_by)
    else:
        _revoke_keys(acting, reason=CompanyApiKey.RevokedReason.CREATOR_REMOVED)
    member.company, member.role = None, Role.MEMBER
    with rls.dangerously_all_companies(rls.WayAround.MEMBER_LEAVES):
        member.save(update_fields=["company", "role"])
    access_changed("user", member.pk)  # their open chat and status sockets close
    return acting


def account_changed_by_admin(*, before: User, after: User) -> None:
    """A superuser edited the account in admin. Moved out of a company, the keys acting as it there are
    revoked, as on a removal; moved, deactivated or given another role, its open sockets check their access."""
    if before.company_id is not None and before.company_id != after.company_id:
        acting = CompanyApiKey.objects.filter(company_id=before.company_id, created_by=after, revoked_at__isnull=True)
        _revoke_keys(list(acting), reason=CompanyApiKey.RevokedReason.CREATOR_REMOVED)
    if (before.company_id, before.role, before.is_active) != (after.company_id, after.role, after.is_active):
        access_changed("user", after.pk)


def _revoke_keys(api_keys: list[CompanyApiKey], *, reason: str) -> None:
    for api_key in api_keys:
        key_revoke(api_key, revoked_reason=reason)


@transaction.atomic
def ownership_transfer(*, owner: User, new_owner: User) -> User:
    """`new_owner` becomes the owner; the previous owner stays on as an admin."""
    if new_owner.pk == owner.pk:
        raise ApiError("You are already the owner.", code="already_owner", status_code=400)
    new_owner.role, owner.role = Role.OWNER, Role.ADMIN
    new_owner.save(update_fields=["role"])
    owner.save(update_fields=["role"])
    return new_owner


# --- Keys: issue, rotate, revoke (company API keys here; integrations' keys the same way) ---------

SHOWN_ONCE = "Copy this key now: it is shown only once. Docent stores only its hash and cannot show it again."
_KEY_FIELDS = ["api_key", "key_hash", "key_last_four", "previous_api_key", "previous_key_hash",
               "previous_valid_until"]


@dataclass(frozen=True)
class IssuedKey:
    """A record with the key just made for it; `secret` is the clear secret, or None for a publishable key.

    A secret exists in clear only here, to be shown once; the database keeps its public id, hash and last four.
    """

    record: RotatingKey
    secret: str | None
    created: bool = True


def grace_hours() -> int:
    """How long a rotated key keeps working (INTEGRATION_KEY_GRACE_HOURS, default 24)."""
    return settings.INTEGRATION_KEY_GRACE_HOURS


def key_issue(record: RotatingKey, prefix: str | None) -> str | None:
    """Give `record` a new key (not saved); return the secret, or None when the key is publishable."""
    if prefix is None:
        record.api_key, record.key_hash, record.key_last_four = keys.new_publishable(), "", ""
        return None
    secret = keys.new_secret(prefix)
    record.api_key, record.key_hash, record.key_last_four = secret.public_id, secret.hash, secret.last_four
    return secret.key


@transaction.atomic
def key_rotate(record: RotatingKey, prefix: str | None) -> IssuedKey:
    """A new key; the current one keeps working for the grace period, the one before it stops now."""
    record = type(record).objects.select_for_update().get(pk=record.pk)
    if record.is_revoked:
        raise ApiError("This key is revoked and cannot be rotated; delete it and create a new one.",
                       code="revoked", status_code=409)
    record.previous_api_key, record.previous_key_hash = record.api_key, record.key_hash
    record.previous_valid_until = timezone.now() + timedelta(hours=grace_hours())
    secret = key_issue(record, prefix)
    record.save(update_fields=_KEY_FIELDS + _updated_at(record))
    return IssuedKey(record=record, secret=secret)


@transaction.atomic
def key_revoke(record: RotatingKey, **why) -> RotatingKey:
    """Refused from now on, the current key and any previous one still in its grace period; `why`
    sets the record's reason fields, if it has any."""
    record = type(record).objects.select_for_update().get(pk=record.pk)
    if not record.is_revoked:
        record.revoked_at = timezone.now()
        record.previous_valid_until = None
        for name, value in why.items():
            setattr(record, name, value)
        record.save(update_fields=["revoked_at", "previous_valid_until", *why] + _updated_at(record))
    return record


def _updated_at(record: RotatingKey) -> list[str]:
    return ["updated_at"] if hasattr(record, "updated_at") else []


def _api_key_prefix(api_key: CompanyApiKey) -> str:
    return keys.READ_ONLY if api_key.scope == CompanyApiKey.Scope.READ else keys.READ_WRITE


@transaction.atomic
def api_key_create(*, company: Company, name: str, scope: str, created_by: User) -> IssuedKey:
    """A company API key acting as `created_by`, within `scope`; the secret is returned here only."""
    api_key = CompanyApiKey(company=company, name=name, scope=scope, created_by=created_by)
    secret = key_issue(api_key, _api_key_prefix(api_key))
    api_key.save(force_insert=True)
    return IssuedKey(record=api_key, secret=secret)


def api_key_rotate(*, api_key: CompanyApiKey) -> IssuedKey:
    return key_rotate(api_key, _api_key_prefix(api_key))


def api_key_revoke(*, api_key: CompanyApiKey) -> CompanyApiKey:
    return key_revoke(api_key, revoked_reason=CompanyApiKey.RevokedReason.BY_STAFF)


def api_key_delete(*, api_key: CompanyApiKey) -> None:
    api_key.delete()
