"""The floor of bench/chat_load.py: a bare Channels consumer relaying the chat model, no retrieval.

Served by its own Daphne with the settings Docent's Daphne gets (`daphne bench.relay_consumer:application`):
each `{"type": "message", "message"}` frame becomes one streamed chat completion from OPENAI_BASE_URL
through the OpenAI client Docent uses, relayed as `token` frames and then a `done` frame, as Docent's
consumer frames them (tokens joined into a frame per chat.services.TOKEN_FRAME_SECONDS at most, by
Docent's own code). No database, key check, rate limit or retrieval: what remains is Daphne,
Channels, the OpenAI client and JSON.
"""

import json
import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.load_settings")
django.setup()

import openai  # noqa: E402  (Channels reads Django's settings on import)
from channels.generic.websocket import AsyncWebsocketConsumer  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.conf import settings  # noqa: E402
from django.urls import path  # noqa: E402

from chat.services import TOKEN_FRAME_SECONDS, coalesced  # noqa: E402

_client: openai.AsyncOpenAI | None = None


def model() -> openai.AsyncOpenAI:
    """One client for the process, made inside Daphne's event loop (its connection pool belongs to it)."""
    global _client
    if _client is None:
        _client = openai.AsyncOpenAI(api_key=settings.OPENAI_API_KEY, base_url=settings.OPENAI_BASE_URL,
                                     timeout=settings.OPENAI_CHAT_TIMEOUT_SECONDS, max_retries=0)
    return _client


class RelayConsumer(AsyncWebsocketConsumer):
    async def receive(self, text_data=None, bytes_data=None):
        question = json.loads(text_data)["message"]
        stream = await model().chat.completions.create(
            model=settings.OPENAI_CHAT_MODEL, messages=[{"role": "user", "content": question}], stream=True)
        async with stream:
            async for text in coalesced(tokens(stream), every=TOKEN_FRAME_SECONDS):
                await self.send(text_data=json.dumps({"type": "token", "token": text}))
        await self.send(text_data=json.dumps({"type": "done"}))


async def tokens(stream):
    async for chunk in stream:
        if chunk.choices and chunk.choices[0].delta.content:
            yield chunk.choices[0].delta.content


application = ProtocolTypeRouter({"websocket": URLRouter([path("ws/relay/", RelayConsumer.as_asgi())])})
