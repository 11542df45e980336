"""Cross-company checks, and the record of which routes they exercised.

Every check below records the route it hit; `test_isolation_guard.py` then fails for any URL
pattern or WebSocket route of the project that no check exercised (unless marked public).
"""

import re
from urllib.parse import urlsplit

from django.urls import resolve

GUARD_NODE_PREFIX = "tests/test_isolation_guard.py"
HIT_ROUTES: set[str] = set()


def normalize_route(route: str) -> str:
    """One spelling per route: no regex anchors, no optional or literal trailing slash."""
    route = route.replace("^", "").replace("\\Z", "").replace("$", "")
    route = re.sub(r"/\?$", "", route)
    return route.rstrip("/")


def record(path: str) -> None:
    HIT_ROUTES.add(normalize_route(resolve(urlsplit(path).path).route))


def record_websocket(route: str) -> None:
    HIT_ROUTES.add("ws:" + normalize_route(route))


def assert_foreign_404(client, method: str, path: str, **kwargs):
    """Another company's object must answer 404, exactly like a missing one."""
    response = getattr(client, method)(path, **kwargs)
    assert response.status_code == 404, (method, path, response.status_code, response.content[:300])
    if path.startswith("/api/"):
        assert response.json()["error"]["code"] == "not_found"
    record(path)
    return response


def assert_foreign_hidden(client, path: str, *foreign_markers: str):
    """A company-wide page or list shows the requester's own company only, none of the markers."""
    response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    body = (b"".join(response.streaming_content) if response.streaming else response.content).decode()
    for marker in foreign_markers:
        assert marker not in body, f"{path} leaked {marker!r} to another company"
    record(path)
    return response
