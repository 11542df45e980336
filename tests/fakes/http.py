"""A real HTTP server on 127.0.0.1 for a test to point Docent at, in place of a remote service.

A fake is any callable that takes a `Request` and returns a `Reply`. `serve(fake)` runs it on an
ephemeral port in background threads for the length of a `with` block, usually a fixture:

    @pytest.fixture
    def pinecone():
        with serve(FakePinecone()) as server:
            yield server

The code under test then talks to it over a socket with its usual client, so the wire format is
exercised, not a mock of it.
"""

import json
import socket
import threading
import traceback
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

HOST = "127.0.0.1"


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # names lower-cased, as HTTP treats them case-insensitively
    body: bytes

    def json(self):
        return json.loads(self.body or b"null")


@dataclass(frozen=True)
class Reply:
    status: int
    body: object = None  # sent as JSON, as is when bytes, or piece by piece when an iterator of bytes
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def streamed(self) -> bool:
        return isinstance(self.body, Iterator)

    def encoded(self) -> tuple[bytes, dict[str, str]]:
        if isinstance(self.body, bytes):
            return self.body, self.headers
        return json.dumps(self.body).encode(), {"Content-Type": "application/json", **self.headers}


Fake = Callable[[Request], Reply]


@dataclass
class Server:
    url: str
    requests: list[Request]  # every request received, in order, for assertions


def _reply(fake: Fake, request: Request) -> Reply:
    """The fake's reply; a bug in the fake shows up as a 500 with its traceback, not a hang."""
    try:
        return fake(request)
    except Exception:
        return Reply(500, traceback.format_exc().encode(), {"Content-Type": "text/plain"})


def _handler(fake: Fake, requests: list[Request]) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _answer(self):
            url = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            request = Request(
                method=self.command, path=url.path, query=dict(parse_qsl(url.query)),
                headers={name.lower(): value for name, value in self.headers.items()},
                body=self.rfile.read(length),
            )
            requests.append(request)
            reply = _reply(fake, request)
            if reply.streamed:
                self._stream(reply.status, reply.headers, reply.body)
                return
            body, headers = reply.encoded()
            self.send_response(reply.status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _stream(self, status: int, headers: dict[str, str], pieces: Iterable[bytes]):
            """Each piece sent as soon as it is made; the closed connection ends the body (HTTP/1.0)."""
            try:
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Connection", "close")
                self.end_headers()
                for piece in pieces:
                    self.wfile.write(piece)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client went away mid-stream, as clients do

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _answer

        def log_message(self, format, *args):
            pass  # the test's own output is what matters

    return Handler


class _Server(ThreadingHTTPServer):
    request_queue_size = 1024  # a load benchmark opens hundreds of connections at once


@contextmanager
def serve(fake: Fake) -> Iterator[Server]:
    """Serve `fake` at http://127.0.0.1:<free port> until the block ends."""
    requests: list[Request] = []
    httpd = _Server((HOST, 0), _handler(fake, requests))
    thread = threading.Thread(target=httpd.serve_forever, name="fake-http", daemon=True)
    thread.start()
    try:
        yield Server(url=f"http://{HOST}:{httpd.server_port}", requests=requests)
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


def unreachable_url() -> str:
    """A URL on 127.0.0.1 where nothing listens: the port was free a moment ago."""
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        port = probe.getsockname()[1]
    return f"http://{HOST}:{port}"
