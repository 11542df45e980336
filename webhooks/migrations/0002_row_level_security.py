"""Row-level security on the company's tables, on PostgreSQL (config.rls)."""

from django.db import migrations

from config.rls import CompanyPolicy


class Migration(migrations.Migration):
    dependencies = [("webhooks", "0001_initial")]

    operations = [
        CompanyPolicy("webhook_endpoints"),
        CompanyPolicy("webhook_events"),
        CompanyPolicy("webhook_deliveries"),
    ]
