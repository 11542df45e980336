"""OpenAI's API on 127.0.0.1, speaking the documented wire format that the openai SDK uses.

    with running_openai(api_key="sk-test") as openai_server:
        settings.OPENAI_BASE_URL = openai_server.base_url

Like the real service it wants `Authorization: Bearer <key>`, answers errors as
`{"error": {"message", "type", "param", "code"}}` and enforces the embeddings API's input limits.
Embeddings are deterministic: a hashed bag of words, so texts that share words lie close together.
`fail_next(n, status, retry_after=...)` makes the next n requests fail, for testing retries.

Another endpoint is a method taking a `Request` and returning a `Reply`, listed in `routes`.
"""

import base64
import hashlib
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np

from tests.fakes.http import Reply, Request, serve

MAX_EMBEDDING_INPUTS = 2048
WORDS = re.compile(r"\w+")


def error(status: int, message: str, *, error_type: str = "invalid_request_error",
          code: str | None = None, param: str | None = None, headers: dict | None = None) -> Reply:
    body = {"error": {"message": message, "type": error_type, "param": param, "code": code}}
    return Reply(status, body, headers or {})


def bag_of_words_vector(text: str, dimension: int) -> np.ndarray:
    """Each word adds ±1 at a position its hash picks: shared words make vectors similar."""
    vector = np.zeros(dimension, dtype=np.float32)
    for word in WORDS.findall(text.lower()):
        digest = hashlib.blake2b(word.encode(), digest_size=8).digest()
        position = int.from_bytes(digest[:4], "little") % dimension
        vector[position] += 1.0 if digest[4] & 1 else -1.0
    norm = np.linalg.norm(vector)
    return vector / norm if norm else vector


class FakeOpenAI:
    def __init__(self, *, api_key: str, dimension: int = 1536):
        self.api_key = api_key
        self.dimension = dimension  # of every embedding model, unless a request asks for fewer
        self.url = ""
        self.requests: list[Request] = []  # the server's record, once running
        self.routes = {("POST", "/v1/embeddings"): self.embeddings}
        self._failures: list[Reply] = []
        self._lock = threading.Lock()

    @property
    def base_url(self) -> str:
        return f"{self.url}/v1"

    def fail_next(self, count: int, status: int, *, retry_after: str | None = None) -> None:
        headers = {"Retry-After": retry_after} if retry_after is not None else {}
        kind = "rate_limit_exceeded" if status == 429 else "server_error"
        with self._lock:
            self._failures += [error(status, f"Simulated {status}.", error_type=kind, headers=headers)] * count

    def __call__(self, request: Request) -> Reply:
        if request.headers.get("authorization") != f"Bearer {self.api_key}":
            return error(401, "Incorrect API key provided.", code="invalid_api_key")
        with self._lock:
            if self._failures:
                return self._failures.pop(0)
        route = self.routes.get((request.method, request.path))
        if route is None:
            return error(404, f"Invalid URL ({request.method} {request.path})")
        return route(request)

    def embeddings(self, request: Request) -> Reply:
        body = request.json()
        inputs = body.get("input")
        inputs = [inputs] if isinstance(inputs, str) else inputs
        problem = _invalid_embedding_inputs(inputs)
        if problem:
            return error(400, problem, param="input")
        dimension = body.get("dimensions") or self.dimension
        encode = _base64 if body.get("encoding_format") == "base64" else _floats
        data = [
            {"object": "embedding", "index": i, "embedding": encode(bag_of_words_vector(text, dimension))}
            for i, text in enumerate(inputs)
        ]
        tokens = sum(len(WORDS.findall(text)) for text in inputs)
        return Reply(200, {"object": "list", "data": data, "model": body.get("model"),
                           "usage": {"prompt_tokens": tokens, "total_tokens": tokens}})


def _invalid_embedding_inputs(inputs) -> str | None:
    if not isinstance(inputs, list) or not inputs or not all(isinstance(text, str) for text in inputs):
        return "'$.input' is invalid: expected a non-empty string or array of strings."
    if len(inputs) > MAX_EMBEDDING_INPUTS:
        return f"'$.input' is invalid: at most {MAX_EMBEDDING_INPUTS} inputs per request, got {len(inputs)}."
    if any(not text for text in inputs):
        return "'$.input' is invalid: empty strings cannot be embedded."
    return None


def _floats(vector: np.ndarray) -> list[float]:
    return vector.tolist()


def _base64(vector: np.ndarray) -> str:
    return base64.b64encode(vector.astype("<f4").tobytes()).decode()


@contextmanager
def running_openai(*, api_key: str, dimension: int = 1536) -> Iterator[FakeOpenAI]:
    openai = FakeOpenAI(api_key=api_key, dimension=dimension)
    with serve(openai) as server:
        openai.url = server.url
        openai.requests = server.requests
        yield openai
