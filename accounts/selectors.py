import hashlib

from django.db.models import Q, QuerySet
from django.utils import timezone

from accounts import keys
from accounts.models import Company, CompanyApiKey, Invitation, RotatingKey, User
from config import rls


def user_by_supabase_uid(uid: str) -> User | None:
    """The user of a Supabase identity, whom the request's transaction then admits (config.rls)."""
    return _admitted_user(supabase_uid=uid)


def unlinked_user_by_email(email: str) -> User | None:
    """The user of a confirmed email no Supabase identity is linked to yet, then admitted like the above."""
    return _admitted_user(email=email.strip().lower(), supabase_uid__isnull=True)


def _admitted_user(**filters) -> User | None:
    with rls.dangerously_all_companies(rls.WayAround.SUPABASE_IDENTITY):
        user = User.objects.select_related("company").filter(**filters).first()
    rls.admit_user(user)
    return user


def member_list(*, company: Company) -> QuerySet[User]:
    return User.objects.filter(company=company).order_by("created_at")


def invitation_list(*, company: Company) -> QuerySet[Invitation]:
    """The company's invitations nobody accepted or revoked yet, expired ones included (to resend)."""
    return (Invitation.objects.filter(company=company, accepted_at__isnull=True, revoked_at__isnull=True)
            .select_related("invited_by").order_by("-created_at"))


def invitation_token_hash(token: str) -> str:
    # The token carries 256 random bits, so a fast unsalted hash cannot be brute-forced.
    return hashlib.sha256(token.encode()).hexdigest()


def invitation_by_token(token: str) -> Invitation | None:
    """The invitation, whose company the request's transaction then admits (config.rls)."""
    with rls.dangerously_all_companies(rls.WayAround.INVITATION_TOKEN):
        invitation = Invitation.objects.select_related("company").filter(
            token_hash=invitation_token_hash(token)).first()
    return _admitting_company_of(invitation)


def _admitting_company_of(record):
    """`record`, once the transaction admits its company's rows: those of whoever presented its token."""
    if record is not None:
        rls.set_company(record.company_id)
    return record


def account_exists(*, email: str) -> bool:
    with rls.dangerously_all_companies(rls.WayAround.EMAIL_TAKEN):
        return User.objects.filter(email=email).exists()


# --- Keys -----------------------------------------------------------------------------------

def key_record(queryset: QuerySet, key: str) -> RotatingKey | None:
    """The record of `queryset` that `key` belongs to: its current key, or its previous one within
    the grace period, never a revoked one; None for anything else (malformed keys cost no query)."""
    if not keys.well_formed(key):
        return None
    secret = not key.startswith(keys.PUBLISHABLE)
    identifier = keys.public_id(key) if secret else key
    now = timezone.now()
    with rls.dangerously_all_companies(rls.WayAround.KEY_BY_HASH):
        record = queryset.filter(Q(api_key=identifier) | Q(previous_api_key=identifier, previous_valid_until__gt=now),
                                 revoked_at__isnull=True).first()
    if record is None:
        return None
    if secret and not keys.matches(key, record.key_hash if record.api_key == identifier else record.previous_key_hash):
        return None
    return _admitting_company_of(record)


def company_api_key(key: str) -> CompanyApiKey | None:
    """The company API key `key` is, if it is well formed, current (or in its grace period) and not revoked."""
    if not key.startswith(keys.COMPANY_PREFIXES):
        return None
    return key_record(CompanyApiKey.objects.select_related("company", "created_by"), key)


def api_key_list(*, company: Company) -> QuerySet[CompanyApiKey]:
    """The company's keys, every one: their creators are read apart (a join would drop the keys of a creator
    who left, whose account row-level security then hides) and are None for those (`CompanyApiKey.creator`)."""
    return CompanyApiKey.objects.filter(company=company).prefetch_related("created_by").order_by("-created_at")


def api_keys_acting_as(*, member: User) -> QuerySet[CompanyApiKey]:
    """The working keys of the member's company that act as the member: what removing them would stop."""
    return api_key_list(company=member.company).filter(created_by=member, revoked_at__isnull=True)
