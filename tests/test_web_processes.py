"""Several web processes on Redis: a change made through one reaches the sockets another holds."""

import json
from urllib.request import Request, urlopen

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from accounts.services import api_key_create
from integrations.models import Integration
from tests.chatting import SHOP, bot, widget_key

pytestmark = pytest.mark.django_db(transaction=True)

GENEROUS_S = 30  # how long a close may take here; how long it does take is bench/socket_revocation.py's


def test_revoking_a_key_through_one_web_process_closes_its_socket_on_the_other(two_web_processes, company_a,
                                                                               owner_a):
    first, second = two_web_processes
    chatbot = bot(company_a)
    key = widget_key(chatbot)
    integration = Integration.objects.get(api_key=key)
    admin_key = api_key_create(company=company_a, name="ops", scope="write", created_by=owner_a).secret
    socket_url = second.replace("http://", "ws://") + f"/ws/chat/{chatbot.id}/?key={key}"
    with connect(socket_url, origin=SHOP, open_timeout=GENEROUS_S) as socket:
        revoke(first, chatbot.id, integration.id, admin_key)
        frame = json.loads(socket.recv(timeout=GENEROUS_S))
        assert frame["type"] == "error" and frame["error"]["code"] == "invalid_key"
        with pytest.raises(ConnectionClosed) as closed:
            socket.recv(timeout=GENEROUS_S)
    assert closed.value.rcvd.code == 4403


def revoke(url: str, chatbot_id, integration_id, admin_key: str) -> None:
    request = Request(f"{url}/api/integrations/{chatbot_id}/{integration_id}/revoke", method="POST",
                      headers={"Authorization": f"Bearer {admin_key}"})
    with urlopen(request, timeout=GENEROUS_S) as response:
        assert response.status == 200

