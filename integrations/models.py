import uuid

from django.db import models
from django.utils import timezone

from accounts.models import Company, RotatingKey
from chatbots.models import Chatbot
from config.jsontext import JSONTextDecoder, validate_json_text


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
