"""Row-level security on the company's tables, on PostgreSQL (config.rls)."""

from django.db import migrations

from config.rls import CompanyPolicy


class Migration(migrations.Migration):
    dependencies = [("chat", "0004_message_cached")]

    operations = [
        CompanyPolicy("conversations"),
        CompanyPolicy("messages"),
        CompanyPolicy("improved_answers"),
    ]
