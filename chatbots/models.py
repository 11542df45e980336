import uuid

from django.db import models
from django.utils import timezone

from accounts.models import Company
from datasources.models import DataSource


class Chatbot(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.TextField()
    description = models.TextField(null=True, blank=True)
    welcome_message = models.TextField(null=True, blank=True)
    personality = models.TextField(default="professional")
    theme = models.JSONField(default=dict, blank=True)
    is_active = models.BooleanField(default=True)
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="chatbots")
    created_at = models.DateTimeField(default=timezone.now)
    data_sources = models.ManyToManyField(
        DataSource, through="ChatbotDataSource", related_name="chatbots", blank=True
    )

    class Meta:
        db_table = "chatbots"
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["company", "created_at"], name="chatbots_company_created")]

    def __str__(self):
        return self.name


class ChatbotDataSource(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    chatbot = models.ForeignKey(Chatbot, on_delete=models.CASCADE)
    data_source = models.ForeignKey(DataSource, on_delete=models.CASCADE)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "chatbot_data_sources"
        constraints = [
            models.UniqueConstraint(fields=["chatbot", "data_source"], name="chatbot_data_source_unique")
        ]

    def __str__(self):
        return f"{self.chatbot_id} → {self.data_source_id}"
