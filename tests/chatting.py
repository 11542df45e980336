"""Helpers for tests that ask chatbots: documents, chatbots, keys, sockets and the events of an answer."""

import json

from channels.testing import WebsocketCommunicator
from django.test import Client

from chatbots.models import Chatbot
from config.routing import application
from datasources import chunk_format
from datasources.embedders import get_embedder
from datasources.indexes import index_chunks
from datasources.models import Chunk, DataSource
from integrations.services import integration_save

SHOP = "https://shop.example"
LICENCE_QUESTION = "What must forklift drivers hold and wear?"

CANARY = "The vault combination is QUOKKA-7731-CANARY."
CANARY_QUESTION = "What is the vault combination QUOKKA-7731-CANARY?"

WAREHOUSE = [
    "Warehouse operations handbook › Receiving\nPallets are checked against the purchase order before they are "
    "unloaded, and damaged goods are photographed for the carrier's claim.",
    "Warehouse operations handbook › Safety\nForklift drivers must hold a current licence and wear a high-visibility "
    "vest on the loading dock at all times.",
    "Warehouse operations handbook › Shipping\nOrders received before 2 pm leave the same day; the courier collects "
    "parcels from bay 4 at 5 pm.",
]


def add_source(company, name: str, texts: list[str], *, pages: list[int] | None = None,
               status=DataSource.Status.READY) -> DataSource:
    """A processed data source whose chunks are these texts (one page each unless `pages` says), embedded
    when an embedder is configured, and written to both indexes as the pipeline writes them."""
    source = DataSource.objects.create(company=company, name=name, type="pdf", status=status)
    embedder = get_embedder()
    vectors = embedder.embed_documents(texts) if embedder.enabled else None
    chunks = Chunk.objects.bulk_create([
        Chunk(id=chunk_format.chunk_id(source.id, n), company=company, data_source=source, position=n, text=text,
              metadata={"file_name": name, "title": name.rsplit(".", 1)[0], "heading": "",
                        "page_number": (pages or range(1, len(texts) + 1))[n]},
              embedding=vectors[n].tobytes() if vectors is not None else None)
        for n, text in enumerate(texts)
    ])
    index_chunks(source, chunks)
    return source


def bot(company, *sources, **fields) -> Chatbot:
    chatbot = Chatbot.objects.create(company=company, name="Helper", **fields)
    chatbot.data_sources.set(sources)
    return chatbot


def widget_key(chatbot, *origins: str) -> str:
    """The chatbot's publishable widget key, allowed on `origins` (default: the shop's site)."""
    issued = integration_save(chatbot=chatbot, type="widget", settings={"allowed_origins": list(origins or [SHOP])})
    return issued.record.api_key


def server_key(chatbot) -> str:
    return integration_save(chatbot=chatbot, type="api").secret


def ask(client, chatbot, message: str, *, path: str = "/api/chat", key: str = "", origin: str = SHOP,
        remote_addr: str = "127.0.0.1", **fields):
    headers = {"REMOTE_ADDR": remote_addr}
    if key:
        headers["HTTP_AUTHORIZATION"] = f"Bearer {key}"
        headers["HTTP_ORIGIN"] = origin
    body = {"chatbot_id": str(chatbot.id), "message": message, **fields}
    return client.post(path, json.dumps(body), content_type="application/json", **headers)


def server_sent_events(response) -> list[dict]:
    """The events of an SSE response, as the widget reads them: each `data:` object, typed by its event."""
    assert response["Content-Type"].startswith("text/event-stream"), response["Content-Type"]
    text = b"".join(response).decode()
    events = []
    for block in filter(None, text.split("\n\n")):
        lines = dict(line.split(": ", 1) for line in block.splitlines())
        event = json.loads(lines["data"])
        assert event["type"] == lines["event"]
        events.append(event)
    return events


def answer_text(events: list[dict]) -> str:
    return "".join(event["token"] for event in events if event["type"] == "token")


def chat_socket(chatbot, *, key: str = "", origin: str = SHOP, user=None) -> WebsocketCommunicator:
    """A WebSocket to the chatbot as the widget opens it (key in the query), or as staff (session cookie)."""
    headers = [(b"origin", origin.encode()), (b"host", b"testserver")]
    if user is not None:
        client = Client()
        client.force_login(user)
        headers.append((b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode()))
    query = f"?key={key}" if key else ""
    return WebsocketCommunicator(application, f"/ws/chat/{chatbot.id}/{query}", headers=headers)


async def socket_answer(socket, message: str, **fields) -> list[dict]:
    """Send one question; the frames until `done` or `error`."""
    await socket.send_json_to({"type": "message", "message": message, **fields})
    frames = []
    while not frames or frames[-1]["type"] not in ("done", "error"):
        frames.append(await socket.receive_json_from(timeout=20))
    return frames
