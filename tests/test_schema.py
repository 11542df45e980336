"""The database mirrors the spec's Supabase schema: table names, UUID keys, columns, cascades."""

import pytest
from django.db import connection

from chatbots.models import Chatbot, ChatbotDataSource
from datasources.models import DataSource
from integrations.models import Integration

SPEC_COLUMNS = {
    "users": {"id", "email", "name", "company_id", "created_at"},
    "companies": {"id", "name", "logo", "plan", "created_at"},
    "data_sources": {"id", "name", "type", "size", "status", "storage_path", "pinecone_namespace",
                     "company_id", "created_at"},
    "chatbots": {"id", "name", "description", "welcome_message", "personality", "theme", "is_active",
                 "company_id", "created_at"},
    "chatbot_data_sources": {"id", "chatbot_id", "data_source_id", "created_at"},
    "integrations": {"id", "chatbot_id", "type", "api_key", "settings", "company_id", "created_at"},
}


@pytest.mark.parametrize("table", sorted(SPEC_COLUMNS))
def test_each_spec_table_has_the_spec_columns(db, table):
    with connection.cursor() as cursor:
        columns = {c.name for c in connection.introspection.get_table_description(cursor, table)}
    assert SPEC_COLUMNS[table] <= columns


@pytest.mark.parametrize("table", sorted(SPEC_COLUMNS))
def test_each_spec_table_has_a_uuid_primary_key(db, table):
    from django.apps import apps

    model = next(m for m in apps.get_models() if m._meta.db_table == table)
    assert model._meta.pk.get_internal_type() == "UUIDField"


def test_defaults_follow_the_spec(company_a):
    assert company_a.plan == "free"
    source = DataSource.objects.create(name="a.pdf", type="pdf", company=company_a)
    bot = Chatbot.objects.create(name="Bot", company=company_a)
    assert source.status == "processing"
    assert bot.personality == "professional"
    assert bot.is_active is True


def test_deleting_a_chatbot_cascades_to_its_links_and_integrations(company_a):
    source = DataSource.objects.create(name="a.pdf", type="pdf", company=company_a)
    bot = Chatbot.objects.create(name="Bot", company=company_a)
    ChatbotDataSource.objects.create(chatbot=bot, data_source=source)
    Integration.objects.create(chatbot=bot, type="widget", company=company_a)
    bot.delete()
    assert not ChatbotDataSource.objects.exists()
    assert not Integration.objects.exists()
    assert DataSource.objects.filter(pk=source.pk).exists()


def test_deleting_a_data_source_unlinks_it_from_chatbots(company_a):
    source = DataSource.objects.create(name="a.pdf", type="pdf", company=company_a)
    bot = Chatbot.objects.create(name="Bot", company=company_a)
    ChatbotDataSource.objects.create(chatbot=bot, data_source=source)
    source.delete()
    assert not ChatbotDataSource.objects.exists()
    assert Chatbot.objects.filter(pk=bot.pk).exists()


@pytest.mark.parametrize("table", ["data_sources", "chatbots", "integrations"])
def test_tenant_tables_are_indexed_on_company_and_created_at(db, table):
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, table)
    indexed = [c["columns"] for c in constraints.values() if c["index"]]
    assert ["company_id", "created_at"] in indexed
