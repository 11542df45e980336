"""The chat endpoints served by Daphne, as in production: the event stream arrives event by event,
and POST /api/chat answers whole, from a real server process."""

import json
import time
from urllib.request import Request, urlopen

import pytest

from chat.models import Message
from tests.chatting import LICENCE_QUESTION, server_key
from tests.fakes.openai_server import running_openai
from tests.worker_processes import WorkerProcesses

pytestmark = pytest.mark.django_db(transaction=True)


def post(url: str, key: str, body: dict):
    accept = "text/event-stream" if url.endswith("/stream") else "application/json"
    request = Request(url, data=json.dumps(body).encode(), method="POST", headers={
        "Authorization": f"Bearer {key}", "Content-Type": "application/json", "Accept": accept})
    return urlopen(request, timeout=60)


def test_events_arrive_as_the_model_writes_them(handbook_bot, tmp_path):
    key = server_key(handbook_bot)
    with running_openai(api_key="sk-test") as model, WorkerProcesses(tmp_path) as processes:
        model.chat_reply("One two three four five six seven eight nine ten.", tokens_per_second=10)
        url = processes.serve(EMBEDDING_BACKEND="local", VECTOR_BACKEND="local", ANSWER_BACKEND="openai",
                              OPENAI_API_KEY="sk-test", OPENAI_BASE_URL=model.base_url, OPENAI_CHAT_MODEL="gpt-test")
        arrivals = []
        with post(f"{url}/api/chat/stream", key, {"chatbot_id": str(handbook_bot.id),
                                                   "message": LICENCE_QUESTION}) as response:
            assert response.headers["Content-Type"].startswith("text/event-stream")
            for line in response:
                if line.startswith(b"data: "):
                    arrivals.append((time.monotonic(), json.loads(line[6:])))
        whole = json.load(post(f"{url}/api/chat", key, {"chatbot_id": str(handbook_bot.id),
                                                        "message": LICENCE_QUESTION}))
    tokens = [(moment, event) for moment, event in arrivals if event["type"] == "token"]
    assert len(tokens) >= 5 and arrivals[-1][1]["type"] == "done"
    # Streamed: the first words arrived well before the last ones (the model writes 10 tokens a second).
    assert tokens[-1][0] - tokens[0][0] > 0.5
    assert whole["mode"] == "openai" and whole["response"].startswith("One two three")
    assert Message.objects.filter(role="assistant", interrupted=False).count() == 2
