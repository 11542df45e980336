"""OpenAI's API on 127.0.0.1, speaking the documented wire format that the openai SDK uses.

    with running_openai(api_key="sk-test") as openai_server:
        settings.OPENAI_BASE_URL = openai_server.base_url

Like the real service it wants `Authorization: Bearer <key>`, answers errors as
`{"error": {"message", "type", "param", "code"}}` and enforces the embeddings API's input limits.
Embeddings are deterministic: a hashed bag of words, so texts that share words lie close together.
`fail_next(n, status, retry_after=...)` makes the next n requests fail, for testing retries.

Chat completions answer as a model would, streamed as server-sent events when asked
(`chat.completion.chunk` events, a usage event when `stream_options.include_usage`, then
`data: [DONE]`). By default the answer repeats the first sentence of the prompt's first
`<source>` block and cites it "[1]"; `chat_reply(...)` changes how the next requests are answered:
its text, exactly how many tokens (the text's words repeated), their pace (which is also the delay
before the first token), no usage (like servers that ignore stream_options), or a stall (the
server goes silent after some tokens; after none, before even the response's headers), or an
error event or garbled data after some tokens. Requests
are handled in threads, one per connection, so hundreds of streams can run at once.

Another endpoint is a method taking a `Request` and returning a `Reply`, listed in `routes`.
"""

import base64
import hashlib
import itertools
import json
import re
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np

from tests.fakes.http import Reply, Request, serve

MAX_EMBEDDING_INPUTS = 2048
WORDS = re.compile(r"\w+")
TOKENS = re.compile(r"\s*\S+")
CHAT_ROLES = {"system", "developer", "user", "assistant", "tool"}
FIRST_SOURCE = re.compile(r"<source [^>]*>\n(.*?)\n</source>", re.DOTALL)
STALL_SECONDS = 60  # at most: a stalled request ends when the server does


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


@dataclass(frozen=True)
class ChatReply:
    text: str | None = None  # None: the first sentence of the prompt's first source, cited [1]
    tokens: int | None = None  # exactly this many tokens, the text's words repeated as needed
    tokens_per_second: float | None = None  # None: as fast as the socket goes
    usage: bool = True  # False: no usage event even when stream_options asks for one
    stall_after: int | None = None  # tokens sent before going silent; 0: not even the headers
    fail_after: int | None = None  # tokens sent before an error event, as OpenAI sends one mid-stream
    garble_after: int | None = None  # tokens sent before an event whose data is not JSON


class FakeOpenAI:
    def __init__(self, *, api_key: str, dimension: int = 1536):
        self.api_key = api_key
        self.dimension = dimension  # of every embedding model, unless a request asks for fewer
        self.url = ""
        self.requests: list[Request] = []  # the server's record, once running
        self.routes = {("POST", "/v1/embeddings"): self.embeddings,
                       ("POST", "/v1/chat/completions"): self.chat_completions}
        self.replies = ChatReply()
        self._failures: list[Reply] = []
        self._lock = threading.Lock()
        self._closed = threading.Event()

    @property
    def base_url(self) -> str:
        return f"{self.url}/v1"

    def fail_next(self, count: int, status: int, *, retry_after: str | None = None) -> None:
        headers = {"Retry-After": retry_after} if retry_after is not None else {}
        kind = "rate_limit_exceeded" if status == 429 else "server_error"
        with self._lock:
            self._failures += [error(status, f"Simulated {status}.", error_type=kind, headers=headers)] * count

    def chat_reply(self, text: str | None = None, **how) -> None:
        """How chat completions answer from now on (see ChatReply); unnamed options go back to defaults."""
        self.replies = ChatReply(text, **how)

    def chat_requests(self) -> list[dict]:
        """The bodies of the chat completion requests received, in order: what the model was asked."""
        return [request.json() for request in self.requests if request.path == "/v1/chat/completions"]

    def close(self) -> None:
        self._closed.set()  # ends stalled requests

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


    def chat_completions(self, request: Request) -> Reply:
        body = request.json()
        problem = _invalid_chat_request(body)
        if problem:
            return error(400, problem)
        reply = self.replies
        tokens = _reply_tokens(reply, body["messages"])
        prompt_tokens = sum(len(WORDS.findall(str(message.get("content") or ""))) for message in body["messages"])
        usage = {"prompt_tokens": prompt_tokens, "completion_tokens": len(tokens),
                 "total_tokens": prompt_tokens + len(tokens)}
        if reply.stall_after == 0:
            self._closed.wait(STALL_SECONDS)
            return Reply(200, iter(()))
        if body.get("stream"):
            wants_usage = reply.usage and bool((body.get("stream_options") or {}).get("include_usage"))
            return Reply(200, self._events(body["model"], tokens, usage if wants_usage else None, reply),
                         {"Content-Type": "text/event-stream"})
        message = {"role": "assistant", "content": "".join(tokens), "refusal": None}
        return Reply(200, {"id": f"chatcmpl-{uuid.uuid4().hex}", "object": "chat.completion",
                           "created": int(time.time()), "model": body["model"], "system_fingerprint": None,
                           "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": "stop"}],
                           "usage": usage if reply.usage else None})

    def _events(self, model: str, tokens: list[str], usage: dict | None, reply: ChatReply) -> Iterator[bytes]:
        """The streamed answer, as OpenAI sends it."""
        head = {"id": f"chatcmpl-{uuid.uuid4().hex}", "object": "chat.completion.chunk",
                "created": int(time.time()), "model": model, "system_fingerprint": None}

        def event(choices: list, **extra) -> bytes:
            data = {**head, "choices": choices, **({"usage": None} if usage else {}), **extra}
            return f"data: {json.dumps(data)}\n\n".encode()

        def delta(content: dict, finish_reason: str | None = None) -> bytes:
            return event([{"index": 0, "delta": content, "logprobs": None, "finish_reason": finish_reason}])

        yield delta({"role": "assistant", "content": ""})
        for sent, token in enumerate(tokens):
            if sent == reply.stall_after:
                self._closed.wait(STALL_SECONDS)
                return
            if sent == reply.fail_after:
                failure = {"message": "The server had an error while processing your request.",
                           "type": "server_error", "param": None, "code": None}
                yield f"data: {json.dumps({'error': failure})}\n\n".encode()
                return
            if sent == reply.garble_after:
                yield b"data: {\"choices\": [\n\n"
                return
            if reply.tokens_per_second:
                time.sleep(1 / reply.tokens_per_second)
            yield delta({"content": token})
        yield delta({}, "stop")
        if usage:
            yield event([], usage=usage)
        yield b"data: [DONE]\n\n"


def _reply_tokens(reply: ChatReply, messages: list[dict]) -> list[str]:
    tokens = TOKENS.findall(reply.text if reply.text is not None else _echo(messages))
    if reply.tokens is None:
        return tokens
    words = itertools.cycle(token.strip() for token in tokens)
    return [(" " if n else "") + next(words) for n in range(reply.tokens)]


def _invalid_chat_request(body) -> str | None:
    if not isinstance(body, dict) or not isinstance(body.get("model"), str) or not body["model"]:
        return "you must provide a model parameter"
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        return "'messages' must contain at least one message."
    for n, message in enumerate(messages):
        if not isinstance(message, dict) or message.get("role") not in CHAT_ROLES:
            return f"Invalid value for 'messages[{n}].role'."
        if not isinstance(message.get("content"), str):
            return f"Invalid type for 'messages[{n}].content': expected a string."
    temperature = body.get("temperature", 1)
    if not isinstance(temperature, int | float) or not 0 <= temperature <= 2:
        return "Invalid 'temperature': expected a number between 0 and 2."
    return None


def _echo(messages: list[dict]) -> str:
    """The first sentence of the first source in the last user message, cited [1]."""
    asked = next((m["content"] for m in reversed(messages) if m["role"] == "user"), "")
    source = FIRST_SOURCE.search(asked)
    if source is None:
        return "The sources do not say."
    lines = source.group(1).split("\n")
    body = " ".join(lines[1:] if len(lines) > 1 else lines)
    return re.split(r"(?<=[.!?])\s", body.strip(), maxsplit=1)[0] + " [1]"


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
        try:
            yield openai
        finally:
            openai.close()
