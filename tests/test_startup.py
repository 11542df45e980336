"""A web process's start (config.startup): the answer backend is imported and /readyz waits for the embedding model;
the companies' indexes are loaded after it, in the background, so that the first question finds them in memory."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from config import startup
from datasources.models import DataSource
from datasources.selectors import chunk_search
from tests.chatting import WAREHOUSE, add_source
from tests.fakes.openai_server import running_openai

# The start-up thread reads with a connection of its own: it sees committed rows only.
pytestmark = pytest.mark.django_db(transaction=True)

STORED_INDEX_TABLES = ('"chunks"', '"lexical_indexes"')


def test_readyz_is_not_ready_until_the_embedding_model_is_loaded(client, local_models, settings):
    settings.LOCAL_EMBEDDING_BATCH_SIZE = 31  # a configuration of its own, whose model this process has not loaded
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["embedding_model"] == {
        "ok": False, "error": "RuntimeError: the embedding model is still loading"}
    startup.start_web_process().join()
    response = client.get("/readyz")
    assert response.status_code == 200 and response.json()["checks"]["embedding_model"]["ok"] is True


def first_search_reads(company) -> list[str]:
    """The stored-index queries of a first search over the company's documents, by meaning and by words."""
    with CaptureQueriesContext(connection) as queries:
        search = chunk_search(company_id=company.id, data_sources=DataSource.objects.all())
        search.dense("Who may drive a forklift?", top_k=3)
        search.lexical(["forklift"], top_k=3)
    return [query["sql"] for query in queries.captured_queries
            if any(table in query["sql"] for table in STORED_INDEX_TABLES)]


def test_the_companies_indexes_are_loaded_after_the_model_so_a_first_search_reads_none(local_models, company_a,
                                                                                         company_b):
    add_source(company_a, "handbook.pdf", WAREHOUSE)
    thread = startup.start_web_process()
    assert thread.daemon  # the process serves while it runs
    thread.join()
    assert first_search_reads(company_a) == []
    add_source(company_b, "handbook.pdf", WAREHOUSE)  # after the start: loaded by its first search
    assert first_search_reads(company_b) != []


FIRST_QUESTION_IMPORTS = """
import sys
import django
django.setup()
from config import startup

startup.warm_indexes = lambda: 0  # no database here
before = "chat.generators.openai" in sys.modules
startup.start_web_process().join()
print(before, "chat.generators.openai" in sys.modules, "openai" in sys.modules)
"""


@pytest.mark.django_db(transaction=False)
def test_the_answer_backend_is_loaded_at_the_start_not_by_the_first_question():
    # Importing the openai SDK took 0.7 s, which the first question after a start waited for (bench/chat_load.py).
    environment = {**os.environ, "ANSWER_BACKEND": "openai", "OPENAI_API_KEY": "sk-test",
                   "OPENAI_CHAT_MODEL": "test-model", "EMBEDDING_BACKEND": "none"}
    finished = subprocess.run([sys.executable, "-c", FIRST_QUESTION_IMPORTS], capture_output=True, text=True,
                              timeout=120, cwd=Path(__file__).resolve().parents[1], env=environment)
    assert finished.stdout.split() == ["False", "True", "True"], finished.stderr


# A fresh process that, given "started", starts as a web process does; the script put after it measures what comes next.
FRESH_PROCESS = """
import sys
import django
django.setup()
from config import startup

if sys.argv[1] == "started":
    startup.warm_indexes = lambda: 0  # no database here
    startup.start_web_process().join()
"""


def after_the_start_or_not(script: str, environment: dict[str, str]) -> dict[str, str]:
    """The last line `script` prints in a fresh process, "cold" (not started) and "started"."""
    printed = {}
    for way in ("cold", "started"):
        finished = subprocess.run([sys.executable, "-c", FRESH_PROCESS + script, way], capture_output=True, text=True,
                                  timeout=120, cwd=Path(__file__).resolve().parents[1], env=environment)
        assert finished.returncode == 0, finished.stderr
        printed[way] = finished.stdout.splitlines()[-1]
    return printed


FIRST_MODEL_ANSWER = """
import asyncio, json, ssl
from chat.context import Prompt
from chat.generators import get_generator
from chatbots.models import Chatbot

loaded = set(sys.modules)
store_reads = []
read_store = ssl.SSLContext.load_verify_locations
ssl.SSLContext.load_verify_locations = lambda context, *where: store_reads.append(where) or read_store(context, *where)


async def first_answer():  # in an event loop of its own, as in Daphne
    prompt = Prompt(messages=[{"role": "user", "content": "Hello?"}], passages=[], estimated_tokens=0)
    generation = get_generator().generate(prompt=prompt, question="Hello?", chatbot=Chatbot(name="Helper"))
    return "".join([piece async for piece in generation])

answer = asyncio.run(first_answer())
print(json.dumps({"answer": answer, "modules loaded": sorted(set(sys.modules) - loaded),
                  "certificate store reads": len(store_reads)}))
"""


@pytest.mark.django_db(transaction=False)
def test_a_first_model_answer_after_the_start_loads_nothing_a_later_one_would_not():
    # A chat model's first answer in a process took 70 ms where the next took 13 (bench/chat_load.py): its client read
    # the certificate store and the HTTP client loaded its asyncio support. The start now does both.
    with running_openai(api_key="sk-test") as server:
        server.chat_reply("Hello from the model.")
        environment = {**os.environ, "ANSWER_BACKEND": "openai", "OPENAI_API_KEY": "sk-test",
                       "OPENAI_CHAT_MODEL": "test-model", "OPENAI_BASE_URL": server.base_url,
                       "EMBEDDING_BACKEND": "none"}
        first = {way: json.loads(line) for way, line in after_the_start_or_not(FIRST_MODEL_ANSWER, environment).items()}
    assert first["cold"]["answer"] == first["started"]["answer"] == "Hello from the model."
    assert first["cold"]["modules loaded"] and first["cold"]["certificate store reads"] == 1  # what the start saves
    assert first["started"]["modules loaded"] == [] and first["started"]["certificate store reads"] == 0


FIRST_CACHED_QUESTION = """
import pathlib
from chat import answer_cache

loaded = set(sys.modules)
source_reads = []
read_bytes = pathlib.Path.read_bytes
pathlib.Path.read_bytes = lambda path: source_reads.append(path) or read_bytes(path)
answer_cache.code_version()  # what a cacheable question's key holds
answer_cache.recall("answer:none")  # and what it looks up
print(len(source_reads), len(set(sys.modules) - loaded))
"""


@pytest.mark.django_db(transaction=False)
def test_a_first_cacheable_question_after_the_start_reads_no_source_and_loads_no_cache_client():
    # The answer cache's key holds the digest of the answering code (about 5 ms to read), and its client, with Redis,
    # took longer to load than a question to answer.
    environment = {**os.environ, "EMBEDDING_BACKEND": "none", "ANSWER_CACHE_SECONDS": "60"}
    printed = {way: [int(number) for number in line.split()]
               for way, line in after_the_start_or_not(FIRST_CACHED_QUESTION, environment).items()}
    assert printed["cold"][0] > 0  # the source files read
    assert printed["started"] == [0, 0]


STOPPED_WHILE_LOADING = """
import atexit, logging, sys, threading
import django
django.setup()
logging.basicConfig(stream=sys.stderr)
from config import startup

release = threading.Event()


class Loading:
    prepared = False

    def prepare(self):
        release.wait()
        print("load interrupted", file=sys.stderr, flush=True)
        raise ImportError("sys.meta_path is None, Python is likely shutting down")


startup.get_embedder = lambda: Loading()
thread = startup.start_web_process()


@atexit.register
def stop():  # runs once the main thread has returned, as when Ctrl-C stops the server mid-load
    release.set()
    thread.join()
"""


@pytest.mark.django_db(transaction=False)
def test_a_process_stopped_while_its_model_loads_prints_no_traceback():
    finished = subprocess.run([sys.executable, "-c", STOPPED_WHILE_LOADING], capture_output=True, text=True,
                              timeout=120, cwd=Path(__file__).resolve().parents[1])
    assert "load interrupted" in finished.stderr  # the load was still going when the process stopped
    assert "Traceback" not in finished.stderr and "did not load" not in finished.stderr
