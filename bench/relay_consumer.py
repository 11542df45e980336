"""The floor of bench/chat_load.py: a bare Channels consumer relaying the chat model, no retrieval.

Served by its own Daphne with the settings Docent's Daphne gets (`daphne bench.relay_consumer:application`):
each `{"type": "message", "message"}` frame becomes one streamed chat completion from OPENAI_BASE_URL,
read as Docent reads one (chat.generators.openai.ModelAnswer: the OpenAI client sends the request, the
events' JSON is read), relayed as `token` frames and then a `done` frame, as Docent's consumer frames
them (tokens joined into a frame per chat.generators.TOKEN_FRAME_SECONDS at most, by Docent's own code).
No database, key check, rate limit or retrieval: what remains is Daphne, Channels, the OpenAI client
and JSON.
"""

import json
import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.load_settings")
django.setup()

from channels.generic.websocket import AsyncWebsocketConsumer  # noqa: E402  (Channels reads Django's settings)
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.urls import path  # noqa: E402

from chat.context import Prompt  # noqa: E402
from chat.generators import TOKEN_FRAME_SECONDS  # noqa: E402
from chat.generators.openai import ModelAnswer, OpenAIGenerator  # noqa: E402
from chat.services import coalesced  # noqa: E402


class RelayConsumer(AsyncWebsocketConsumer):
    async def receive(self, text_data=None, bytes_data=None):
        question = json.loads(text_data)["message"]
        prompt = Prompt(messages=[{"role": "user", "content": question}], passages=[], estimated_tokens=0)
        answer = ModelAnswer(OpenAIGenerator(**OpenAIGenerator.options_from_settings()), prompt, temperature=0.0)
        async for text in coalesced(aiter(answer), every=TOKEN_FRAME_SECONDS):
            await self.send(text_data=json.dumps({"type": "token", "token": text}))
        await self.send(text_data=json.dumps({"type": "done"}))


application = ProtocolTypeRouter({"websocket": URLRouter([path("ws/relay/", RelayConsumer.as_asgi())])})
