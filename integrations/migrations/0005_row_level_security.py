"""Row-level security on the company's tables, on PostgreSQL (config.rls)."""

from django.db import migrations

from config.rls import CompanyPolicy


class Migration(migrations.Migration):
    dependencies = [("integrations", "0004_settings_hold_valid_text")]

    operations = [
        CompanyPolicy("integrations"),
    ]
