"""Answers streamed by a chat model: OpenAI, or any server speaking its API (vLLM, Ollama, llama.cpp).

OPENAI_CHAT_TIMEOUT_SECONDS bounds connecting, waiting for the first token and every silence
between two tokens. A request that fails before anything was streamed is tried once more, when a
second try can help (a timeout, a dropped connection, 429 or 5xx); then the visitor gets a
GenerationError. An answer that breaks off half-way is not restarted, since the visitor has
already read its start. Servers that ignore `stream_options` send no usage: tokens are then
estimated as the embedders estimate them.
"""

import asyncio
import codecs
import functools
import json
import logging
import re
import ssl
import weakref
from contextlib import aclosing
from dataclasses import dataclass

import anyio
import httpx
import openai
from django.conf import settings

try:  # the openai SDK's HTTP client from its 3.x releases; the 1.x and 2.x releases use httpx
    import httpx2 as sdk_http
except ImportError:  # pragma: no cover - depends on the installed SDK
    sdk_http = httpx

from chat.context import Prompt
from chat.generators import TOKEN_FRAME_SECONDS, GenerationError
from datasources.embedders import estimate_tokens

logger = logging.getLogger(__name__)

ATTEMPTS = 2
RETRIED_STATUSES = {408, 409, 429}  # and every 5xx
# After a read of the stream that brought some of the answer's text, the next read waits this long, so that a model
# writing 100 tokens a second is read a few tokens at a time rather than one: each read is a fixed slice of the web
# process's CPU (the HTTP client's and the event loop's work on it; reading every token was about a third of a relayed
# answer's CPU, docs/BENCHMARKS.md). The visitor sees no difference: the first token is read at once, and the text
# goes out in frames of TOKEN_FRAME_SECONDS anyway.
READ_PAUSE_SECONDS = TOKEN_FRAME_SECONDS
_LINE_END = re.compile(r"\r\n|\r|\n")

# What reading the streamed answer may raise, from either HTTP client: turned into the SDK's own errors.
READ_TIMEOUTS = (httpx.TimeoutException, sdk_http.TimeoutException)
READ_FAILURES = (httpx.HTTPError, sdk_http.HTTPError)

# An httpx connection pool belongs to the event loop that opened it, so each loop gets its own
# clients (Daphne runs one loop; tests and async_to_sync callers may run several, one after another).
_clients: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict]" = weakref.WeakKeyDictionary()


@dataclass(frozen=True)
class OpenAIGenerator:
    model: str
    api_key: str
    base_url: str
    timeout: float
    mode = "openai"

    @staticmethod
    def options_from_settings() -> dict:
        return {
            "model": settings.OPENAI_CHAT_MODEL,
            "api_key": settings.OPENAI_API_KEY,
            "base_url": settings.OPENAI_BASE_URL,
            "timeout": settings.OPENAI_CHAT_TIMEOUT_SECONDS,
        }

    def generate(self, *, prompt: Prompt, question: str, chatbot) -> "ModelAnswer":
        return ModelAnswer(self, prompt, temperature=chatbot.temperature)

    def prepare(self) -> None:
        """Do now what a process's first answer would otherwise wait for (about 60 ms of CPU): read the certificate
        store (`_tls`) and load the asyncio support of the HTTP client's locks, which it loads at its first
        request. Call from a thread with no running event loop (a web process's start-up thread)."""
        _tls()
        asyncio.run(_load_async_support())

    def client(self) -> openai.AsyncOpenAI:
        """This event loop's client for this server; call from inside the loop."""
        clients = _clients.setdefault(asyncio.get_running_loop(), {})
        key = (self.api_key, self.base_url, self.timeout)
        if key not in clients:
            # Local servers (Ollama, llama.cpp) want no key, but the SDK refuses to start without one.
            clients[key] = openai.AsyncOpenAI(api_key=self.api_key or "none", base_url=self.base_url or None,
                                              timeout=self.timeout, max_retries=0,
                                              http_client=openai.DefaultAsyncHttpxClient(verify=_tls()))
        return clients[key]


@functools.cache
def _tls() -> ssl.SSLContext:
    """How every loop's client verifies the server: the HTTP client's own default (SSL_CERT_FILE or SSL_CERT_DIR when
    set, else its certificate store), made once a process, where each new client read the store again (about 20 ms
    of CPU)."""
    return sdk_http.create_ssl_context()


async def _load_async_support() -> None:
    anyio.Event()  # an anyio primitive made in a running loop loads anyio's support for that loop's library


class ModelAnswer:
    mode = "openai"
    answered = True  # the model is trusted to answer from the passages it was given

    def __init__(self, generator: OpenAIGenerator, prompt: Prompt, *, temperature: float):
        self.generator = generator
        self.model = generator.model
        self.messages = prompt.messages
        self.temperature = temperature
        self.prompt_tokens = prompt.estimated_tokens  # until the server reports its own count
        self.completion_tokens = 0

    async def __aiter__(self):
        written: list[str] = []
        for attempt in range(1, ATTEMPTS + 1):
            try:
                async with aclosing(self._stream()) as deltas:  # a visitor who leaves stops the model too
                    async for delta in deltas:
                        written.append(delta)
                        yield delta
                break
            except (openai.OpenAIError, httpx.HTTPError) as exc:
                if written or attempt == ATTEMPTS or not _worth_retrying(exc):
                    logger.warning("Chat model %s failed (attempt %d)", self.model, attempt, exc_info=True)
                    raise GenerationError(self._explain(exc, interrupted=bool(written))) from exc
                logger.info("Chat model %s failed before its first token; trying again", self.model, exc_info=True)
        if not self.completion_tokens:
            self.completion_tokens = estimate_tokens("".join(written))

    async def _stream(self):
        """The answer's text as the server streams it, read from the JSON of its chat completion events.

        The SDK sends the request as it is (`post`, its way for requests it has no method for: its typed
        method checks every parameter against its types first) and turns an HTTP error into its
        exceptions; the events are read here as dictionaries, where the SDK's stream builds a typed object
        of every event, one per token. The two were two fifths of the CPU of reading an answer
        (docs/BENCHMARKS.md, "Reading the model's stream")."""
        body = {"model": self.model, "messages": self.messages, "temperature": self.temperature,
                "stream": True, "stream_options": {"include_usage": True}}
        response = await self.generator.client().post("/chat/completions", body=body, cast_to=sdk_http.Response,
                                                      stream=True)
        lines = PacedLines(response.aiter_bytes(), pause=READ_PAUSE_SECONDS)
        try:
            async for event in chat_completion_events(lines, response.request):
                usage = event.get("usage")
                if isinstance(usage, dict):
                    self.prompt_tokens = usage.get("prompt_tokens") or self.prompt_tokens
                    self.completion_tokens = usage.get("completion_tokens") or self.completion_tokens
                if content := delta_content(event):
                    lines.brought_text()
                    yield content
        except READ_TIMEOUTS as exc:
            raise openai.APITimeoutError(request=response.request) from exc
        except READ_FAILURES as exc:
            raise openai.APIConnectionError(request=response.request) from exc
        finally:
            await response.aclose()

    def _explain(self, exc: Exception, *, interrupted: bool) -> str:
        if isinstance(exc, openai.APITimeoutError | httpx.TimeoutException):
            return "The answer service did not respond in time; please try again."
        if isinstance(exc, openai.RateLimitError):
            return "The answer service is busy right now; please try again in a minute."
        if isinstance(exc, openai.AuthenticationError | openai.PermissionDeniedError):
            return "The answer service refused Docent's credentials; the site's administrators need to check them."
        if isinstance(exc, openai.NotFoundError):
            return (f'The answer service does not offer the model "{self.model}"; '
                    "the chatbot's administrators need to choose another.")
        if isinstance(exc, openai.APIStatusError):
            return f"The answer service failed (HTTP {exc.status_code}); please try again."
        if interrupted:
            return "The answer service stopped in the middle of the answer; please try again."
        if isinstance(exc, openai.APIConnectionError | httpx.HTTPError):
            return "The answer service could not be reached; please try again later."
        return "The answer service failed; please try again."  # it answered with an error event


class PacedLines:
    """The lines of a streamed body (UTF-8; a line ends at "\\r\\n", "\\r" or "\\n", as server-sent events'
    do), read from `chunks`, the body's bytes as they arrive. After a read whose lines brought some text
    (`brought_text`, called by the one reading the lines), the next read waits `pause` seconds first: what
    arrives meanwhile is read at once."""

    def __init__(self, chunks, *, pause: float):
        self._chunks = chunks
        self._pause = pause
        self._brought = False

    def brought_text(self) -> None:
        self._brought = True

    async def __aiter__(self):
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        pending = ""
        async for chunk in self._chunks:
            pending += decoder.decode(chunk)
            held = pending.endswith("\r")  # maybe the first half of a "\r\n": it waits for the next read
            *lines, pending = _LINE_END.split(pending[:-1] if held else pending)
            pending += "\r" if held else ""
            for line in lines:
                yield line
            if self._brought:
                self._brought = False
                await asyncio.sleep(self._pause)
        pending += decoder.decode(b"", final=True)
        if pending:
            yield pending.removesuffix("\r")


async def chat_completion_events(lines, request):
    """Each server-sent event's JSON (`data:` lines; a blank line ends an event) up to `data: [DONE]`, the
    rest of the body read too so that the connection is reused. An error event raises openai.APIError,
    as the SDK's stream does; so does an event that is not a JSON object."""
    data: list[str] = []
    name = ""
    done = False
    async for line in lines:
        if line:
            field, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if field == "data":
                data.append(value)
            elif field == "event":
                name = value
            continue
        text, event_name, data, name = "\n".join(data), name, [], ""
        if done or not text:
            continue
        if text.startswith("[DONE]"):
            done = True
            continue
        try:
            event = json.loads(text)
        except ValueError:
            event = None
        if not isinstance(event, dict):
            raise openai.APIError("The answer service sent an event that is not a JSON object.", request, body=text)
        if event.get("error") or event_name == "error":
            error = event.get("error")
            message = error.get("message") if isinstance(error, dict) else None
            raise openai.APIError(message if isinstance(message, str) and message
                                  else "The answer service failed while streaming.", request, body=error)
        yield event


def delta_content(event: dict) -> str:
    """The text a chat completion chunk adds to the answer; empty for the role, usage and finish events."""
    choices = event.get("choices")
    if not choices or not isinstance(choices[0], dict):
        return ""
    delta = choices[0].get("delta")
    content = delta.get("content") if isinstance(delta, dict) else None
    return content if isinstance(content, str) else ""


def _worth_retrying(exc: Exception) -> bool:
    if isinstance(exc, openai.APIStatusError):
        return exc.status_code in RETRIED_STATUSES or exc.status_code >= 500
    return isinstance(exc, openai.APIConnectionError | httpx.TransportError)  # timeouts included
