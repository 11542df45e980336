"""Which pluggable engines are on (ARCHITECTURE.md), said plainly: /readyz and the dashboard's overview show it.

It lives in chat, the lowest app that knows every engine: chat answers with its generators and
searches with datasources' embedder and vector index, over the project's database, cache, channel
layer and storage.
"""

from django.conf import settings
from django.db import connection

from datasources.embedders import get_embedder
from datasources.sandbox import ocr_engine


def engines() -> dict:
    return {
        "database": connection.vendor,
        "cache": "redis" if settings.REDIS_URL else "local-memory",
        "channel_layer": "redis" if settings.REDIS_URL else "in-memory",
        "storage": settings.STORAGE_BACKEND,
        "embedding": settings.EMBEDDING_BACKEND,
        "vector_index": settings.VECTOR_BACKEND,
        "answers": settings.ANSWER_BACKEND,
        "retrieval": "hybrid" if get_embedder().enabled else "lexical-only (no embedding backend)",
        "ocr": f"tesseract ({engine.languages})" if (engine := ocr_engine()) else "none (scanned pages are not read)",
    }
