import uuid

from django.db import models
from django.utils import timezone

from accounts.models import Company


class DataSource(models.Model):
    class Status(models.TextChoices):
        PROCESSING = "processing", "Processing"
        READY = "ready", "Ready"
        ERROR = "error", "Error"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.TextField()
    type = models.TextField()  # pdf, csv, xlsx, docx, html, txt, md
    size = models.BigIntegerField(null=True, blank=True)
    status = models.TextField(choices=Status.choices, default=Status.PROCESSING)
    storage_path = models.TextField(null=True, blank=True)
    pinecone_namespace = models.TextField(null=True, blank=True)
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="data_sources")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "data_sources"
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["company", "created_at"], name="data_sources_company_created")]

    def __str__(self):
        return self.name
