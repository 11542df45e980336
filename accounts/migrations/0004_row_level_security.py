"""Row-level security on the company's tables, on PostgreSQL (config.rls)."""

from django.db import migrations

from config.rls import CompanyPolicy


class Migration(migrations.Migration):
    dependencies = [("accounts", "0003_company_api_keys")]

    operations = [
        CompanyPolicy("companies", column="id"),
        CompanyPolicy("users", own_row=True),
        CompanyPolicy("invitations"),
        CompanyPolicy("api_keys"),
    ]
