import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

from accounts.models import Company

MAX_URL_LENGTH = 2000
MAX_RESPONSE_BYTES = 2048  # of a receiver's answer, kept in the delivery log


class EventType(models.TextChoices):
    DATA_SOURCE_READY = "data_source.ready", "A data source finished processing"
    DATA_SOURCE_FAILED = "data_source.failed", "A data source could not be processed"
    CONVERSATION_UNANSWERED = "conversation.unanswered", "A question got the fallback or a 'not sure' answer"
    FEEDBACK_CREATED = "feedback.created", "A visitor rated an answer"


class Endpoint(models.Model):
    """A company's receiver of events: where they go, which ones, and the secret that signs them.

    The signing secret is stored encrypted (webhooks.signing), never hashed: Docent must read it to
    sign. After a rotation the previous secret signs too until `previous_valid_until`.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="webhook_endpoints")
    url = models.TextField(max_length=MAX_URL_LENGTH)
    description = models.TextField(blank=True, default="", max_length=200)
    events = models.JSONField(default=list, help_text="The event types it receives.")
    enabled = models.BooleanField(default=True)
    disabled_reason = models.TextField(blank=True, default="", help_text="Why Docent switched it off, if it did.")
    consecutive_failures = models.PositiveIntegerField(default=0, help_text="Deliveries failed in a row.")
    secret_encrypted = models.TextField(editable=False)
    secret_last_four = models.CharField(max_length=4, editable=False)
    previous_secret_encrypted = models.TextField(blank=True, default="", editable=False)
    previous_valid_until = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "webhook_endpoints"
        ordering = ["created_at"]
        indexes = [models.Index(fields=["company", "created_at"], name="webhook_endpoints_company")]

    def __str__(self):
        return self.url

    def previous_secret_valid(self, now=None) -> bool:
        return bool(self.previous_secret_encrypted and self.previous_valid_until
                    and self.previous_valid_until > (now or timezone.now()))


class Event(models.Model):
    """Something that happened in a company, as its endpoints receive it: the `id` is the event id they see."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="webhook_events")
    type = models.TextField(choices=EventType.choices)
    data = models.JSONField(help_text="The object the event is about.")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "webhook_events"
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["company", "created_at"], name="webhook_events_company")]

    def __str__(self):
        return f"{self.type} {self.id}"

    def body(self) -> dict:
        return {"id": str(self.id), "type": self.type, "created_at": self.created_at.isoformat(), "data": self.data}


class Delivery(models.Model):
    """One event sent to one endpoint, with its retries: the endpoint's delivery log."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SUCCEEDED = "succeeded", "Delivered"
        FAILED = "failed", "Failed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="webhook_deliveries")
    endpoint = models.ForeignKey(Endpoint, on_delete=models.CASCADE, related_name="deliveries")
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="deliveries")
    status = models.TextField(choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    response_code = models.PositiveIntegerField(null=True, blank=True)
    response_body = models.TextField(blank=True, default="", help_text="The first 2 KB of the last answer.")
    error = models.TextField(blank=True, default="", help_text="Why the last attempt failed, in words.")
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    task_id = models.UUIDField(null=True, blank=True, editable=False, help_text="Its queued task, to recover it "
                                                                                "if a worker dies mid-attempt.")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "webhook_deliveries"
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["company", "created_at"], name="webhook_deliveries_company"),
            models.Index(fields=["endpoint", "created_at"], name="webhook_deliveries_endpoint"),
        ]

    def __str__(self):
        return f"{self.event.type} to {self.endpoint.url}"
