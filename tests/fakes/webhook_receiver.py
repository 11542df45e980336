"""A company's webhook receiver on 127.0.0.1: it verifies each delivery's signature with the very code
the dashboard shows (webhooks.signing.VERIFY_PYTHON) and answers as the test scripted it.

    receiver.answer(500)                      # the next request gets a 500
    receiver.answer(200, delay=3)             # … answers after 3 seconds
    receiver.answer(302, location="http://10.0.0.1/")
Unscripted requests get 200. `receiver.secrets` are the secrets it accepts.
"""

import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from tests.fakes.http import Reply, Request, serve
from webhooks.signing import VERIFY_PYTHON

_namespace: dict = {}
exec(VERIFY_PYTHON, _namespace)  # noqa: S102 -- the snippet a receiver copies from the dashboard, run as they would
verify = _namespace["verify"]


@dataclass
class Receiver:
    secrets: list[str] = field(default_factory=list)
    script: deque = field(default_factory=deque)
    url: str = ""
    requests: list[Request] = field(default_factory=list)

    def answer(self, status: int, *, delay: float = 0, location: str = "", body: bytes = b"") -> None:
        self.script.append((status, delay, location, body))

    def verified(self, request: Request, secret: str | None = None) -> bool:
        headers = request.headers
        return any(verify(candidate, request.body, headers["docent-timestamp"], headers["docent-signature"])
                   for candidate in ([secret] if secret else self.secrets))

    def __call__(self, request: Request) -> Reply:
        status, delay, location, body = self.script.popleft() if self.script else (200, 0, "", b"")
        time.sleep(delay)
        if not self.verified(request):
            return Reply(401, b"bad signature")
        return Reply(status, body or f"answered {status}".encode(), {"Location": location} if location else {})


@contextmanager
def running_receiver() -> Iterator[Receiver]:
    receiver = Receiver()
    with serve(receiver) as server:
        receiver.url, receiver.requests = server.url + "/hooks/docent", server.requests
        yield receiver
