"""Row-level security on the company's tables, on PostgreSQL (config.rls)."""

from django.db import migrations

from config.rls import CompanyPolicy


class Migration(migrations.Migration):
    dependencies = [("analytics", "0004_test_console_chats_apart")]

    operations = [
        CompanyPolicy("analytics_daily_stats"),
        CompanyPolicy("analytics_daily_terms"),
    ]
