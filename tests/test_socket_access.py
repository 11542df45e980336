"""Open WebSockets end with the access that opened them: every question is authorised again, and
revoking a key, removing an origin, deactivating a chatbot, removing or deactivating a person
closes the sockets it opened with the reason; and there is a cap on open sockets per key and address."""

import asyncio
import json
from datetime import timedelta
from importlib import import_module

import pytest
from asgiref.sync import sync_to_async
from django.conf import settings
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from config import sockets
from config.sockets import REFUSED, TOO_MANY
from datasources import events
from integrations.models import Integration
from integrations.services import integration_rotate
from tests.chatting import LICENCE_QUESTION, add_source, bot, chat_socket, socket_answer, widget_key
from tests.test_datasource_isolation import dashboard_socket

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio, pytest.mark.usefixtures("local_models")]


async def staff(user, method: str, path: str, data=None):
    """A staff request through the API, as the dashboard would send it while the sockets stay open."""

    def send():
        client = APIClient()
        client.force_login(user)
        return getattr(client, method)(path, data, format="json")

    return await sync_to_async(send)()


async def opened(socket):
    connected, code = await socket.connect()
    assert connected, code
    return socket


async def closed_by_server(socket, timeout: float = 10) -> tuple[list[dict], dict]:
    """The frames a socket receives until the server closes it, and the close; fails if it stays open."""
    frames = []
    while True:
        output = await socket.receive_output(timeout=timeout)
        if output["type"] == "websocket.close":
            return frames, output
        frames.append(json.loads(output["text"]))


async def assert_refused(socket, code: str) -> dict:
    """The socket ends with an error frame and a close frame that both say `code`, in the error shape."""
    frames, close = await closed_by_server(socket)
    assert frames[-1]["type"] == "error" and frames[-1]["error"]["code"] == code, frames[-1:]
    assert frames[-1]["error"]["message"]
    assert close["code"] == REFUSED
    reason = json.loads(close["reason"])
    assert reason["error"]["code"] == code and len(close["reason"].encode()) <= 123
    await socket.wait()
    return frames[-1]


@pytest.fixture
def key(handbook_bot):
    return widget_key(handbook_bot)


# Changes made elsewhere close the sockets they end

async def test_revoking_a_widget_key_closes_its_open_sockets(handbook_bot, key, owner_a):
    socket = await opened(chat_socket(handbook_bot, key=key))
    assert (await socket_answer(socket, LICENCE_QUESTION))[-1]["type"] == "done"
    integration = await Integration.objects.aget(api_key=key)
    response = await staff(owner_a, "post", f"/api/integrations/{handbook_bot.id}/{integration.id}/revoke")
    assert response.status_code == 200
    await assert_refused(socket, "invalid_key")


async def test_removing_the_sites_origin_closes_sockets_opened_from_it(handbook_bot, key, owner_a):
    socket = await opened(chat_socket(handbook_bot, key=key))
    integration = await Integration.objects.aget(api_key=key)
    response = await staff(owner_a, "patch", f"/api/integrations/{handbook_bot.id}/{integration.id}",
        {"settings": {"allowed_origins": ["https://other-shop.example"]}})
    assert response.status_code == 200
    await assert_refused(socket, "origin_not_allowed")


async def test_deactivating_a_chatbot_closes_its_open_sockets_mid_answer(handbook_bot, key, owner_a):
    visitor = await opened(chat_socket(handbook_bot, key=key))
    console = await opened(await sync_to_async(chat_socket)(handbook_bot, user=owner_a, origin="http://testserver"))
    await visitor.send_json_to({"type": "message", "message": LICENCE_QUESTION})
    response = await staff(owner_a, "patch", f"/api/chatbots/{handbook_bot.id}", {"is_active": False})
    assert response.status_code == 200
    refused = await assert_refused(visitor, "unavailable")
    assert refused["error"]["message"] == "This chatbot is unavailable."
    assert (await socket_answer(console, LICENCE_QUESTION))[-1]["type"] == "done"  # staff still test it
    await console.disconnect()


async def test_deleting_a_chatbot_closes_its_open_sockets(handbook_bot, key, owner_a):
    socket = await opened(chat_socket(handbook_bot, key=key))
    assert (await staff(owner_a, "delete", f"/api/chatbots/{handbook_bot.id}")).status_code == 204
    await assert_refused(socket, "invalid_key")


async def test_removing_a_staff_member_closes_their_console_socket(handbook_bot, owner_a, member_a):
    socket = await opened(await sync_to_async(chat_socket)(handbook_bot, user=member_a, origin="http://testserver"))
    assert (await socket_answer(socket, LICENCE_QUESTION))[-1]["type"] == "done"
    response = await staff(owner_a, "delete", f"/api/team/members/{member_a.id}")
    assert response.status_code == 204
    await assert_refused(socket, "not_found")


async def test_deactivating_a_person_in_admin_closes_their_sockets(handbook_bot, superuser, member_a):
    console = await opened(await sync_to_async(chat_socket)(handbook_bot, user=member_a, origin="http://testserver"))
    status = await opened(await sync_to_async(dashboard_socket)(member_a))
    admin = Client()
    await sync_to_async(admin.force_login)(superuser)
    form = {"email": member_a.email, "name": member_a.name, "company": str(member_a.company_id),
            "role": member_a.role}  # "is_active" left out: the checkbox is unticked
    response = await sync_to_async(admin.post)(f"/admin/accounts/user/{member_a.id}/change/", form)
    assert response.status_code == 302
    await assert_refused(console, "not_found")
    await assert_refused(status, "access_revoked")


async def test_a_removed_members_status_socket_stops_receiving_the_companys_files(owner_a, member_a, company_a):
    source = await sync_to_async(add_source)(company_a, "payroll-2027.pdf", ["Salaries rise by 4%."])
    listener = await opened(await sync_to_async(dashboard_socket)(member_a))
    colleague = await opened(await sync_to_async(dashboard_socket)(owner_a))
    await staff(owner_a, "delete", f"/api/team/members/{member_a.id}")
    await assert_refused(listener, "access_revoked")
    await sync_to_async(events.publish)(source)
    assert (await colleague.receive_json_from(timeout=5))["data_source"]["name"] == "payroll-2027.pdf"
    await colleague.disconnect()


# Every question is authorised again, whether or not a change was announced

async def test_a_question_after_the_rotated_keys_grace_period_is_refused(handbook_bot, key):
    socket = await opened(chat_socket(handbook_bot, key=key))
    integration = await Integration.objects.aget(api_key=key)
    await sync_to_async(integration_rotate)(integration=integration)
    assert (await socket_answer(socket, LICENCE_QUESTION))[-1]["type"] == "done"  # within the grace period
    await Integration.objects.filter(pk=integration.pk).aupdate(previous_valid_until=timezone.now() - timedelta(1))
    await socket.send_json_to({"type": "message", "message": LICENCE_QUESTION})
    await assert_refused(socket, "invalid_key")


async def test_a_question_after_logging_out_is_refused(handbook_bot, owner_a):
    socket = await opened(await sync_to_async(chat_socket)(handbook_bot, user=owner_a, origin="http://testserver"))
    session_key = dict(socket.scope["headers"])[b"cookie"].decode().split("=", 1)[1]
    await sync_to_async(_log_out)(session_key)
    await socket.send_json_to({"type": "message", "message": LICENCE_QUESTION})
    await assert_refused(socket, "not_found")


def _log_out(session_key: str) -> None:
    """What logging out in another tab does to the session."""
    import_module(settings.SESSION_ENGINE).SessionStore(session_key).flush()


# Caps on open sockets

async def cap_refusal(socket) -> dict:
    connected, _ = await socket.connect()
    assert connected  # accepted, so that the close can say why
    frames, close = await closed_by_server(socket)
    assert close["code"] == TOO_MANY and json.loads(close["reason"])["error"]["code"] == "too_many_sockets"
    return frames[-1]["error"]


async def test_sockets_past_the_cap_per_key_are_closed_with_the_reason(settings, handbook_bot, key, company_a):
    settings.SOCKETS_PER_KEY = 2
    first, second = [await opened(chat_socket(handbook_bot, key=key)) for _ in range(2)]
    refused = await cap_refusal(chat_socket(handbook_bot, key=key))
    assert refused["message"].startswith("Too many open connections from this key")
    other_bot = await sync_to_async(bot)(company_a)
    other = await opened(chat_socket(other_bot, key=await sync_to_async(widget_key)(other_bot)))
    await first.disconnect()
    third = await opened(chat_socket(handbook_bot, key=key))  # a place came free
    assert (await socket_answer(third, LICENCE_QUESTION))[-1]["type"] == "done"
    for socket in (second, third, other):
        await socket.disconnect()


async def test_sockets_past_the_cap_per_address_are_closed_with_the_reason(settings, handbook_bot, key, company_a):
    settings.SOCKETS_PER_ADDRESS = 1
    first = await opened(chat_socket(handbook_bot, key=key))
    other_bot = await sync_to_async(bot)(company_a)
    refused = await cap_refusal(chat_socket(other_bot, key=await sync_to_async(widget_key)(other_bot)))
    assert refused["message"].startswith("Too many open connections from your network address")
    await first.disconnect()


class RenewalLosesACancellation:
    """Open-socket counts whose renewal carries on when cancelled, as a Redis write under Python 3.11's
    asyncio.wait_for can (config.channel_layer)."""

    renewals = lost = 0

    async def renew(self, socket_id, names):
        self.renewals += 1
        try:
            await asyncio.sleep(1)
        except asyncio.CancelledError:
            if self.lost:
                raise
            self.lost += 1


async def test_a_closed_sockets_lease_stops_renewing_even_when_a_renewal_loses_its_cancellation(monkeypatch):
    counts = RenewalLosesACancellation()
    monkeypatch.setattr(sockets, "socket_counts", lambda: counts)
    socket = sockets.GuardedSocket()
    socket.channel_name, socket.counted_as = "specific.test!1", ["key:k"]
    lease = asyncio.create_task(socket._keep_lease(0.01))
    await asyncio.sleep(0.1)  # renewing
    lease.cancel()  # the socket closed
    await asyncio.wait({lease}, timeout=2)
    renewed = counts.renewals
    await asyncio.sleep(0.2)
    assert lease.done() and counts.renewals == renewed  # not counted as open for ever
