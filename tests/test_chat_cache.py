"""The answer cache: a conversation's first question asked again is answered without retrieval or the model,
stored like any answer, and never served across chatbots, companies or a change to what answers are made from.

The language model is the local OpenAI-speaking server (tests/fakes/openai_server.py): the chat requests it
received tell how many answers were written rather than recalled.
"""

import json
from urllib.request import Request, urlopen

import pytest
from asgiref.sync import sync_to_async

from chat.models import Message
from chatbots.services import chatbot_update
from datasources.services import datasource_write_text
from integrations.models import Integration
from integrations.services import integration_revoke
from tests.chatting import (
    LICENCE_QUESTION,
    SHOP,
    WAREHOUSE,
    add_source,
    ask,
    bot,
    chat_socket,
    server_key,
    socket_answer,
    widget_key,
)
from tests.ingestion import run_worker

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def model_bot(language_model, company_a):
    """Company A's chatbot over the warehouse handbook, its answers written by the language model."""
    return bot(company_a, add_source(company_a, "handbook.pdf", WAREHOUSE))


def answer(client, chatbot, message: str = LICENCE_QUESTION, **fields) -> dict:
    response = ask(client, chatbot, message, **fields)
    assert response.status_code == 200, response.content
    return response.json()


def written(language_model) -> int:
    """How many answers the language model has written."""
    return len(language_model.chat_requests())


def test_a_first_question_asked_again_is_answered_from_the_cache(api_client, owner_a, model_bot, language_model):
    client = api_client(owner_a)
    first = answer(client, model_bot)
    again = answer(client, model_bot, "  what must forklift drivers hold AND wear ")  # the same question
    assert written(language_model) == 1
    assert first["cached"] is False and again["cached"] is True
    assert again["session_id"] != first["session_id"]  # a conversation of its own
    for field in ("response", "sources", "citations", "mode", "answered"):
        assert again[field] == first[field], field
    assert "current licence" in again["response"] and again["sources"] == ["handbook.pdf page 2"]

    stored = Message.objects.get(conversation__session_id=again["session_id"], role=Message.Role.ASSISTANT)
    written_first = Message.objects.get(conversation__session_id=first["session_id"], role=Message.Role.ASSISTANT)
    assert stored.cached is True and written_first.cached is False
    assert stored.content == written_first.content == first["response"]
    assert stored.citations == written_first.citations and stored.citations[0]["location"] == "handbook.pdf page 2"
    assert stored.mode == "openai" and stored.model == "gpt-test" and stored.completion_tokens == 0


def test_the_staff_api_shows_which_answers_were_cached(api_client, owner_a, model_bot):
    client = api_client(owner_a)
    answer(client, model_bot)
    session_id = answer(client, model_bot)["session_id"]
    messages = client.get(f"/api/conversations/{session_id}").json()["messages"]
    assert [message.get("cached") for message in messages] == [False, True]


def test_a_question_with_the_visitors_context_is_answered_afresh(api_client, owner_a, model_bot, language_model):
    client = api_client(owner_a)
    answer(client, model_bot, context="On the careers page")
    assert answer(client, model_bot, context="On the careers page")["cached"] is False
    assert answer(client, model_bot)["cached"] is False  # nor did it fill the cache for questions without
    assert written(language_model) == 3


def test_a_later_turn_of_a_conversation_is_answered_afresh(api_client, owner_a, model_bot, language_model):
    client = api_client(owner_a)
    answer(client, model_bot)
    opening = answer(client, model_bot, "When does the courier collect parcels?")
    later = answer(client, model_bot, session_id=opening["session_id"])
    assert later["cached"] is False and later["session_id"] == opening["session_id"]
    assert written(language_model) == 3


def test_another_chatbot_with_the_same_documents_does_not_share_answers(api_client, owner_a, company_a, model_bot,
                                                                         language_model):
    client = api_client(owner_a)
    twin = bot(company_a, *model_bot.data_sources.all())
    answer(client, model_bot)
    assert answer(client, twin)["cached"] is False
    assert written(language_model) == 2


def test_another_company_asking_the_same_of_the_same_documents_does_not_share_answers(
        api_client, owner_a, owner_b, company_b, model_bot, language_model):
    answer(api_client(owner_a), model_bot)
    theirs = bot(company_b, add_source(company_b, "handbook.pdf", WAREHOUSE))
    assert answer(api_client(owner_b), theirs)["cached"] is False
    assert written(language_model) == 2


def test_changing_how_the_chatbot_answers_gives_a_fresh_answer(api_client, owner_a, model_bot, language_model):
    client = api_client(owner_a)
    answer(client, model_bot)
    chatbot_update(chatbot=model_bot, theme={"primary_color": "#123456"})  # how it looks: answers stay
    assert answer(client, model_bot)["cached"] is True
    chatbot_update(chatbot=model_bot, instructions="Answer in one short sentence.")
    fresh = answer(client, model_bot)
    assert fresh["cached"] is False and written(language_model) == 2
    assert "one short sentence" in language_model.chat_requests()[-1]["messages"][0]["content"]


def test_detaching_a_data_source_gives_a_fresh_answer(api_client, owner_a, model_bot, language_model):
    client = api_client(owner_a)
    answer(client, model_bot)
    chatbot_update(chatbot=model_bot, data_source_ids=[])
    fresh = answer(client, model_bot)
    assert fresh["cached"] is False and fresh["answered"] is False and fresh["mode"] == "fallback"


def test_reprocessing_a_data_source_gives_an_answer_from_its_new_text(client, owner_a, company_a, language_model):
    language_model.chat_reply("Drivers need what the handbook says [1].")
    text = "# Safety\n\nForklift drivers must hold a current licence and wear a high-visibility vest."
    source = datasource_write_text(company=company_a, user=owner_a, name="safety.md", text=text)
    run_worker()
    chatbot = bot(company_a, source)
    key = server_key(chatbot)
    assert "current licence" in answer(client, chatbot, key=key)["citations"][0]["text"]
    assert answer(client, chatbot, key=key)["cached"] is True

    datasource_write_text(company=company_a, user=owner_a, name="safety.md", data_source=source,
                          text=text.replace("a current licence", "a forklift permit"))
    run_worker()
    fresh = answer(client, chatbot, key=key)
    assert fresh["cached"] is False and "forklift permit" in fresh["citations"][0]["text"]
    assert written(language_model) == 2


def test_cached_answers_count_in_analytics(client, api_client, owner_a, model_bot):
    key = widget_key(model_bot)
    for visitor in ("v-1", "v-2"):
        answer(client, model_bot, key=key, visitor_id=visitor)
    totals = api_client(owner_a).get("/api/analytics/dashboard").json()["totals"]
    assert totals["questions"] == 2 and totals["answers"] == 2 and totals["answered"] == 2
    assert totals["unique_visitors"] == 2


def test_cached_answers_are_rate_limited_like_any_other(client, settings, model_bot, language_model, one_window):
    settings.CHAT_RATE_PER_KEY = "2/m"
    key = server_key(model_bot)
    assert [ask(client, model_bot, LICENCE_QUESTION, key=key).status_code for _ in range(3)] == [200, 200, 429]
    assert written(language_model) == 1


def test_a_revoked_key_gets_no_cached_answer(client, model_bot):
    key = widget_key(model_bot)
    answer(client, model_bot, key=key)
    integration_revoke(integration=Integration.objects.get(api_key=key))
    refused = ask(client, model_bot, LICENCE_QUESTION, key=key)
    assert refused.status_code == 401 and "response" not in refused.json()


def test_a_site_not_allowed_gets_no_cached_answer(client, model_bot):
    key = widget_key(model_bot)
    answer(client, model_bot, key=key)
    assert ask(client, model_bot, LICENCE_QUESTION, key=key, origin="https://evil.example").status_code == 403


def test_with_the_cache_off_every_answer_is_written(api_client, owner_a, settings, model_bot, language_model):
    settings.ANSWER_CACHE_SECONDS = 0
    client = api_client(owner_a)
    assert [answer(client, model_bot)["cached"] for _ in range(2)] == [False, False]
    assert written(language_model) == 2


def test_a_question_is_embedded_once_for_every_turn_that_asks_it(api_client, owner_a, company_a, settings,
                                                                 language_model):
    settings.EMBEDDING_BACKEND = "openai"
    chatbot = bot(company_a, add_source(company_a, "handbook.pdf", WAREHOUSE))
    client = api_client(owner_a)
    opening = answer(client, chatbot)
    answer(client, chatbot, session_id=opening["session_id"])  # a later turn: answered afresh
    embedded = [request.json()["input"] for request in language_model.requests if request.path == "/v1/embeddings"]
    assert embedded.count([LICENCE_QUESTION]) == 1 and written(language_model) == 2


def test_an_answer_found_while_the_embedder_failed_is_not_cached(api_client, owner_a, company_a, settings,
                                                                language_model):
    settings.EMBEDDING_BACKEND = "openai"
    chatbot = bot(company_a, add_source(company_a, "handbook.pdf", WAREHOUSE))
    client = api_client(owner_a)
    language_model.fail_next(1, 400)  # the question's embedding: the search goes on by words alone
    assert answer(client, chatbot)["cached"] is False
    assert answer(client, chatbot)["cached"] is False  # afresh, the embedder working again
    assert answer(client, chatbot)["cached"] is True
    assert written(language_model) == 2


@pytest.mark.asyncio
async def test_a_cached_answer_streams_the_frames_of_a_fresh_one(model_bot, language_model):
    key = await sync_to_async(widget_key)(model_bot)
    frames = []
    for _ in range(2):
        socket = chat_socket(model_bot, key=key, origin=SHOP)
        assert (await socket.connect())[0]
        frames.append(await socket_answer(socket, LICENCE_QUESTION))
        await socket.disconnect()
    fresh, cached = frames
    assert [frame["type"] for frame in cached] == ["token", "sources", "done"]
    assert "".join(f["token"] for f in cached if f["type"] == "token") == \
        "".join(f["token"] for f in fresh if f["type"] == "token")
    assert cached[1]["citations"] == fresh[-2]["citations"] and cached[1]["sources"] == fresh[-2]["sources"]
    assert fresh[-1]["cached"] is False and cached[-1]["cached"] is True
    assert cached[-1]["conversation_secret"] != fresh[-1]["conversation_secret"]  # each visitor their own
    assert len(language_model.chat_requests()) == 1


def test_an_answer_cached_by_one_web_process_is_served_by_another(two_web_processes, company_a):
    chatbot = bot(company_a)  # no documents: its fallback message, cached like any answer
    key = server_key(chatbot)
    body = json.dumps({"chatbot_id": str(chatbot.id), "message": LICENCE_QUESTION}).encode()
    answers = []
    for url in two_web_processes:
        request = Request(f"{url}/api/chat", data=body, method="POST", headers={
            "Authorization": f"Bearer {key}", "Content-Type": "application/json"})
        with urlopen(request, timeout=60) as response:
            answers.append(json.load(response))
    assert [answer["cached"] for answer in answers] == [False, True]
    assert answers[1]["response"] == answers[0]["response"] == chatbot.fallback_message


def test_a_cached_answer_links_its_documents_as_the_chatbot_now_says(client, company_a, model_bot):
    key = widget_key(model_bot)
    assert answer(client, model_bot, key=key)["source_urls"] == [None]
    chatbot_update(chatbot=model_bot, show_source_documents=True)  # what is sent with an answer, not the answer
    cached = answer(client, model_bot, key=key)
    [cited] = [citation for citation in cached["citations"] if citation["cited"]]
    assert cached["cached"] is True and cited["url"].startswith("http://testserver/api/documents/")
    assert cached["source_urls"] == [cited["url"]]
