import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

from accounts.models import Company
from accounts.roles import Capability
from chatbots.models import Chatbot
from config.jsontext import JSONTextDecoder, validate_json_text


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
    def key_preview(self) -> str:
        """A secret key as it may be shown: its public head and last four characters; a publishable key whole."""
        return f"{self.api_key}…{self.key_last_four}" if self.key_hash else (self.api_key or "")

    def previous_key_valid(self, now=None) -> bool:
        return bool(self.previous_valid_until and self.previous_valid_until > (now or timezone.now()))


class Integration(RotatingKey):
    class Type(models.TextChoices):
        WIDGET = "widget", "Website widget"
        IFRAME = "iframe", "Iframe page"
        API = "api", "Server-to-server API"

    PUBLISHABLE_TYPES = (Type.WIDGET, Type.IFRAME)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    chatbot = models.ForeignKey(Chatbot, on_delete=models.CASCADE, related_name="integrations")
    type = models.TextField(choices=Type.choices)
    settings = models.JSONField(default=dict, blank=True, decoder=JSONTextDecoder,  # allowed_origins, …
                                validators=[validate_json_text])
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="integrations")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "integrations"
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["company", "created_at"], name="integrations_company_created")]
        # One of each type per chatbot: POST /api/integrations creates or updates it, and the
        # widget integration every chatbot has can be created lazily without a race.
        constraints = [models.UniqueConstraint(fields=["chatbot", "type"], name="integrations_one_per_type")]

    def __str__(self):
        return f"{self.get_type_display()} for {self.chatbot}"

    @property
    def is_publishable(self) -> bool:
        return self.type in self.PUBLISHABLE_TYPES

    @property
    def allowed_origins(self) -> list[str]:
        return list(self.settings.get("allowed_origins", []))


class CompanyApiKey(RotatingKey):
    """A developer's key for the whole REST API of one company, read-only or read-write."""

    class Scope(models.TextChoices):
        READ = "read", "Read only"
        WRITE = "write", "Read and write"

    SCOPE_CAPABILITIES = {
        Scope.READ: frozenset({Capability.READ}),
        Scope.WRITE: frozenset({Capability.READ, Capability.MANAGE_CONTENT, Capability.MANAGE_INTEGRATIONS}),
    }

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=100)
    scope = models.CharField(max_length=8, choices=Scope.choices)
    # The key acts as the person who made it, never beyond their role: it goes when they go.
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "api_keys"
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["company", "created_at"], name="api_keys_company_created")]

    def __str__(self):
        return f"{self.name} ({self.get_scope_display()})"

    def allows(self, capability: Capability) -> bool:
        """Read for list/retrieve, write for the rest; managing keys and members needs a person."""
        return capability in self.SCOPE_CAPABILITIES[self.scope] and self.created_by.can(capability)
