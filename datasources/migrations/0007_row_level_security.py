"""Row-level security on the company's tables, on PostgreSQL (config.rls)."""

from django.db import migrations

from config.rls import CompanyPolicy


class Migration(migrations.Migration):
    dependencies = [("datasources", "0006_website_pages")]

    operations = [
        CompanyPolicy("data_sources"),
        CompanyPolicy("chunks"),
        CompanyPolicy("vector_index_versions"),
        CompanyPolicy("vector_index_changes"),
        CompanyPolicy("web_pages", through=("data_sources", "data_source_id")),
        CompanyPolicy("lexical_indexes", through=("data_sources", "data_source_id")),
    ]
