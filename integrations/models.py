import uuid

from django.db import models
from django.utils import timezone

from accounts.models import Company
from chatbots.models import Chatbot


class Integration(models.Model):
    class Type(models.TextChoices):
        WIDGET = "widget", "Website widget"
        IFRAME = "iframe", "Iframe page"
        API = "api", "Server-to-server API"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    chatbot = models.ForeignKey(Chatbot, on_delete=models.CASCADE, related_name="integrations")
    type = models.TextField(choices=Type.choices)
    # The key's public identifier, never a secret (secrets are stored only as hashes).
    api_key = models.TextField(unique=True, null=True, blank=True)
    settings = models.JSONField(default=dict, blank=True)
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="integrations")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "integrations"
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["company", "created_at"], name="integrations_company_created")]

    def __str__(self):
        return f"{self.get_type_display()} for {self.chatbot}"
