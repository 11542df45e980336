"""What clients send as JSON (request bodies, WebSocket frames, JSON form fields) is refused whole, in the
error shape, when it is too large, nested too deep or holds text that is not valid Unicode: before any
authentication work, without storing anything and without using up a rate limit."""

import json
import re
import uuid
from urllib.error import HTTPError
from urllib.request import Request, urlopen

import pytest
from asgiref.sync import sync_to_async
from channels.testing import HttpCommunicator, WebsocketCommunicator
from django.db import connection
from django.test import Client

from accounts.models import CompanyApiKey
from accounts.services import api_key_create
from chat.models import Message
from chatbots.models import Chatbot
from config.routing import application
from tests.chatting import LICENCE_QUESTION, SHOP, ask, bot, chat_socket, server_key, socket_answer, widget_key
from tests.worker_processes import WorkerProcesses

DEEP = "[" * 2000 + "]" * 2000
HUGE = json.dumps({"message": "x" * 3_000_000, "name": "x"})
SURROGATE = "x\ud800y"  # json.dumps writes it as the escape \ud800, as a client would send it
NUL = "x\x00y"
BAD_TEXTS = pytest.mark.parametrize("text", [SURROGATE, NUL], ids=["lone surrogate", "NUL"])


def send_json(client, method: str, path: str, body: str | bytes, **headers):
    return client.generic(method, path, body, content_type="application/json", **headers)


def assert_refused(response, status: int, code: str) -> dict:
    assert response.status_code == status, (response.status_code, response.content[:300])
    error = response.json()["error"]
    assert error["code"] == code and error["message"], error
    return error


def json_operations(client) -> list[tuple[str, str]]:
    """Every operation of the OpenAPI schema that takes a JSON body, path parameters filled with new UUIDs
    (the check comes before any object is looked up)."""
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    operations = [(method.upper(), re.sub(r"\{[^}]+\}", lambda _: str(uuid.uuid4()), path))
                  for path, methods in schema["paths"].items() for method, operation in methods.items()
                  if "application/json" in operation.get("requestBody", {}).get("content", {})]
    assert ("POST", "/api/chat") in operations and len(operations) >= 10, operations
    return operations


@pytest.fixture
def chatbot(company_a):
    return bot(company_a)


@pytest.fixture(params=["anonymous", "staff"])
def caller(request, api_client, company_a):
    return api_client(request.getfixturevalue("owner_a") if request.param == "staff" else None)


# --- Too deep, too large: every JSON endpoint -------------------------------------------------

def test_a_deeply_nested_body_gets_400_on_every_json_endpoint(caller):
    for method, path in json_operations(caller):
        error = assert_refused(send_json(caller, method, path, DEEP), 400, "parse_error")
        assert "nested deeper than 64 levels" in error["message"], (method, path)


def test_a_body_of_three_million_characters_gets_413_on_every_json_endpoint(caller):
    for method, path in json_operations(caller):
        error = assert_refused(send_json(caller, method, path, HUGE), 413, "too_large")
        assert "1048576 bytes" in error["message"], (method, path)


def test_the_size_limit_is_a_setting(settings, api_client, owner_a, chatbot):
    settings.API_MAX_JSON_BODY_BYTES = 100
    path = f"/api/chatbots/{chatbot.id}"
    assert send_json(api_client(owner_a), "PATCH", path, json.dumps({"description": "d" * 70})).status_code == 200
    error = assert_refused(send_json(api_client(owner_a), "PATCH", path, json.dumps({"description": "d" * 90})),
                           413, "too_large")
    assert "100 bytes" in error["message"]


def test_nesting_up_to_the_limit_is_parsed_and_one_level_more_is_refused(settings, api_client, owner_a, chatbot):
    settings.JSON_MAX_DEPTH = 2  # the body object, and the objects and lists in it
    staff = api_client(owner_a)
    fits = {"theme": {"title": "Fits"}, "suggested_questions": ["How deep?"]}
    assert send_json(staff, "PATCH", f"/api/chatbots/{chatbot.id}", json.dumps(fits)).status_code == 200
    too_deep = {"theme": {"title": "Too deep"}, "suggested_questions": [["How deep?"]]}
    error = assert_refused(send_json(staff, "PATCH", f"/api/chatbots/{chatbot.id}", json.dumps(too_deep)),
                           400, "parse_error")
    assert "nested deeper than 2 levels" in error["message"]
    chatbot.refresh_from_db()
    assert chatbot.theme["title"] == "Fits"


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_a_body_longer_than_its_declared_length_gets_413():
    body = json.dumps({"message": "x" * 1_500_000}).encode()
    exchange = HttpCommunicator(application, "POST", "/api/chat", body=body,
                                headers=[(b"content-type", b"application/json"), (b"content-length", b"20")])
    response = await exchange.get_response(timeout=10)
    assert response["status"] == 413
    assert json.loads(response["body"])["error"]["code"] == "too_large"


def test_a_refused_body_does_no_authentication_work(owner_a, chatbot):
    key = api_key_create(company=owner_a.company, name="script", scope="write", created_by=owner_a)
    client = Client(HTTP_AUTHORIZATION=f"Bearer {key.secret}")
    path = f"/api/chatbots/{chatbot.id}"
    assert_refused(send_json(client, "PATCH", path, DEEP), 400, "parse_error")
    assert_refused(send_json(client, "PATCH", path, HUGE), 413, "too_large")
    assert CompanyApiKey.objects.get().last_used_at is None  # the key was never even looked up
    assert send_json(client, "PATCH", path, '{"name": "Renamed"}').status_code == 200
    assert CompanyApiKey.objects.get().last_used_at is not None


def test_form_data_too_large_for_memory_gets_413_in_the_error_shape(api_client, owner_a):
    response = api_client(owner_a).post("/api/upload", {"new_version": "x" * 3_000_000}, format="multipart")
    assert_refused(response, 413, "too_large")


def test_form_data_with_too_many_fields_gets_400_in_the_error_shape(api_client, owner_a):
    response = api_client(owner_a).post("/api/upload", {f"field{n}": "x" for n in range(1100)}, format="multipart")
    assert_refused(response, 400, "bad_request")


@pytest.mark.django_db(transaction=True)
def test_over_daphne_refused_bodies_are_answered_at_once(company_a, tmp_path):
    chatbot = bot(company_a)
    headers = {"Authorization": f"Bearer {server_key(chatbot)}", "Content-Type": "application/json"}
    surrogate = json.dumps({"chatbot_id": str(chatbot.id), "message": f"warranty {SURROGATE}"})
    with WorkerProcesses(tmp_path) as processes:
        url = processes.serve()
        for path, body, status in [("/api/chat/stream", surrogate, 400), ("/api/chat", surrogate, 400),
                                   ("/api/chat", DEEP, 400), ("/api/chat/stream", HUGE, 413)]:
            with pytest.raises(HTTPError) as refused:
                urlopen(Request(f"{url}{path}", data=body.encode(), headers=headers, method="POST"), timeout=10)
            with refused.value as response:
                assert response.code == status and json.load(response)["error"]["message"], path
    assert not Message.objects.exists()


@pytest.mark.parametrize(("body", "code"), [
    ("NaN", "parse_error"), ('{"name": "Bot", "temperature": Infinity}', "parse_error"),
    ('{"name": "Bot", "temperature": -1e999}', "parse_error"), ('{"name": "Bot"} trailing', "parse_error"),
    (b'{"name": "Bot \xff"}', "invalid_text"),
], ids=["NaN", "Infinity", "overflowing number", "trailing text", "not UTF-8"])
def test_json_that_is_not_json_as_defined_gets_400(api_client, owner_a, body, code):
    assert_refused(send_json(api_client(owner_a), "POST", "/api/chatbots", body), 400, code)
    assert not Chatbot.objects.exists()


# --- Text that is not valid Unicode: never stored, never a hang -------------------------------

@BAD_TEXTS
@pytest.mark.parametrize(("body", "where"), [
    (lambda text: {"suggested_questions": [text]}, "suggested_questions[0]"),
    (lambda text: {"theme": {"title": text}}, "theme.title"),
    (lambda text: {"name": text}, "name"),
    (lambda text: {"theme": {f"ti{text}tle": "Hi"}}, "theme.tix\ufffdytle"),
], ids=["suggested question", "theme title", "name", "a key"])
def test_a_lone_surrogate_or_nul_in_a_chatbot_field_is_refused_and_not_stored(api_client, owner_a, chatbot,
                                                                            text, body, where):
    staff = api_client(owner_a)
    response = send_json(staff, "PATCH", f"/api/chatbots/{chatbot.id}", json.dumps(body(text)))
    error = assert_refused(response, 400, "invalid_text")
    assert list(error["details"]) == [where]
    stored = Chatbot.objects.get()
    assert (stored.name, stored.suggested_questions, stored.theme["title"]) == ("Helper", [], "")
    assert staff.get("/api/chatbots").status_code == 200
    assert staff.get(f"/api/chatbots/{chatbot.id}").status_code == 200
    assert staff.get(f"/chatbots/{chatbot.id}/").status_code == 200


@pytest.mark.skipif(connection.vendor != "sqlite", reason="PostgreSQL never stored such JSON: jsonb refuses it")
def test_a_chatbot_stored_with_a_lone_surrogate_before_this_check_still_answers(api_client, owner_a, chatbot):
    Chatbot.objects.filter(pk=chatbot.pk).update(suggested_questions=[SURROGATE], theme={"title": SURROGATE})
    staff = api_client(owner_a)
    assert staff.get("/api/chatbots").status_code == 200
    assert staff.get(f"/api/chatbots/{chatbot.id}").json()["theme"]["title"] == ""  # the default, not the text
    assert staff.get(f"/chatbots/{chatbot.id}/").status_code == 200


def test_a_surrogate_encoded_as_utf8_bytes_is_refused(api_client, owner_a, chatbot):
    body = b'{"suggested_questions": ["x\xed\xa0\x80"]}'
    response = send_json(api_client(owner_a), "PATCH", f"/api/chatbots/{chatbot.id}", body)
    assert_refused(response, 400, "invalid_text")
    assert Chatbot.objects.get().suggested_questions == []


def test_a_form_body_to_the_api_is_refused_so_json_text_cannot_arrive_in_a_form_field(api_client, owner_a, chatbot):
    response = api_client(owner_a).generic(
        "PATCH", f"/api/chatbots/{chatbot.id}", "suggested_questions=%5B%22x%5Cud800y%22%5D",
        content_type="application/x-www-form-urlencoded")
    assert_refused(response, 415, "unsupported_media_type")
    assert Chatbot.objects.get().suggested_questions == []


def test_an_overflowing_number_in_integration_settings_is_refused_and_not_stored(api_client, owner_a, chatbot):
    staff = api_client(owner_a)
    widget = next(item for item in staff.get(f"/api/integrations/{chatbot.id}").json()["integrations"]
                  if item["type"] == "widget")
    path = f"/api/integrations/{chatbot.id}/{widget['id']}"
    response = send_json(staff, "PATCH", path, '{"settings": {"allowed_origins": [], "zoom": 1e999}}')
    assert_refused(response, 400, "parse_error")
    assert staff.get(f"/api/integrations/{chatbot.id}").status_code == 200


@BAD_TEXTS
@pytest.mark.parametrize("field", ["message", "session_id", "visitor_id", "context"])
@pytest.mark.parametrize("path", ["/api/chat", "/api/chat/stream"])
def test_a_question_with_a_lone_surrogate_or_nul_gets_a_json_400(client, handbook_bot, path, field, text):
    fields = {"message": LICENCE_QUESTION, field: f"warranty {text}"}
    response = send_json(client, "POST", path, json.dumps({"chatbot_id": str(handbook_bot.id), **fields}),
                         HTTP_AUTHORIZATION=f"Bearer {widget_key(handbook_bot)}", HTTP_ORIGIN=SHOP)
    error = assert_refused(response, 400, "invalid_text")
    assert list(error["details"]) == [field]
    assert response["Content-Type"] == "application/json"
    assert response["Access-Control-Allow-Origin"] == SHOP  # the widget can read why
    assert not Message.objects.exists()


@pytest.mark.django_db(transaction=True)  # the answer is stored from another thread
@pytest.mark.parametrize("body", [
    lambda chatbot: json.dumps({"chatbot_id": str(chatbot.id), "message": f"warranty {SURROGATE}"}),
    lambda chatbot: DEEP,
    lambda chatbot: json.dumps({"chatbot_id": str(chatbot.id), "message": "x" * 3_000_000}),
], ids=["lone surrogate", "too deep", "too large"])
def test_a_refused_question_uses_none_of_the_rate_limit(settings, client, handbook_bot, body, one_window):
    settings.CHAT_RATE_PER_KEY = "1/m"
    key = widget_key(handbook_bot)
    headers = {"HTTP_AUTHORIZATION": f"Bearer {key}", "HTTP_ORIGIN": SHOP}
    assert send_json(client, "POST", "/api/chat", body(handbook_bot), **headers).status_code in (400, 413)
    assert ask(client, handbook_bot, LICENCE_QUESTION, key=key).status_code == 200
    assert ask(client, handbook_bot, LICENCE_QUESTION, key=key).status_code == 429  # the limit still holds


# --- NUL in an address ---------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/api/conversations/ab%00cd", "/api/conversations/ab/feedback?x=%00",
                                  "/api/chatbots?search%00=x"])
def test_a_nul_in_an_api_path_or_query_gets_400_in_the_error_shape(client, chatbot, path):
    response = client.get(path, HTTP_AUTHORIZATION=f"Bearer {widget_key(chatbot)}", HTTP_ORIGIN=SHOP)
    assert_refused(response, 400, "invalid_text")


def test_a_nul_in_a_page_address_gets_the_400_page(client, db):
    response = client.get("/invitations/ab%00cd/")
    assert response.status_code == 400 and response["Content-Type"].startswith("text/html")


# --- Forms: the dashboard's and the admin's ----------------------------------------------------

def test_a_nul_in_the_dashboard_chatbot_form_is_refused_and_not_stored(owner_a, chatbot):
    staff = Client()
    staff.force_login(owner_a)
    form = {"name": "Helper", "personality": "professional", "top_k": "6", "temperature": "0.2",
            "welcome_message": "Hi", "fallback_message": "Sorry", "theme_position": "right"}
    for fields in ({"suggested_questions": [NUL]}, {"theme_title": NUL}):
        response = staff.post(f"/chatbots/{chatbot.id}/", {**form, **fields})
        assert response.status_code == 200 and "without NUL characters" in response.content.decode()
    chatbot = Chatbot.objects.get()
    assert chatbot.suggested_questions == [] and chatbot.theme["title"] == ""
    # The chatbot has no data source ticked: saving it so is confirmed, as the form asks.
    assert staff.post(f"/chatbots/{chatbot.id}/", {**form, "theme_title": "Fine",
                                                    "save_without_data_sources": "1"}).status_code == 302


@pytest.mark.parametrize(("questions", "theme"), [
    (json.dumps([SURROGATE]), json.dumps({"title": SURROGATE})),
    (json.dumps([NUL]), json.dumps({"title": NUL})),
    (DEEP, '{"title": ' + DEEP + "}"),
], ids=["lone surrogate", "NUL", "too deep"])
def test_the_admin_refuses_json_fields_with_a_lone_surrogate_nul_or_deep_nesting(superuser, chatbot, client,
                                                                                   questions, theme):
    client.force_login(superuser)
    response = client.post(f"/admin/chatbots/chatbot/{chatbot.id}/change/", {
        "company": chatbot.company_id, "name": "Helper", "description": "", "is_active": "on",
        "welcome_message": "Hi", "suggested_questions": questions, "personality": "professional",
        "instructions": "", "fallback_message": "Sorry", "top_k": "6", "temperature": "0.2", "model": "",
        "theme": theme, "chatbotdatasource_set-TOTAL_FORMS": "0", "chatbotdatasource_set-INITIAL_FORMS": "0",
    })
    assert response.status_code == 200 and response.content.decode().count("Enter a valid JSON.") == 2
    chatbot = Chatbot.objects.get()
    assert chatbot.suggested_questions == [] and chatbot.theme["title"] == ""


# --- WebSocket frames --------------------------------------------------------------------------

@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
@pytest.mark.parametrize(("frame", "code"), [
    ("[" * 5000, "parse_error"),
    (json.dumps({"type": "message", "message": f"warranty {SURROGATE}"}), "invalid_text"),
    (json.dumps({"type": "message", "message": LICENCE_QUESTION, "visitor_id": NUL}), "invalid_text"),
    ("not json", "parse_error"),
], ids=["too deep", "lone surrogate", "NUL", "not JSON"])
async def test_a_refused_frame_gets_an_error_frame_and_the_next_question_is_answered(settings, handbook_bot,
                                                                                  frame, code, one_window):
    settings.CHAT_RATE_PER_KEY = "1/m"  # the refused frame used none of it
    socket = chat_socket(handbook_bot, key=await sync_to_async(widget_key)(handbook_bot))
    assert (await socket.connect())[0]
    await socket.send_to(text_data=frame)
    reply = await socket.receive_json_from(timeout=5)
    assert reply["type"] == "error" and reply["error"]["code"] == code and reply["error"]["message"]
    frames = await socket_answer(socket, LICENCE_QUESTION)
    assert frames[-1]["type"] == "done"
    await socket.disconnect()
    assert await Message.objects.filter(role="user").acount() == 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
@pytest.mark.parametrize("frame", ["[" * 5000, json.dumps({"note": SURROGATE})], ids=["too deep", "lone surrogate"])
async def test_the_status_socket_answers_any_frame_with_an_error_frame_and_stays_open(owner_a, frame):
    client = Client()
    await sync_to_async(client.force_login)(owner_a)
    cookie = f"sessionid={client.cookies['sessionid'].value}".encode()
    socket = WebsocketCommunicator(application, "/ws/datasources/",
                                   headers=[(b"origin", b"http://localhost"), (b"host", b"localhost"),
                                            (b"cookie", cookie)])
    assert (await socket.connect())[0]
    for _ in range(2):
        await socket.send_to(text_data=frame)
        assert (await socket.receive_json_from(timeout=5))["error"]["code"] == "read_only"
    await socket.disconnect()
