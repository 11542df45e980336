"""The answer cache: a conversation's first question, asked again of the same chatbot, answered from the cache.

Only a first question without the visitor's `context` is cached: any other answer also depends on what
came before or on what the page sent. Nor is an answer whose search went on by words alone because the
embedder or the vector index failed (chat.services.Answer.cacheable).

The key holds everything an answer is made from: the company, the chatbot, the question as the one
normaliser (chat/questions.py) writes it, the answer backend and model, the embedder and its relevance
floor, the vector index, the chatbot's settings, its searched data sources with the time each last
changed, and the answering code's digest. So any change is
simply a new key, in every process at once (the "queries" cache is Redis when REDIS_URL is set), and
old entries expire unread (ANSWER_CACHE_SECONDS; 0 turns the cache off). A company's or a chatbot's
answers can never be another's: both ids are in the key.

The cache is consulted only once the asker is authorised and the question counted against the rate
limits, exactly as for a fresh answer; a cached answer is stored as a message of its own like any
other (marked `cached`), so conversations and analytics see it.
"""

import functools
import hashlib
import json

from django.conf import settings
from django.core.cache import caches
from django.db import connection

from chat.generators import get_generator
from chat.questions import normalized_question
from chatbots.models import Chatbot
from config.sources import source_digest
from datasources.embedders import embedder_identity, get_embedder
from datasources.models import DataSource

# The code an answer comes from: retrieval, prompts and generators in chat; chunks, indexes and embedders
# in datasources; the chatbot's fields in chatbots.
ANSWERING_CODE = ("chat", "chatbots", "datasources")
# Chatbot fields that only change how the chatbot looks, what is added to an answer as it is sent (links to
# its documents), or when it changed: every other one is in the key, so a field added later counts until it is
# listed here.
NOT_IN_ANSWERS = frozenset({"id", "company", "created_at", "updated_at", "description", "welcome_message",
                            "theme", "suggested_questions", "show_source_documents"})


def cache_key(*, chatbot: Chatbot, message: str) -> str:
    """The key of the answer to `message` as a conversation's first question to the chatbot, as it is now."""
    generator, embedder = get_generator(chatbot), get_embedder()
    state = {
        "question": normalized_question(message, limit=None),
        "answers": [generator.mode, generator.model],
        "embedder": [embedder_identity(embedder), embedder.relevance_floor],
        "vectors": settings.VECTOR_BACKEND,
        "chatbot": _settings_of(chatbot),
        "data_sources": _searched_versions(chatbot),
        "code": code_version(),
    }
    digest = hashlib.sha256(json.dumps(state, sort_keys=True, default=str).encode()).hexdigest()
    return f"answer:{chatbot.company_id}:{chatbot.id}:{digest}"


def recall(key: str) -> dict | None:
    """What `remember` kept under the key, if it is still there."""
    return caches["queries"].get(key)


def remember(key: str, answer: dict) -> None:
    caches["queries"].set(key, answer, settings.ANSWER_CACHE_SECONDS)


def enabled() -> bool:
    return settings.ANSWER_CACHE_SECONDS > 0


def prepare() -> None:
    """Do now what a process's first cacheable question would wait for (config.startup calls it as a web process
    starts): read the answering code's digest (about 5 ms of CPU) and load and connect the cache's client."""
    if enabled():
        code_version()
        recall("answer:none")  # no answer is kept under a key of this shape: this only connects


@functools.cache
def code_version() -> str:
    """The digest of ANSWERING_CODE, read once per process: a deployment that changes it starts afresh."""
    return source_digest(ANSWERING_CODE)


def _searched_versions(chatbot: Chatbot) -> list[tuple[str, str]]:
    """(id, updated_at) of the data sources the chatbot's answers search: its own, of its company, ready, as
    `chunk_search` takes them. The set changes when one is attached, detached, deleted or processed again, and
    `updated_at` when its processing ends. One statement written out: the ORM took 0.7 ms of CPU to compile
    this join, a fifth of a cached answer's (bench/answer_cache.py)."""
    uuid_field = DataSource._meta.pk
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT s.id, s.updated_at FROM {DataSource._meta.db_table} s "
            f"JOIN {Chatbot.data_sources.through._meta.db_table} picked ON picked.data_source_id = s.id "
            "WHERE picked.chatbot_id = %s AND s.company_id = %s AND s.status = %s ORDER BY s.id",
            [uuid_field.get_db_prep_value(chatbot.id, connection), uuid_field.get_db_prep_value(
                chatbot.company_id, connection), DataSource.Status.READY])
        return [(str(source_id), str(updated_at)) for source_id, updated_at in cursor.fetchall()]


def _settings_of(chatbot: Chatbot) -> dict:
    return {field.attname: getattr(chatbot, field.attname) for field in chatbot._meta.concrete_fields
            if field.name not in NOT_IN_ANSWERS}
