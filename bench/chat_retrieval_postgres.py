"""Docent's retrievers of bench/chat_retrieval.py again, on PostgreSQL, over a copy of the loaded filings.

Loading the filings costs about 15 CPU-minutes, so they are not loaded again: the rows of the SQLite
bench database (the company, its data sources, their chunks with the vectors in `chunks.embedding`,
which is all the local vector index reads, their lexical indexes, and the chatbot) are copied into a fresh, migrated
Postgres database with their ids, timestamps and row order unchanged, so that whatever differs
between the two runs is the database's doing.

Run by bench/chat_retrieval.py in its own process, so that the lexical and vector indexes are read
from Postgres rather than found in that process's caches, with DATABASE_URL naming the database:
    python -m bench.chat_retrieval_postgres SQLITE_FILE OUT_FILE
It writes OUT_FILE (JSON): the server's version, the median `retrieve` time, the scores, and the
digests of every call's passages. Django's modules are imported once `django.setup()` has run.
"""

import json
import sys
from pathlib import Path

import django

SOURCE = "filings"  # database alias of the SQLite bench database
# Parents before children. Chunks are read in SQLite's row order and written in it, so that both
# databases hand the vector index its rows in the same order when neither is asked for one.
COPIED_MODELS = ("accounts.Company", "datasources.DataSource", "datasources.Chunk", "datasources.LexicalIndex",
                 "datasources.VectorIndexVersion", "chatbots.Chatbot", "chatbots.ChatbotDataSource")


def main(sqlite_file: Path, out_file: Path) -> None:
    from django.conf import settings

    # Read-only: other runs and engineers share the bench database.
    settings.DATABASES[SOURCE] = {"ENGINE": "django.db.backends.sqlite3", "NAME": f"file:{sqlite_file}?mode=ro"}
    django.setup()
    from django.core.management import call_command

    from bench.chat_retrieval import benchmark_chatbot, docent_retrievers, recording, retrieve_ms, scores
    from bench.measures import load_questions

    call_command("migrate", verbosity=0)
    copy_rows()
    chatbot = benchmark_chatbot()
    questions = load_questions()
    rankings: dict[str, list[str]] = {}
    figures = {"server": server_version(),
               "retrieve_ms": retrieve_ms(chatbot, questions),
               "results": scores(recording(docent_retrievers(chatbot), rankings), questions),
               "rankings": rankings}
    out_file.write_text(json.dumps(figures))


def server_version() -> str:
    from django.db import connection

    connection.ensure_connection()
    return "PostgreSQL " + connection.connection.info.parameter_status("server_version").split()[0]


def copy_rows() -> None:
    """Every row of COPIED_MODELS, saved raw as `loaddata` saves it: ids, vectors and timestamps (even
    the `auto_now` ones, which key the lexical index cache) as SQLite holds them. Then ANALYZE, as
    autovacuum would have done by the time a real database is queried, so the planner has statistics."""
    from django.apps import apps
    from django.core import serializers
    from django.db import connection, transaction

    with transaction.atomic():
        for label in COPIED_MODELS:
            rows = apps.get_model(label).objects.using(SOURCE).order_by().iterator(chunk_size=2000)
            for row in serializers.deserialize("python", serializers.serialize("python", rows)):
                row.save()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
