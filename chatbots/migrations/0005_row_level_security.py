"""Row-level security on the company's tables, on PostgreSQL (config.rls)."""

from django.db import migrations

from config.rls import CompanyPolicy


class Migration(migrations.Migration):
    dependencies = [("chatbots", "0004_chatbot_show_source_documents")]

    operations = [
        CompanyPolicy("chatbots"),
        CompanyPolicy("chatbot_data_sources", through=("chatbots", "chatbot_id")),
    ]
