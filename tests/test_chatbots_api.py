"""GET/POST /api/chatbots, GET/PUT/PATCH/DELETE /api/chatbots/<id>: fields, validation, data sources, roles."""

import uuid

import pytest

from chatbots.models import DEFAULT_FALLBACK_MESSAGE, DEFAULT_WELCOME_MESSAGE, Chatbot, ChatbotDataSource
from chatbots.theme import DEFAULT_THEME
from datasources.models import DataSource
from integrations.models import Integration
from tests.isolation import assert_foreign_404, assert_foreign_hidden


@pytest.fixture
def staff(owner_a, api_client):
    return api_client(owner_a)


def _source(company, name, status="ready", **fields):
    return DataSource.objects.create(company=company, name=name, type="pdf", status=status, **fields)


@pytest.fixture
def handbook(company_a):
    return _source(company_a, "handbook.pdf")


@pytest.fixture
def prices(company_a):
    return _source(company_a, "prices.xlsx")


@pytest.fixture
def bot(company_a, handbook):
    chatbot = Chatbot.objects.create(company=company_a, name="Acme Helper", theme=dict(DEFAULT_THEME))
    ChatbotDataSource.objects.create(chatbot=chatbot, data_source=handbook)
    return chatbot


def _invalid(response, field):
    assert response.status_code == 400, response.content[:500]
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert field in error["details"], error
    problems = error["details"][field]
    if isinstance(problems, dict):  # a list's items, by position
        problems = [message for messages in problems.values() for message in messages]
    return " ".join(problems)


def test_a_new_chatbot_gets_sane_defaults(staff, owner_a):
    response = staff.post("/api/chatbots", {"name": "Helper"}, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["personality"] == "professional" and body["is_active"] is True
    assert body["top_k"] == 6 and body["temperature"] == 0.2 and body["model"] == ""
    assert body["welcome_message"] == DEFAULT_WELCOME_MESSAGE
    assert body["fallback_message"] == DEFAULT_FALLBACK_MESSAGE
    assert body["instructions"] == "" and body["suggested_questions"] == []
    assert body["theme"] == DEFAULT_THEME
    assert body["data_sources"] == []
    assert Chatbot.objects.get(pk=body["id"]).company == owner_a.company


def test_a_chatbot_is_created_with_every_setting_on_its_ready_data_sources(staff, handbook, prices):
    payload = {
        "name": "Support", "description": "For the help page", "welcome_message": "Hello!",
        "personality": "friendly", "instructions": "Answer in English. Never discuss prices.",
        "suggested_questions": ["  How do I reset my password? ", "Where is my invoice?"],
        "fallback_message": "Please email support@acme.test.", "top_k": 12, "temperature": 0.7,
        "model": "gpt-4o-mini", "is_active": False,
        "theme": {"primary_color": "#ABC", "position": "left", "title": "Acme support",
                  "avatar_url": "https://cdn.acme.test/bot.png"},
        "data_source_ids": [str(handbook.id), str(prices.id), str(handbook.id)],
    }
    response = staff.post("/api/chatbots", payload, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["suggested_questions"] == ["How do I reset my password?", "Where is my invoice?"]
    assert body["theme"] == {**DEFAULT_THEME, "primary_color": "#aabbcc", "position": "left",
                             "title": "Acme support", "avatar_url": "https://cdn.acme.test/bot.png"}
    assert {key: body[key] for key in ["personality", "top_k", "temperature", "model", "is_active"]} == {
        "personality": "friendly", "top_k": 12, "temperature": 0.7, "model": "gpt-4o-mini", "is_active": False}
    assert sorted(body["data_sources"], key=lambda s: s["name"]) == [
        {"id": str(handbook.id), "name": "handbook.pdf", "status": "ready"},
        {"id": str(prices.id), "name": "prices.xlsx", "status": "ready"},
    ]
    assert ChatbotDataSource.objects.filter(chatbot_id=body["id"]).count() == 2


def test_the_list_shows_the_companys_chatbots_with_their_data_sources(staff, bot):
    response = staff.get("/api/chatbots")
    assert response.status_code == 200
    (listed,) = response.json()["results"]
    assert listed["name"] == "Acme Helper"
    assert listed["data_sources"] == [{"id": str(bot.data_sources.get().id), "name": "handbook.pdf", "status": "ready"}]


def test_one_chatbot_is_read_with_and_without_a_trailing_slash(staff, bot):
    for path in [f"/api/chatbots/{bot.id}", f"/api/chatbots/{bot.id}/"]:
        response = staff.get(path)
        assert response.status_code == 200
        assert response.json()["id"] == str(bot.id)


def test_patch_changes_only_the_fields_sent_and_merges_the_theme(staff, bot):
    staff.patch(f"/api/chatbots/{bot.id}", {"theme": {"primary_color": "#112233"}}, format="json")
    response = staff.patch(f"/api/chatbots/{bot.id}", {"description": "New", "theme": {"position": "left"}},
                           format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["description"] == "New" and body["name"] == "Acme Helper"
    assert body["theme"]["primary_color"] == "#112233" and body["theme"]["position"] == "left"
    assert [source["name"] for source in body["data_sources"]] == ["handbook.pdf"]  # untouched when not sent


def test_put_needs_the_name_and_replaces_the_data_sources(staff, bot, prices):
    response = staff.put(f"/api/chatbots/{bot.id}", {"data_source_ids": [str(prices.id)]}, format="json")
    assert "required" in _invalid(response, "name")

    response = staff.put(f"/api/chatbots/{bot.id}", {"name": "Renamed", "data_source_ids": [str(prices.id)]},
                         format="json")
    assert response.status_code == 200, response.content
    assert [source["name"] for source in response.json()["data_sources"]] == ["prices.xlsx"]

    response = staff.put(f"/api/chatbots/{bot.id}/", {"name": "Renamed", "data_source_ids": []}, format="json")
    assert response.json()["data_sources"] == []
    assert not ChatbotDataSource.objects.exists()


def test_the_company_comes_from_the_requester_never_from_the_body(staff, owner_a, company_b):
    response = staff.post("/api/chatbots", {"name": "Mine", "company": str(company_b.id)}, format="json")
    assert response.status_code == 201
    assert Chatbot.objects.get().company == owner_a.company


TOO_LONG = "x" * 4001


@pytest.mark.parametrize(("field", "value", "says"), [
    ("name", "", "blank"),
    ("name", "n" * 201, "200 characters"),
    ("description", "d" * 1001, "1000 characters"),
    ("welcome_message", "w" * 1001, "1000 characters"),
    ("fallback_message", "f" * 1001, "1000 characters"),
    ("instructions", TOO_LONG, "4000 characters"),
    ("personality", "sarcastic", "not a valid choice"),
    ("suggested_questions", ["one", "two", "three", "four", "five"], "At most 4"),
    ("suggested_questions", ["q" * 201], "longer than 200"),
    ("suggested_questions", ["fine", "  "], "Question 2 is empty"),
    ("suggested_questions", "not a list", "list"),
    ("top_k", 0, "greater than or equal to 1"),
    ("top_k", 21, "less than or equal to 20"),
    ("top_k", "many", "valid integer"),
    ("temperature", -0.1, "greater than or equal to 0"),
    ("temperature", 1.5, "less than or equal to 1"),
    ("model", "gpt 4; rm -rf /", "model name"),
    ("model", "m" * 101, "100 characters"),
    ("theme", "blue", "JSON object"),
    ("theme", {"primary_color": "red"}, "primary_color: must be a hex colour"),
    ("theme", {"text_color": "#12345"}, "text_color: must be a hex colour"),
    ("theme", {"background_color": "javascript:alert(1)"}, "background_color: must be a hex colour"),
    ("theme", {"position": "top"}, "position: must be right or left"),
    ("theme", {"title": "t" * 61}, "title: must be at most 60 characters"),
    ("theme", {"avatar_url": "javascript:alert(document.cookie)"}, "avatar_url: must be an https://"),
    ("theme", {"avatar_url": "data:image/svg+xml;base64,PHN2Zz48L3N2Zz4="}, "avatar_url: must be an https://"),
    ("theme", {"avatar_url": "http://cdn.acme.test/bot.png"}, "avatar_url: must be an https://"),
    ("theme", {"font": "Comic Sans"}, "font: unknown setting"),
    ("data_source_ids", ["not-a-uuid"], "valid UUID"),
])
def test_bad_input_is_a_clear_400_naming_the_field(staff, bot, field, value, says):
    created = staff.post("/api/chatbots", {"name": "Bot", field: value}, format="json")
    assert says in _invalid(created, field)
    patched = staff.patch(f"/api/chatbots/{bot.id}", {field: value}, format="json")
    assert says in _invalid(patched, field)
    assert Chatbot.objects.count() == 1
    bot.refresh_from_db()
    assert bot.name == "Acme Helper" and bot.theme == DEFAULT_THEME


def test_several_theme_problems_are_named_together(staff):
    response = staff.post("/api/chatbots", {"name": "Bot", "theme": {
        "primary_color": "#ggg", "avatar_url": "javascript:alert(1)"}}, format="json")
    message = _invalid(response, "theme")
    assert "primary_color" in message and "avatar_url" in message


def test_another_companys_data_source_is_refused_exactly_like_a_missing_one(staff, company_b):
    foreign = _source(company_b, "bolt-secret-recipe.pdf")
    missing = uuid.uuid4()
    refused = staff.post("/api/chatbots", {"name": "Bot", "data_source_ids": [str(foreign.id)]}, format="json")
    unknown = staff.post("/api/chatbots", {"name": "Bot", "data_source_ids": [str(missing)]}, format="json")
    assert _invalid(refused, "data_source_ids").replace(str(foreign.id), "ID") == \
        _invalid(unknown, "data_source_ids").replace(str(missing), "ID")
    assert "bolt-secret-recipe" not in refused.content.decode()
    assert not Chatbot.objects.exists()


def test_another_companys_data_source_cannot_be_added_by_update_either(staff, bot, company_b):
    foreign = _source(company_b, "bolt-secret-recipe.pdf")
    response = staff.patch(f"/api/chatbots/{bot.id}", {"data_source_ids": [str(foreign.id)]}, format="json")
    assert "no such data source" in _invalid(response, "data_source_ids")
    assert list(bot.data_sources.values_list("name", flat=True)) == ["handbook.pdf"]


@pytest.mark.parametrize("status", ["processing", "error"])
def test_only_ready_data_sources_can_be_added(staff, company_a, status):
    pending = _source(company_a, "draft.pdf", status=status)
    response = staff.post("/api/chatbots", {"name": "Bot", "data_source_ids": [str(pending.id)]}, format="json")
    message = _invalid(response, "data_source_ids")
    assert "draft.pdf" in message and f"is {status}" in message and "only ready" in message


def test_a_linked_data_source_being_reprocessed_stays_linked_on_update(staff, bot, handbook, prices):
    DataSource.objects.filter(pk=handbook.pk).update(status="processing")
    response = staff.patch(f"/api/chatbots/{bot.id}", {"data_source_ids": [str(handbook.id), str(prices.id)]},
                           format="json")
    assert response.status_code == 200, response.content
    assert {s["name"]: s["status"] for s in response.json()["data_sources"]} == {
        "handbook.pdf": "processing", "prices.xlsx": "ready"}


@pytest.mark.parametrize("role", ["owner_a", "admin_a", "member_a"])
def test_every_role_reads_and_manages_chatbots(request, api_client, bot, role):
    client = api_client(request.getfixturevalue(role))
    assert client.get("/api/chatbots").json()["count"] == 1
    assert client.get(f"/api/chatbots/{bot.id}").status_code == 200
    created = client.post("/api/chatbots", {"name": f"By {role}"}, format="json")
    assert created.status_code == 201
    assert client.patch(f"/api/chatbots/{created.json()['id']}", {"is_active": False},
                        format="json").json()["is_active"] is False
    assert client.delete(f"/api/chatbots/{created.json()['id']}").status_code == 204


def test_deleting_a_chatbot_deletes_its_integrations_and_links_but_keeps_its_data_sources(staff, bot, handbook):
    Integration.objects.create(chatbot=bot, type="widget", company=bot.company)
    other = Chatbot.objects.create(company=bot.company, name="Other")
    Integration.objects.create(chatbot=other, type="widget", company=bot.company)

    response = staff.delete(f"/api/chatbots/{bot.id}")
    assert response.status_code == 204
    assert not Chatbot.objects.filter(pk=bot.pk).exists()
    assert list(Integration.objects.values_list("chatbot_id", flat=True)) == [other.id]
    assert not ChatbotDataSource.objects.exists()
    assert DataSource.objects.filter(pk=handbook.pk).exists()
    assert staff.get(f"/api/chatbots/{bot.id}").status_code == 404


def test_anonymous_requests_are_refused(db, api_client):
    assert api_client().get("/api/chatbots").status_code == 401
    assert api_client().post("/api/chatbots", {"name": "x"}, format="json").status_code == 401


def test_the_schema_documents_the_chatbot_endpoints(db, client):
    paths = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()["paths"]
    paths = {path.rstrip("/"): methods for path, methods in paths.items()}  # router paths show a slash
    assert {"get", "post"} <= set(paths["/api/chatbots"])
    assert {"get", "put", "patch", "delete"} <= set(paths["/api/chatbots/{id}"])
    body = paths["/api/chatbots"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert body["$ref"].endswith("/ChatbotInputRequest")


# Cross-company: company B's owner never reaches company A's chatbots.

def test_another_companys_chatbot_answers_404_to_every_method(outsider, bot):
    assert_foreign_404(outsider, "get", f"/api/chatbots/{bot.id}")
    assert_foreign_404(outsider, "get", f"/api/chatbots/{bot.id}/")
    assert_foreign_404(outsider, "put", f"/api/chatbots/{bot.id}", data={"name": "Taken"}, format="json")
    assert_foreign_404(outsider, "patch", f"/api/chatbots/{bot.id}", data={"name": "Taken"}, format="json")
    assert_foreign_404(outsider, "delete", f"/api/chatbots/{bot.id}")
    bot.refresh_from_db()
    assert bot.name == "Acme Helper"


def test_the_chatbot_list_shows_only_the_requesters_chatbots(outsider, owner_b, bot):
    Chatbot.objects.create(company=owner_b.company, name="Bolt Bot")
    response = assert_foreign_hidden(outsider, "/api/chatbots", "Acme Helper", str(bot.id), "handbook.pdf")
    assert [listed["name"] for listed in response.json()["results"]] == ["Bolt Bot"]


def test_a_chatbot_is_created_in_the_requesters_company_only(outsider, owner_b, company_a):
    response = outsider.post("/api/chatbots", {"name": "Bolt Bot"}, format="json")
    assert response.status_code == 201
    assert not Chatbot.objects.filter(company=company_a).exists()
