"""The dashboard's chatbot pages: list, create/edit form with data-source picker and live preview; admin."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

from chatbots.models import Chatbot, ChatbotDataSource
from datasources.models import DataSource
from tests.isolation import assert_foreign_404, assert_foreign_hidden


def _logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def staff(owner_a):
    return _logged_in(owner_a)


@pytest.fixture
def sources(company_a):
    def make(name, status, **fields):
        return DataSource.objects.create(company=company_a, name=name, type="pdf", status=status, **fields)

    return {
        "ready": make("handbook.pdf", "ready"),
        "processing": make("prices.xlsx", "processing", stage="embedding", progress=40),
        "error": make("scan.pdf", "error", error_message="This PDF has no text layer: it is a scan."),
    }


@pytest.fixture
def bot(company_a, sources):
    chatbot = Chatbot.objects.create(
        company=company_a, name="Acme Helper", suggested_questions=["Where is my order?"],
        theme={"primary_color": "#aa0000", "position": "left", "title": "Ask Acme"})
    ChatbotDataSource.objects.create(chatbot=chatbot, data_source=sources["ready"])
    return chatbot


def _form(**fields) -> dict:
    """What the browser posts for a filled-in form (checkboxes only when ticked)."""
    return {
        "name": "Support", "description": "", "welcome_message": "Hello there!", "personality": "friendly",
        "instructions": "Be brief.", "fallback_message": "Please email us.", "top_k": "8", "temperature": "0.3",
        "model": "", "is_active": "on", "suggested_questions": ["How do I pay?", "", "Where is my order?", ""],
        "theme_primary_color": "#123456", "theme_primary_text_color": "#ffffff",
        "theme_background_color": "#fafafa", "theme_text_color": "#111111", "theme_position": "left",
        "theme_title": "Acme support", "theme_avatar_url": "", **fields,
    }


def test_the_list_shows_each_chatbot_with_its_state_and_data_source_count(staff, bot, company_a):
    Chatbot.objects.create(company=company_a, name="Paused Bot", is_active=False)
    page = staff.get("/chatbots/").content.decode()
    assert "Acme Helper" in page and f'href="/chatbots/{bot.id}/"' in page
    assert "Paused Bot" in page and "paused" in page and "active" in page
    assert "<td>1</td>" in page and "<td>0</td>" in page
    assert bot.created_at.strftime("%Y") in page
    assert 'aria-current="page">Chatbots' in page


def test_the_empty_list_says_to_upload_files_first_when_none_is_ready(staff, company_a):
    DataSource.objects.create(company=company_a, name="prices.xlsx", type="xlsx", status="processing")
    page = staff.get("/chatbots/").content.decode()
    assert "No chatbots yet" in page and "Upload files first" in page and 'href="/files/"' in page


def test_the_empty_list_invites_to_create_one_when_files_are_ready(staff, sources):
    page = staff.get("/chatbots/").content.decode()
    assert "Create your first chatbot" in page and "Upload files first" not in page
    assert 'href="/chatbots/new/"' in page


def test_the_new_page_has_every_field_the_preview_and_a_picker_showing_statuses(staff, sources):
    response = staff.get("/chatbots/new/")
    assert response.status_code == 200
    page = response.content.decode()
    for name in ["name", "description", "welcome_message", "suggested_questions", "personality", "instructions",
                 "fallback_message", "top_k", "temperature", "model", "is_active", "theme_primary_color",
                 "theme_primary_text_color", "theme_background_color", "theme_text_color", "theme_position",
                 "theme_title", "theme_avatar_url", "data_source_ids"]:
        assert f'name="{name}"' in page, name
    assert page.count('<input type="color"') == 4
    for marker in ['id="widget-preview"', 'id="preview-launcher"', 'id="preview-title"', 'id="preview-welcome"',
                   'id="preview-suggestions"', "js/chatbots.js"]:
        assert marker in page, marker
    assert "Hi! Ask me anything about our documents." in page  # the default welcome, in form and preview
    assert 'id="delete-chatbot"' not in page

    picker = page[page.index('id="data-source-picker"'):]
    ready, processing, error = (_picker_item(picker, s.id) for s in
                                (sources["ready"], sources["processing"], sources["error"]))
    assert "disabled" not in ready and '"badge ready"' in ready
    assert "disabled" in processing and "embedding · 40%" in processing
    assert "disabled" in error and "no text layer" in error


def _picker_item(picker: str, data_source_id) -> str:
    start = picker.index(f'value="{data_source_id}"')
    return picker[picker.rindex("<li>", 0, start):picker.index("</li>", start)]


def test_the_new_page_without_data_sources_says_to_upload_first(staff):
    page = staff.get("/chatbots/new/").content.decode()
    assert "No data sources yet" in page and 'href="/files/"' in page


def test_posting_the_form_creates_the_chatbot_and_opens_it(staff, owner_a, sources):
    response = staff.post("/chatbots/new/", _form(data_source_ids=[str(sources["ready"].id)]))
    chatbot = Chatbot.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/chatbots/{chatbot.id}/"
    assert chatbot.company == owner_a.company
    assert chatbot.suggested_questions == ["How do I pay?", "Where is my order?"]
    assert chatbot.top_k == 8 and chatbot.temperature == 0.3 and chatbot.personality == "friendly"
    assert chatbot.theme["primary_color"] == "#123456" and chatbot.theme["position"] == "left"
    assert list(chatbot.data_sources.all()) == [sources["ready"]]
    assert "“Support” saved" in staff.get(response["Location"]).content.decode()


def test_errors_show_beside_their_fields_and_the_input_is_kept(staff):
    response = staff.post("/chatbots/new/", _form(name="", temperature="3", instructions="i" * 4001,
                                                  theme_avatar_url="javascript:alert(1)"))
    assert response.status_code == 200
    page = response.content.decode()
    assert 'id="name-errors"' in page and "may not be blank" in page
    assert 'id="temperature-errors"' in page and "less than or equal to 1" in page
    assert 'id="instructions-errors"' in page and "4000 characters" in page
    assert 'id="theme-errors"' in page and "avatar_url: must be an https://" in page
    assert 'value="Acme support"' in page and "Hello there!" in page
    assert not Chatbot.objects.exists()


def test_a_data_source_of_another_company_is_refused_by_the_form(staff, company_b):
    foreign = DataSource.objects.create(company=company_b, name="bolt-recipe.pdf", type="pdf", status="ready")
    page = staff.post("/chatbots/new/", _form(data_source_ids=[str(foreign.id)])).content.decode()
    assert 'id="data_source_ids-errors"' in page and "no such data source" in page
    assert "bolt-recipe.pdf" not in page
    assert not Chatbot.objects.exists()


def test_the_edit_page_shows_the_saved_chatbot_in_form_and_preview(staff, bot, sources):
    page = staff.get(f"/chatbots/{bot.id}/").content.decode()
    assert 'value="Acme Helper"' in page
    assert 'value="#aa0000"' in page and 'value="#ffffff"' in page  # saved colour, default ones filled in
    assert '<option value="left" selected>' in page
    assert 'id="preview-title">Ask Acme</span>' in page
    assert '<span class="preview-chip">Where is my order?</span>' in page
    assert 'value="Where is my order?"' in page
    assert "checked" in _picker_item(page, sources["ready"].id)
    assert f'data-url="/api/chatbots/{bot.id}"' in page and 'id="delete-chatbot"' in page


def test_posting_the_edit_form_updates_the_chatbot(staff, bot, sources):
    response = staff.post(f"/chatbots/{bot.id}/", _form(name="Renamed", save_without_data_sources="1"))
    assert response.status_code == 302
    bot.refresh_from_db()
    assert bot.name == "Renamed" and bot.theme["title"] == "Acme support"
    assert not bot.data_sources.exists()  # nothing ticked, and the warning confirmed: the list is emptied


def test_a_linked_data_source_that_is_reprocessing_can_be_kept(staff, bot, sources):
    DataSource.objects.filter(pk=sources["ready"].pk).update(status="processing", stage="queued")
    page = staff.get(f"/chatbots/{bot.id}/").content.decode()
    item = _picker_item(page, sources["ready"].id)
    assert "checked" in item and "disabled" not in item
    response = staff.post(f"/chatbots/{bot.id}/", _form(data_source_ids=[str(sources["ready"].id)]))
    assert response.status_code == 302
    assert list(bot.data_sources.all()) == [sources["ready"]]


def test_choosing_data_sources_is_the_first_step_and_nothing_is_ticked(staff, sources):
    page = staff.get("/chatbots/new/").content.decode()
    assert page.index('id="data-source-picker"') < page.index('name="name"')
    assert 'id="select-all-ready"' in page
    picker = page[page.index('id="data-source-picker"'):page.index("</ul>", page.index('id="data-source-picker"'))]
    assert " checked" not in picker
    assert "data-ready" in _picker_item(page, sources["ready"].id)
    assert "data-ready" not in _picker_item(page, sources["processing"].id)


def test_saving_with_no_data_source_warns_first(staff, sources):
    response = staff.post("/chatbots/new/", _form())
    page = response.content.decode()
    assert response.status_code == 200 and 'id="no-data-sources-warning"' in page
    assert "answer every question with its fallback message" in page and 'value="Support"' in page
    assert not Chatbot.objects.exists()
    response = staff.post("/chatbots/new/", _form(save_without_data_sources="1"))
    assert response.status_code == 302 and not Chatbot.objects.get().data_sources.exists()


def test_fields_only_a_language_model_uses_are_marked_when_none_is_configured(staff, settings):
    settings.ANSWER_BACKEND = "extractive"
    page = staff.get("/chatbots/new/").content.decode()
    assert 'id="model-only-note"' in page and page.count("language model only</span>") == 3
    for field in ["personality", "instructions", "temperature"]:
        assert re.search(f'id="{field}"[^>]* aria-describedby="model-only-note"', page), field
    settings.ANSWER_BACKEND = "openai"
    page = staff.get("/chatbots/new/").content.decode()
    assert "language model only</span>" not in page and 'id="model-only-note"' not in page


def test_a_member_may_create_chatbots_from_the_dashboard(member_a):
    response = _logged_in(member_a).post("/chatbots/new/", _form(save_without_data_sources="1"))
    assert response.status_code == 302
    assert Chatbot.objects.get().name == "Support"


@pytest.mark.parametrize("path", ["/chatbots/", "/chatbots/new/"])
def test_the_pages_need_login(db, path):
    response = Client().get(path)
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_the_preview_script_builds_text_nodes_only():
    script = (Path(settings.BASE_DIR) / "static" / "js" / "chatbots.js").read_text()
    assert "innerHTML" not in script and "insertAdjacentHTML" not in script
    assert "textContent" in script and "el(" in script


# Cross-company: company B's owner never sees or edits company A's chatbots from the dashboard.

def test_another_companys_chatbot_page_answers_404(owner_b, bot):
    client = _logged_in(owner_b)
    assert_foreign_404(client, "get", f"/chatbots/{bot.id}/")
    assert_foreign_404(client, "post", f"/chatbots/{bot.id}/", data=_form(name="Taken"))
    bot.refresh_from_db()
    assert bot.name == "Acme Helper"


def test_the_list_and_new_pages_show_only_the_requesters_company(owner_b, bot):
    client = _logged_in(owner_b)
    assert_foreign_hidden(client, "/chatbots/", "Acme Helper", str(bot.id))
    assert_foreign_hidden(client, "/chatbots/new/", "handbook.pdf", "prices.xlsx", "scan.pdf")


# Admin

def test_admin_lists_chatbots_with_filters(superuser, bot, company_b, client):
    Chatbot.objects.create(company=company_b, name="Bolt Bot", personality="friendly")
    client.force_login(superuser)
    page = client.get("/admin/chatbots/chatbot/").content.decode()
    assert "Acme Helper" in page
    for filter_title in ["By is active", "By personality", "By company"]:
        assert filter_title in page
    filtered = client.get("/admin/chatbots/chatbot/", {"personality__exact": "friendly"}).content.decode()
    assert "Bolt Bot" in filtered and "Acme Helper" not in filtered


def test_admin_shows_the_linked_data_sources_with_their_status(superuser, bot, client):
    client.force_login(superuser)
    page = client.get(f"/admin/chatbots/chatbot/{bot.id}/change/").content.decode()
    assert "handbook.pdf" in page and "ready" in page


def test_admin_refuses_a_bad_theme_and_another_companys_data_source(superuser, bot, company_b, client):
    foreign = DataSource.objects.create(company=company_b, name="bolt.pdf", type="pdf", status="ready")
    link = ChatbotDataSource.objects.get(chatbot=bot)
    client.force_login(superuser)
    response = client.post(f"/admin/chatbots/chatbot/{bot.id}/change/", {
        "company": bot.company_id, "name": bot.name, "description": "", "is_active": "on",
        "welcome_message": bot.welcome_message, "suggested_questions": "[]", "personality": "professional",
        "instructions": "", "fallback_message": bot.fallback_message, "top_k": "6", "temperature": "0.2",
        "model": "", "theme": '{"avatar_url": "javascript:alert(1)"}',
        "chatbotdatasource_set-TOTAL_FORMS": "1", "chatbotdatasource_set-INITIAL_FORMS": "1",
        "chatbotdatasource_set-0-id": link.id, "chatbotdatasource_set-0-chatbot": bot.id,
        "chatbotdatasource_set-0-data_source": foreign.id,
    })
    assert response.status_code == 200  # the form again, with the errors
    page = response.content.decode()
    assert "avatar_url: must be an https://" in page
    assert "belongs to another company" in page
    link.refresh_from_db()
    assert link.data_source_id != foreign.id
