import hashlib

from django.db.models import QuerySet

from accounts.models import Company, Invitation, User


def user_by_supabase_uid(uid: str) -> User | None:
    return User.objects.select_related("company").filter(supabase_uid=uid).first()


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
    return Invitation.objects.select_related("company").filter(token_hash=invitation_token_hash(token)).first()


def account_exists(*, email: str) -> bool:
    return User.objects.filter(email=email).exists()
