"""Several web processes on PostgreSQL and Redis: a change made through one reaches the sockets and the
caches of another, and WEB_PROCESSES=N serves one port from N processes (config.webprocesses)."""

import json
from http.client import HTTPConnection
from pathlib import Path
from urllib.error import HTTPError
from urllib.parse import urlsplit
from urllib.request import Request, urlopen

import pytest
from django.conf import settings
from django.test import Client
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from accounts.services import api_key_create
from datasources.models import DataSource
from integrations.models import Integration
from tests.chatting import SHOP, bot, widget_key
from tests.worker_processes import WorkerProcesses, skip_unless_web_processes_can_share

pytestmark = pytest.mark.django_db(transaction=True)

GENEROUS_S = 30  # how long a close may take here; how long it does take is bench/socket_revocation.py's
NEW_SHOP = "https://new-shop.example"


def test_revoking_a_key_through_one_web_process_closes_its_socket_on_the_other(two_web_processes, company_a,
                                                                               owner_a):
    first, second = two_web_processes
    chatbot = bot(company_a)
    key = widget_key(chatbot)
    integration = Integration.objects.get(api_key=key)
    admin_key = write_key(company_a, owner_a)
    socket_url = second.replace("http://", "ws://") + f"/ws/chat/{chatbot.id}/?key={key}"
    with connect(socket_url, origin=SHOP, open_timeout=GENEROUS_S) as socket:
        call(first, "POST", f"/api/integrations/{chatbot.id}/{integration.id}/revoke", admin_key)
        frame = json.loads(socket.recv(timeout=GENEROUS_S))
        assert frame["type"] == "error" and frame["error"]["code"] == "invalid_key"
        with pytest.raises(ConnectionClosed) as closed:
            socket.recv(timeout=GENEROUS_S)
    assert closed.value.rcvd.code == 4403


def test_a_file_reprocessed_through_one_web_process_shows_on_the_status_socket_of_the_other(
        two_web_processes, company_a, owner_a):
    first, second = two_web_processes
    failed = DataSource.objects.create(company=company_a, name="handbook.pdf", type="pdf",
                                       status=DataSource.Status.ERROR, error_message="The worker stopped.")
    with staff_status_socket(second, owner_a) as socket:
        call(first, "POST", "/api/process-file", write_key(company_a, owner_a), {"data_source_id": str(failed.id)})
        frame = json.loads(socket.recv(timeout=GENEROUS_S))
    assert frame["type"] == "status"
    assert frame["data_source"]["id"] == str(failed.id)
    assert frame["data_source"]["status"] == "processing" and frame["data_source"]["error_message"] == ""


def test_an_origin_allowed_through_one_web_process_passes_cors_on_the_other_at_once(two_web_processes, company_a,
                                                                                    owner_a):
    first, second = two_web_processes
    chatbot = bot(company_a)
    integration = Integration.objects.get(api_key=widget_key(chatbot))
    assert allowed_origin(second, NEW_SHOP) is None  # the second process now holds the allowed origins
    call(first, "PATCH", f"/api/integrations/{chatbot.id}/{integration.id}", write_key(company_a, owner_a),
         {"settings": {"allowed_origins": [SHOP, NEW_SHOP]}})
    assert allowed_origin(second, NEW_SHOP) == NEW_SHOP


def test_web_processes_2_serves_one_port_from_two_processes(db, tmp_path):
    skip_unless_web_processes_can_share()
    with WorkerProcesses(tmp_path) as processes:
        url = processes.serve(web_processes=2)
        daphnes = children(processes.started[-1].process.pid)
        port = urlsplit(url).port
        connections = [HTTPConnection("127.0.0.1", port, timeout=GENEROUS_S) for _ in range(30)]
        for held in connections:  # each kept open after its answer, so the process holding it can be found
            held.request("GET", "/healthz")
            assert held.getresponse().read() == b'{"status": "ok"}'
        served_by = {holder(port, held.sock.getsockname()[1], daphnes) for held in connections}
        for held in connections:
            held.close()
    assert len(daphnes) == 2
    assert served_by == set(daphnes)


def write_key(company, user) -> str:
    return api_key_create(company=company, name="ops", scope="write", created_by=user).secret


def call(url: str, method: str, path: str, key: str, body: dict | None = None) -> dict:
    request = Request(url + path, method=method, data=json.dumps(body).encode() if body is not None else None,
                      headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"})
    with urlopen(request, timeout=GENEROUS_S) as response:
        assert response.status in (200, 202)
        return json.load(response)


def staff_status_socket(url: str, user):
    """The dashboard's live status socket, opened on `url` by `user`, logged in."""
    browser = Client()
    browser.force_login(user)
    session = browser.cookies[settings.SESSION_COOKIE_NAME].value
    return connect(url.replace("http://", "ws://") + "/ws/datasources/", origin=url, open_timeout=GENEROUS_S,
                   additional_headers={"Cookie": f"{settings.SESSION_COOKIE_NAME}={session}"})


def allowed_origin(url: str, origin: str) -> str | None:
    """The origin a browser's preflight from `origin` to the chat endpoint is allowed, if any."""
    request = Request(f"{url}/api/chat", method="OPTIONS",
                      headers={"Origin": origin, "Access-Control-Request-Method": "POST"})
    try:
        with urlopen(request, timeout=GENEROUS_S) as response:
            return response.headers.get("Access-Control-Allow-Origin")
    except HTTPError as error:
        raise AssertionError(f"The preflight answered {error.code}") from None


def children(pid: int) -> list[int]:
    return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def holder(port: int, client_port: int, pids: list[int]) -> int:
    """Which of `pids` holds the server's end of the connection from `client_port` to `port` (Linux /proc)."""
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, remote, inode = fields[1], fields[2], fields[9]
        if int(local.split(":")[1], 16) == port and int(remote.split(":")[1], 16) == client_port:
            break
    else:
        raise AssertionError(f"No connection from port {client_port} to {port}")
    for pid in pids:
        if f"socket:[{inode}]" in open_files(pid):
            return pid
    raise AssertionError(f"None of {pids} holds the connection from port {client_port}")


def open_files(pid: int) -> set[str]:
    found = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            found.add(str(fd.readlink()))
        except FileNotFoundError:  # closed meanwhile (a database connection, a thread's socket)
            continue
    return found
