"""`make bench-cache`: the CPU a cached answer costs, beside an answer made afresh, in one run.

Two statements of ../shared/bench/mixed-docs (a bank statement and a credit card statement) go through
the pipeline into a fresh SQLite database under a temporary folder, with the local embedder (MiniLM) and
the local vector index; one chatbot answers from both, with the extractive answerer (no language model,
so nothing is waited for and all the time measured is Docent's). Each question of the set about those
two files is asked as a visitor's widget asks it, minus HTTP: the key and origin checked
(`callers.integration_asker`), the rate limits counted (`callers.check_rate`), then the answer flow
(`services.answer_events`, collected as POST /api/chat does), which stores the question and the answer.

Three ways, each as a conversation's first question (a new conversation every time):
- fresh: the answer cache and the question-vector cache off: retrieval (embedding the question), prompt
  and answer every time;
- vector cached: the answer cache off, the question's vector from its cache (what a later turn asking a
  question asked before costs);
- cached: the answer from the answer cache (every question asked once before).
CPU time is `time.process_time()` around N answers (every thread of the process: the answer flow's
worker threads included), divided by N; wall time likewise.

    python -m bench.answer_cache [--rounds 20]
"""

import argparse
import asyncio
import datetime
import json
import os
import platform
import sys
import tempfile
import time

from bench.mixed_docs import DOCS_DIR, MIXED_DOCS_DIR

FILES = ("bank_statement.pdf", "credit_card_statement.pdf")
ORIGIN = "https://shop.example"
TARGET_CPU_MS = 3.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=20, help="Times each question is asked per way (cached).")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="docent-bench-cache-") as workdir:
        os.environ.update({
            "DOCENT_VAR_DIR": workdir, "DATABASE_URL": f"sqlite:///{workdir}/db.sqlite3", "DEBUG": "0",
            "SECRET_KEY": "bench-answer-cache", "EMBEDDING_BACKEND": "local", "VECTOR_BACKEND": "local",
            "ANSWER_BACKEND": "extractive", "CHAT_RATE_PER_KEY": "1000000/m", "CHAT_RATE_PER_IP": "1000000/m",
            "OMP_NUM_THREADS": "1",
        })
        os.environ.pop("REDIS_URL", None)
        os.environ["DJANGO_SETTINGS_MODULE"] = "bench.load_settings"  # the plans' requests per minute raised
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        chatbot, key, questions = prepare()
        report = asyncio.run(measure(chatbot, key, questions, options.rounds))
    print(report)


def prepare():
    from accounts.models import Company, User
    from chatbots.models import Chatbot
    from datasources.pipeline import process
    from datasources.services import datasource_upload
    from integrations.services import integration_save

    company = Company.objects.create(name="Bench", plan="enterprise")
    owner = User.objects.create_user(email="owner@bench.test", password=None, company=company, role="owner")
    sources = []
    for name in FILES:
        outcome = datasource_upload(company=company, user=owner, path=DOCS_DIR / name, name=name, enqueue=False)
        process(str(outcome.data_source.id))
        outcome.data_source.refresh_from_db()
        assert outcome.data_source.status == "ready", outcome.data_source.error_message
        sources.append(outcome.data_source)
    chatbot = Chatbot.objects.create(company=company, name="Bench bot")
    chatbot.data_sources.set(sources)
    key = integration_save(chatbot=chatbot, type="widget", settings={"allowed_origins": [ORIGIN]}).record.api_key
    with open(MIXED_DOCS_DIR / "questions.jsonl", encoding="utf-8") as lines:
        questions = [item["question"] for item in map(json.loads, lines) if item["file"] in FILES]
    return chatbot, key, questions


async def measure(chatbot, key: str, questions: list[str], rounds: int) -> str:
    from django.db import connections
    from django.test import override_settings

    from chat.models import Message

    for message in questions:  # the model loaded, every index read, every answer cached
        await asked(chatbot, key, message)
    ways = [("fresh", {"ANSWER_CACHE_SECONDS": 0, "QUESTION_EMBEDDING_CACHE_SECONDS": 0}, 1),
            ("vector cached", {"ANSWER_CACHE_SECONDS": 0}, 1),
            ("cached", {}, rounds)]
    rows = []
    for reuse in (0, 60):
        # DB_CONN_MAX_AGE, switched within this process: each worker thread's connection reads it when it opens.
        connections.settings["default"]["CONN_MAX_AGE"] = reuse
        for name, overrides, repeats in ways:
            with override_settings(**overrides):
                asked_now = questions * repeats
                flow_cpu = whole_cpu = wall = 0.0
                for message in asked_now:
                    started, started_wall = time.process_time(), time.perf_counter()
                    asker = await checked(chatbot, key)
                    checked_at = time.process_time()
                    answer = await answered(asker, message)
                    ended = time.process_time()
                    assert answer["cached"] is (name == "cached"), name
                    flow_cpu += ended - checked_at
                    whole_cpu += ended - started
                    wall += time.perf_counter() - started_wall
            count = len(asked_now)
            rows.append((reuse, name, count, flow_cpu * 1000 / count, whole_cpu * 1000 / count, wall * 1000 / count))
    stored = await Message.objects.filter(role="assistant", cached=True).acount()
    return report(rows, len(questions), stored)


async def asked(chatbot, key: str, message: str) -> dict:
    return await answered(await checked(chatbot, key), message)


async def checked(chatbot, key: str):
    """The visitor's key and origin checked and the question counted, as POST /api/chat does after reading its
    body."""
    from chat import callers, services

    def check() -> services.Asker:
        asker = callers.integration_asker(chatbot_id=chatbot.id, key=key, origin=ORIGIN, own_origin="")
        callers.check_rate(asker, "203.0.113.7")
        return asker

    return await services.in_thread(check)()


async def answered(asker, message: str) -> dict:
    """The answer flow, collected as POST /api/chat does: the question and the answer stored."""
    from chat import services

    return await services.collect(services.answer_events(asker, services.Question(message=message)))


def report(rows, question_count: int, stored: int) -> str:
    import django
    import torch

    cached = {reuse: flow for reuse, name, _, flow, _, _ in rows if name == "cached"}
    fresh = {reuse: flow for reuse, name, _, flow, _, _ in rows if name == "fresh"}
    lines = [
        f"# Answer cache ({datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC)", "",
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python {sys.version.split()[0]}, "
        f"Django {django.__version__}, torch {torch.__version__}; SQLite, local-memory cache; "
        f"load average {' / '.join(f'{load:.2f}' for load in os.getloadavg())} after the run.",
        f"{question_count} questions about {', '.join(FILES)} (mixed-docs), extractive answers.", "",
        "| DB_CONN_MAX_AGE | way | answers | CPU ms / answer: answer flow | + key check and rate limits "
        "| wall ms / answer |", "|---:|---|---:|---:|---:|---:|",
        *(f"| {reuse} | {name} | {count} | {flow:.2f} | {whole:.2f} | {wall:.2f} |"
          for reuse, name, count, flow, whole, wall in rows), "",
        *(f"DB_CONN_MAX_AGE={reuse}: a cached answer's flow costs {cached[reuse]:.2f} ms of CPU (target "
          f"≤ {TARGET_CPU_MS:.0f} ms: {'met' if cached[reuse] <= TARGET_CPU_MS else 'not met'}), "
          f"{fresh[reuse] / cached[reuse]:.0f}× less than a fresh one." for reuse in cached),
        f"{stored} answers stored marked cached.",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
