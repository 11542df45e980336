import uuid
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.exceptions import ObjectDoesNotExist
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from accounts.roles import ASSIGNABLE_ROLES, Capability, Role, role_allows


class Company(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.TextField()
    logo = models.TextField(blank=True, null=True)
    plan = models.TextField(default="free")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        db_table = "companies"
        verbose_name_plural = "companies"
        ordering = ["-created_at"]

    def __str__(self):
        return self.name

    @property
    def limits(self) -> dict:
        """The plan's limits (files, storage, messages per month, requests per minute)."""
        return settings.PLANS.get(self.plan, settings.PLANS["free"])


class UserManager(BaseUserManager):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **fields):
        if not email:
            raise ValueError("Users need an email address.")
        user = self.model(email=self.normalize_email(email).lower(), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **fields):
        fields.update(is_staff=True, is_superuser=True)
        return self.create_user(email, password, **fields)


class User(AbstractBaseUser, PermissionsMixin):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    email = models.EmailField(unique=True)
    name = models.TextField(blank=True, default="")
    company = models.ForeignKey(
        Company, on_delete=models.CASCADE, null=True, blank=True, related_name="users"
    )
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.MEMBER)
    supabase_uid = models.UUIDField(unique=True, null=True, blank=True)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False, help_text="Can log into Django admin.")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        db_table = "users"
        ordering = ["created_at"]

    def __str__(self):
        return self.email

    def can(self, capability: Capability) -> bool:
        return self.company_id is not None and role_allows(self.role, capability)


class Invitation(models.Model):
    """An emailed link that lets one person join a company with a role; single use, expires.

    Only a hash of the link's token is stored, so the database alone cannot be used to join.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        EXPIRED = "expired", "Expired"
        ACCEPTED = "accepted", "Accepted"
        REVOKED = "revoked", "Revoked"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField()
    role = models.CharField(max_length=16, choices=ASSIGNABLE_ROLES, default=Role.MEMBER)
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "invitations"
        ordering = ["-created_at"]
        constraints = [
            # Re-inviting an address replaces its open invitation, so at most one link works at a time.
            models.UniqueConstraint(fields=["company", "email"], name="one_open_invitation_per_email",
                                    condition=models.Q(accepted_at__isnull=True, revoked_at__isnull=True)),
        ]

    def __str__(self):
        return f"{self.email} → {self.company}"

    @property
    def status(self) -> str:
        if self.accepted_at is not None:
            return self.Status.ACCEPTED
        if self.revoked_at is not None:
            return self.Status.REVOKED
        if self.expires_at <= timezone.now():
            return self.Status.EXPIRED
        return self.Status.PENDING

    @property
    def is_open(self) -> bool:
        """Neither accepted nor revoked: listed on the team page, even once expired (to resend)."""
        return self.accepted_at is None and self.revoked_at is None


LAST_USED_PRECISION = timedelta(minutes=1)


class RotatingKey(models.Model):
    """A key that can be rotated (the old one works for a grace period) and revoked (refused at once).

    `api_key` is the key's public identifier: a publishable key itself, or the readable head of a
    secret key. A secret is stored only as its hash and last four characters.
    """

    api_key = models.TextField(unique=True, null=True, blank=True)
    key_hash = models.CharField(max_length=64, blank=True, default="")
    key_last_four = models.CharField(max_length=4, blank=True, default="")
    previous_api_key = models.TextField(unique=True, null=True, blank=True)
    previous_key_hash = models.CharField(max_length=64, blank=True, default="")
    previous_valid_until = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    @property
    def refusal_reason(self) -> str:
        """Why the key is refused, in words for key lists; "" while it works."""
        return "Revoked." if self.is_revoked else ""

    @classmethod
    def refused(cls) -> Q:
        """The records whose `refusal_reason` is not empty, as a filter."""
        return Q(revoked_at__isnull=False)

    @property
    def key_preview(self) -> str:
        """A secret key as it may be shown: its public head and last four characters; a publishable key whole."""
        return f"{self.api_key}…{self.key_last_four}" if self.key_hash else (self.api_key or "")

    def note_use(self) -> None:
        """Record that the key was just used, at most once a minute (a write per request would be waste)."""
        now = timezone.now()
        if self.last_used_at is None or now - self.last_used_at > LAST_USED_PRECISION:
            type(self).objects.filter(pk=self.pk).update(last_used_at=now)
            self.last_used_at = now

    def previous_key_valid(self, now=None) -> bool:
        return bool(self.previous_valid_until and self.previous_valid_until > (now or timezone.now()))


class CompanyApiKey(RotatingKey):
    """A developer's key for the whole REST API of one company, read-only or read-write.

    It acts as the person who made it, never beyond their role in the key's own company, and only
    while they are an active member of it: removing them revokes it (or hands it to the remover).
    """

    class Scope(models.TextChoices):
        READ = "read", "Read only"
        WRITE = "write", "Read and write"

    class RevokedReason(models.TextChoices):
        BY_STAFF = "revoked", "Revoked by staff."
        CREATOR_REMOVED = "creator_removed", "Its creator was removed from the company."

    SCOPE_CAPABILITIES = {
        Scope.READ: frozenset({Capability.READ}),
        Scope.WRITE: frozenset({Capability.READ, Capability.MANAGE_CONTENT, Capability.MANAGE_INTEGRATIONS}),
    }

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=100)
    scope = models.CharField(max_length=8, choices=Scope.choices)
    created_by = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+",
                                   help_text="The person the key acts as (the remover, once handed over).")
    created_at = models.DateTimeField(default=timezone.now)
    revoked_reason = models.CharField(max_length=32, choices=RevokedReason.choices, blank=True, default="")

    class Meta:
        db_table = "api_keys"
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["company", "created_at"], name="api_keys_company_created")]

    def __str__(self):
        return f"{self.name} ({self.get_scope_display()})"

    @property
    def creator(self) -> User | None:
        """The person the key acts as, while they belong to its company; None once they left it, when their
        account is no longer the company's to see (under row-level security the list cannot read it)."""
        try:
            creator = self.created_by
        except ObjectDoesNotExist:  # read apart and not found: hidden by row-level security
            return None
        return creator if creator.company_id == self.company_id else None

    @property
    def refusal_reason(self) -> str:
        """Why the key is refused, in words for the key list; "" while it works."""
        if self.is_revoked:
            return self.get_revoked_reason_display() or super().refusal_reason
        if self.creator is None:
            return "Its creator no longer belongs to the company."
        if not self.created_by.is_active:
            return "Its creator's account is deactivated."
        return ""

    @classmethod
    def refused(cls) -> Q:
        return (super().refused() | Q(created_by__is_active=False)
                | ~Q(created_by__company_id=F("company_id")))

    def allows(self, capability: Capability) -> bool:
        """Read for list/retrieve, write for the rest, within what its creator may do in the key's
        company; managing keys and members needs a person."""
        return (not self.refusal_reason and capability in self.SCOPE_CAPABILITIES[self.scope]
                and self.created_by.can(capability))
