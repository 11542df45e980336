"""Rate limits on questions: per key, per client address and per company plan, alike over HTTP and WebSocket."""

import pytest
import redis.connection
from django.conf import settings as django_settings

from chat import limits
from chat.models import Message
from config.errors import ApiError
from tests.chatting import LICENCE_QUESTION, WAREHOUSE, add_source, ask, bot, chat_socket, socket_answer, widget_key

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def generous_defaults(local_models, settings):
    settings.CHAT_RATE_PER_KEY = "1000/m"
    settings.CHAT_RATE_PER_IP = "1000/m"


def test_the_question_past_the_keys_limit_gets_429_with_retry_after(settings, client, handbook_bot, one_window):
    settings.CHAT_RATE_PER_KEY = "3/m"
    key = widget_key(handbook_bot)
    statuses = [ask(client, handbook_bot, LICENCE_QUESTION, key=key).status_code for _ in range(3)]
    refused = ask(client, handbook_bot, LICENCE_QUESTION, key=key)
    assert statuses == [200, 200, 200] and refused.status_code == 429
    assert 1 <= int(refused["Retry-After"]) <= 60
    assert refused.json()["error"]["code"] == "rate_limited"
    assert Message.objects.filter(role="user").count() == 3  # the refused question was not processed


def test_the_limit_per_address_counts_every_key_from_that_address(settings, client, company_a, handbook_bot,
                                                                  one_window):
    settings.CHAT_RATE_PER_IP = "2/m"
    other_bot = bot(company_a, *handbook_bot.data_sources.all())
    assert ask(client, handbook_bot, LICENCE_QUESTION, key=widget_key(handbook_bot)).status_code == 200
    assert ask(client, other_bot, LICENCE_QUESTION, key=widget_key(other_bot)).status_code == 200
    assert ask(client, other_bot, LICENCE_QUESTION, key=widget_key(other_bot)).status_code == 429
    # Another address is counted on its own.
    assert ask(client, other_bot, LICENCE_QUESTION, key=widget_key(other_bot),
               remote_addr="198.51.100.7").status_code == 200


def test_the_company_limit_comes_from_its_plan(settings, api_client, owner_a, handbook_bot, one_window):
    settings.PLANS = {**settings.PLANS, "free": {**settings.PLANS["free"], "requests_per_minute": 2}}
    client = api_client(owner_a)
    assert [ask(client, handbook_bot, LICENCE_QUESTION).status_code for _ in range(3)] == [200, 200, 429]


def test_another_companys_questions_do_not_use_up_this_companys_limit(settings, api_client, owner_a, owner_b,
                                                                       handbook_bot, company_b):
    settings.PLANS = {**settings.PLANS, "free": {**settings.PLANS["free"], "requests_per_minute": 1}}
    bot_b = bot(company_b, add_source(company_b, "handbook.pdf", WAREHOUSE))
    assert ask(api_client(owner_b), bot_b, LICENCE_QUESTION).status_code == 200
    assert ask(api_client(owner_a), handbook_bot, LICENCE_QUESTION).status_code == 200


@pytest.mark.asyncio
async def test_the_websocket_counts_against_the_same_limit_and_says_so_in_an_error_frame(settings, handbook_bot,
                                                                                         one_window):
    from asgiref.sync import sync_to_async

    settings.CHAT_RATE_PER_KEY = "2/m"
    key = await sync_to_async(widget_key)(handbook_bot)
    socket = chat_socket(handbook_bot, key=key)
    assert (await socket.connect())[0]
    assert (await socket_answer(socket, LICENCE_QUESTION))[-1]["type"] == "done"
    assert (await socket_answer(socket, LICENCE_QUESTION))[-1]["type"] == "done"
    refused = await socket_answer(socket, LICENCE_QUESTION)
    assert refused[-1]["type"] == "error" and refused[-1]["error"]["code"] == "rate_limited"
    assert refused[-1]["error"]["details"]["retry_after"] >= 1
    await socket.disconnect()


@pytest.mark.skipif(not django_settings.REDIS_URL, reason="counts round trips to Redis: run with REDIS_URL=redis://…")
def test_with_redis_the_three_counters_of_a_question_take_one_round_trip(settings, monkeypatch, one_window):
    settings.CHAT_RATE_PER_KEY = "2/m"
    caller = limits.Caller(key="a-widget-key", client_ip="203.0.113.9", company_id="a-company", company_rate="100/m")
    limits.check(caller)  # the first question also opens the connection to Redis
    round_trips = []
    send = redis.connection.AbstractConnection.send_packed_command  # one call per batch of commands sent

    def counted(connection, *args, **kwargs):
        round_trips.append(args)
        return send(connection, *args, **kwargs)

    monkeypatch.setattr(redis.connection.AbstractConnection, "send_packed_command", counted)
    limits.check(caller)
    with pytest.raises(ApiError) as refused:
        limits.check(caller)
    assert len(round_trips) == 2
    assert refused.value.code == "rate_limited" and 1 <= refused.value.details["retry_after"] <= 60
