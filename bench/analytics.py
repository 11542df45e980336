"""Analytics queries at 1M messages (issue 6): both endpoints, rolled-up days beside the naive query.

One company ("Bench Co") with six chatbots gets 500,000 questions and their 500,000 answers over
the last 90 days (~100,000 conversations), plus a small second company that must not be counted.
Shapes follow what a documentation chatbot sees: daily volume growing 50% over the period, weekends
at 60%, daytime hours; 1 to 40 questions per conversation (mean 5); 85% of conversations from the
widget or iframe with a visitor id (returning visitors are common); 65% of questions from each
chatbot's 400 frequent ones (Zipf, varied case and punctuation), the rest unique; 87% answered,
60% of answers by a language model (~2.2 s, ~1,800 prompt tokens) and 40% extractive (~0.35 s);
1-3 cited pages of 20 documents per chatbot; 5% of answers rated.

For each database (a fresh SQLite file in var/bench/analytics/, and a Postgres database
docent_bench_analytics on 127.0.0.1:5432 when one answers, dropped afterwards), through Django's
test client as a logged-in owner:
- naive: nothing rolled up, so every request aggregates the period's raw messages;
- ours: after `rollup_settled_days()` (what the task the dashboard queues, or the command run
  from cron, does), every day comes from the daily tables up to ten minutes ago, and only the
  last ten minutes are aggregated from messages.
The two must return the same figures; the run checks it. On Postgres, the bench runs VACUUM ANALYZE
after loading the messages and after the roll-up, as autovacuum soon would on a production database:
planner statistics, and a visibility map for index-only scans. (SQLite has no such daemon: left as loaded.)

Run: `python -m bench.analytics`; the report is printed and written to var/bench/analytics.md.
BENCH_ANALYTICS_DATABASES=postgres (or sqlite) measures one database only; BENCH_ANALYTICS_QUESTIONS=50000
makes a smaller smoke run.
"""

import datetime
import json
import os
import platform
import re
import secrets
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

PROJECT_ROOT = Path(__file__).resolve().parents[1]
BENCH_DIR = PROJECT_ROOT / "var" / "bench" / "analytics"
REPORT_PATH = PROJECT_ROOT / "var" / "bench" / "analytics.md"
HEADING = "## Analytics queries (issue 6)"
PG_DATABASE = "docent_bench_analytics"
PG_USERS = ("postgres", "root")
QUESTIONS = int(os.environ.get("BENCH_ANALYTICS_QUESTIONS", "500000"))  # fewer for a smoke run
DATABASES = os.environ.get("BENCH_ANALYTICS_DATABASES", "sqlite,postgres").split(",")
DAYS = 90
CHATBOT_SHARES = (0.35, 0.25, 0.15, 0.10, 0.10, 0.05)
OTHER_COMPANY_SHARE = 0.01
FAQ_PER_CHATBOT = 400
VISITOR_POOL = 80_000
OURS_RUNS, NAIVE_RUNS = 30, 5
TARGET_MS = 300
BATCH = 5_000


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        print(json.dumps(child(sys.argv[2])))
        return
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    now = datetime.datetime.now(datetime.UTC).replace(microsecond=0)
    load_before = os.getloadavg()[0]
    results = []
    if "sqlite" in DATABASES:
        results.append(run_child("sqlite", f"sqlite:///{BENCH_DIR / 'analytics.sqlite3'}", now))
    postgres = postgres_url() if "postgres" in DATABASES else ""
    if postgres:
        try:
            results.append(run_child("postgres", postgres, now))
        finally:
            postgres_admin(postgres, f'DROP DATABASE IF EXISTS "{PG_DATABASE}"')
    report = render(results, load_before, os.getloadavg()[0],
                    postgres_reachable=bool(postgres) or "postgres" not in DATABASES)
    print(report)
    REPORT_PATH.write_text(report)
    print(f"Written to {REPORT_PATH}.", file=sys.stderr)


# --- Databases --------------------------------------------------------------------------------------

def postgres_url() -> str:
    """A fresh, empty docent_bench_analytics database on the local Postgres, or "" if none answers."""
    import psycopg

    for user in PG_USERS:
        url = f"postgres://{user}@127.0.0.1:5432/{PG_DATABASE}"
        try:
            postgres_admin(url, f'DROP DATABASE IF EXISTS "{PG_DATABASE}"')
            postgres_admin(url, f'CREATE DATABASE "{PG_DATABASE}"')
            return url
        except psycopg.OperationalError:
            continue
    print("No Postgres on 127.0.0.1:5432 (trust auth, user postgres or root): SQLite only.", file=sys.stderr)
    return ""


def postgres_admin(url: str, sql: str) -> None:
    import psycopg

    user = re.match(r"postgres://([^@]+)@", url).group(1)
    with psycopg.connect(host="127.0.0.1", port=5432, user=user, dbname="postgres", autocommit=True,
                         connect_timeout=3) as connection:
        connection.execute(sql)


def run_child(backend: str, database_url: str, now: datetime.datetime) -> dict:
    print(f"{backend}: generating 1M messages and measuring …", file=sys.stderr, flush=True)
    sqlite_file = BENCH_DIR / "analytics.sqlite3"
    if backend == "sqlite":
        for leftover in BENCH_DIR.glob("analytics.sqlite3*"):
            leftover.unlink()
    env = {**os.environ, "DATABASE_URL": database_url, "DOCENT_VAR_DIR": str(BENCH_DIR / "var"),
           "DEBUG": "0", "SECRET_KEY": secrets.token_urlsafe(50), "ALLOWED_HOSTS": "testserver",
           "REDIS_URL": "", "EMBEDDING_BACKEND": "none", "VECTOR_BACKEND": "local", "ANSWER_BACKEND": "extractive",
           "DJANGO_SETTINGS_MODULE": "config.settings", "BENCH_NOW": now.isoformat()}
    output = subprocess.run([sys.executable, "-m", "bench.analytics", "--child", backend], env=env, check=True,
                            stdout=subprocess.PIPE, cwd=PROJECT_ROOT, text=True).stdout
    result = json.loads(output.strip().splitlines()[-1])
    if backend == "sqlite":
        result["database_mb"] = sqlite_file.stat().st_size / 1024 ** 2
    return result


# --- In the child: generate, then measure ----------------------------------------------------------

def child(backend: str) -> dict:
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    now = datetime.datetime.fromisoformat(os.environ["BENCH_NOW"])
    started = time.monotonic()
    owner, biggest_bot = generate(now)
    generation_seconds = time.monotonic() - started
    vacuum_analyze()
    result = {"backend": backend, "generation_seconds": generation_seconds, **measure(owner, biggest_bot)}
    if backend == "postgres":
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_database_size(current_database())")
            result["database_mb"] = cursor.fetchone()[0] / 1024 ** 2
    return result


def measure(owner, chatbot) -> dict:
    from django.test import Client

    from analytics import services
    from analytics.models import RolledUpDay

    client = Client()
    client.force_login(owner)
    endpoints = {
        "dashboard, 30 days (default)": "/api/analytics/dashboard",
        "chatbot, 30 days (default)": f"/api/analytics/chatbot/{chatbot.id}",
        "dashboard, 90 days": "/api/analytics/dashboard?" + _last_days(90),
    }
    assert not RolledUpDay.objects.exists()
    naive = {label: _timed(client, path, NAIVE_RUNS) for label, path in endpoints.items()}
    started = time.monotonic()
    rolled = services.rollup_settled_days()
    rollup_seconds = time.monotonic() - started
    vacuum_analyze()
    ours = {label: _timed(client, path, OURS_RUNS) for label, path in endpoints.items()}
    identical = all(_figures(naive[label]["body"]) == _figures(ours[label]["body"]) for label in endpoints)
    return {
        "rollup_seconds": rollup_seconds, "rolled_days": len(rolled), "identical": identical,
        "live_days": ours["dashboard, 30 days (default)"]["body"]["method"]["live_days"],
        "totals": ours["dashboard, 90 days"]["body"]["totals"],
        "rows": {label: {"naive": naive[label]["ms"], "ours": ours[label]["ms"]} for label in endpoints},
    }


def vacuum_analyze() -> None:
    """What autovacuum does on Postgres soon after a bulk load or a roll-up (see the module's docstring)."""
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")


def _last_days(days: int) -> str:
    today = datetime.datetime.now(datetime.UTC).date()
    return f"from={today - datetime.timedelta(days=days - 1)}&to={today}"


def _figures(body: dict) -> dict:
    return {key: value for key, value in body.items() if key != "method"}


def _timed(client, path: str, runs: int) -> dict:
    body = None
    timings = []
    for run in range(runs + 1):  # the first run warms caches up and is not counted
        started = time.perf_counter()
        response = client.get(path, secure=True)
        elapsed = (time.perf_counter() - started) * 1000
        assert response.status_code == 200, response.content[:300]
        if run:
            timings.append(elapsed)
        body = response.json()
    quantiles = statistics.quantiles(timings, n=20, method="inclusive")
    return {"ms": [statistics.median(timings), quantiles[18]], "body": body}


def generate(now: datetime.datetime):
    """The synthetic companies, chatbots, conversations and messages; returns (owner, biggest chatbot)."""
    from accounts.models import Company, User
    from chat.models import Conversation, Message
    from chatbots.models import Chatbot

    rng = np.random.default_rng(6)
    company = Company.objects.create(name="Bench Co")
    other = Company.objects.create(name="Other Co")
    owner = User.objects.create_user(email="owner@bench.test", password=secrets.token_urlsafe(), company=company,
                                     role="owner")
    bots = [Chatbot.objects.create(company=company, name=f"Bot {n + 1}") for n in range(len(CHATBOT_SHARES))]
    other_bot = Chatbot.objects.create(company=other, name="Other bot")
    faqs = [_faq_questions(rng) for _ in bots + [other_bot]]
    faq_weights = 1 / np.arange(1, FAQ_PER_CHATBOT + 1) ** 1.1
    faq_weights /= faq_weights.sum()
    answers = [" ".join(f"word{n}" for n in rng.integers(0, 5000, 50)) for _ in range(200)]
    citations = [[{"number": k + 1, "file_name": f"doc-{n}.pdf", "location": f"doc-{n}.pdf page {k + 3}",
                   "text": " ".join(f"text{m}" for m in rng.integers(0, 5000, 30)), "score": 0.61, "cited": True}
                  for k in range(2)] for n in range(200)]

    lengths = _conversation_lengths(rng)
    starts = _conversation_starts(rng, len(lengths), now)
    is_other = rng.random(len(lengths)) < OTHER_COMPANY_SHARE
    bot_index = rng.choice(len(bots), len(lengths), p=CHATBOT_SHARES)
    channel = rng.choice(["widget", "iframe", "api", "console"], len(lengths), p=[0.7, 0.15, 0.1, 0.05])
    visitor = np.minimum(rng.exponential(VISITOR_POOL / 4, len(lengths)).astype(int), VISITOR_POOL - 1)

    conversations, messages = [], []
    for i, (length, start) in enumerate(zip(lengths, starts, strict=True)):
        bot, faq = (other_bot, faqs[-1]) if is_other[i] else (bots[bot_index[i]], faqs[bot_index[i]])
        with_visitor = channel[i] in ("widget", "iframe")
        conversation = Conversation(company_id=bot.company_id, chatbot=bot, chatbot_name=bot.name,
                                    channel=channel[i], visitor_id=f"visitor-{visitor[i]}" if with_visitor else "",
                                    created_at=start, updated_at=start)
        conversations.append(conversation)
        when = start
        for _ in range(length):
            messages.append(Message(conversation=conversation, company_id=bot.company_id, chatbot=bot,
                                    role="user", content=_question(rng, faq, faq_weights), created_at=when))
            answer = _answer(rng, bot, answers, citations, when)
            messages.append(Message(conversation=conversation, company_id=bot.company_id, chatbot=bot, **answer))
            when = answer["created_at"] + datetime.timedelta(seconds=int(rng.integers(15, 180)))
        conversation.updated_at = min(when, now)
        if len(messages) >= BATCH * 8:
            _insert(Conversation, Message, conversations, messages)
            conversations, messages = [], []
    _insert(Conversation, Message, conversations, messages)
    return owner, bots[0]


def _insert(conversation_model, message_model, conversations, messages) -> None:
    conversation_model.objects.bulk_create(conversations, batch_size=BATCH)
    message_model.objects.bulk_create(messages, batch_size=BATCH)


def _conversation_lengths(rng) -> list[int]:
    lengths = np.minimum(rng.geometric(0.2, QUESTIONS // 3), 40)
    cut = int(np.searchsorted(np.cumsum(lengths), QUESTIONS))
    lengths = lengths[:cut + 1].tolist()
    lengths[-1] -= sum(lengths) - QUESTIONS
    return [n for n in lengths if n > 0]


def _conversation_starts(rng, count: int, now: datetime.datetime) -> list[datetime.datetime]:
    """Start instants over the last 90 UTC days (today up to now): growing, quieter at weekends."""
    today = now.date()
    days = [today - datetime.timedelta(days=DAYS - 1 - n) for n in range(DAYS)]
    elapsed_today = max((now - datetime.datetime.combine(today, datetime.time(), tzinfo=datetime.UTC))
                        .total_seconds(), 0) / 86400
    weights = np.array([(1 + 0.5 * n / (DAYS - 1)) * (0.6 if day.weekday() >= 5 else 1.0) for n, day in
                        enumerate(days)])
    weights[-1] *= elapsed_today
    day_index = np.sort(rng.choice(DAYS, count, p=weights / weights.sum()))
    hours = np.clip(rng.normal(14, 4, count), 0, 23.99) / 24
    hours[day_index == DAYS - 1] = rng.random(int((day_index == DAYS - 1).sum())) * elapsed_today
    return [datetime.datetime.combine(days[d], datetime.time(), tzinfo=datetime.UTC)
            + datetime.timedelta(seconds=int(h * 86400)) for d, h in zip(day_index, hours, strict=True)]


VERBS = ("reset", "change", "cancel", "renew", "export", "download", "update", "delete", "share", "print",
         "find", "pay", "return", "track", "upgrade", "install", "connect", "configure", "transfer", "verify")
NOUNS = ("password", "order", "invoice", "subscription", "account", "address", "plan", "card", "report",
         "license", "device", "warranty", "delivery", "refund", "contract", "team", "api key", "profile",
         "booking", "statement", "quote", "ticket", "payment", "backup", "settings", "email", "receipt",
         "membership", "data", "language", "currency", "store", "catalogue", "voucher", "manual", "firmware",
         "printer", "router", "app", "shipment")


def _faq_questions(rng) -> list[str]:
    pairs = rng.permutation(len(VERBS) * len(NOUNS))[:FAQ_PER_CHATBOT]
    return [f"How do I {VERBS[p // len(NOUNS)]} my {NOUNS[p % len(NOUNS)]}" for p in pairs]


def _question(rng, faq: list[str], weights) -> str:
    text = faq[rng.choice(len(faq), p=weights)]
    if rng.random() < 0.35:  # the long tail: asked once
        return f"{text} for order {rng.integers(0, 10 ** 9)}, from {NOUNS[rng.integers(len(NOUNS))]}?"
    variant = rng.integers(4)
    return (text + "?", text.lower() + "?", text + " ?", text.upper())[variant]


def _answer(rng, bot, answers, citations, asked: datetime.datetime) -> dict:
    answered, by_model = rng.random() < 0.87, rng.random() < 0.6
    if not answered:
        mode, latency, prompt, completion = "fallback", rng.lognormal(np.log(300), 0.4), 0, 0
    elif by_model:
        mode, latency = "openai", rng.lognormal(np.log(2200), 0.45)
        prompt, completion = int(rng.normal(1800, 400)), int(rng.normal(150, 60))
    else:
        mode, latency, prompt, completion = "extractive", rng.lognormal(np.log(350), 0.5), 0, 0
    latency = int(latency)
    pages = rng.zipf(1.6, int(rng.integers(1, 4))) % 40 + 1
    documents = rng.integers(0, 20, len(pages))
    sources = list(dict.fromkeys(f"{bot.name.lower().replace(' ', '-')}-doc-{d}.pdf page {p}"
                                 for d, p in zip(documents, pages, strict=True))) if answered else []
    created = asked + datetime.timedelta(milliseconds=latency)
    rated = rng.random() < 0.05
    return {"role": "assistant", "content": answers[rng.integers(len(answers))], "mode": mode,
            "model": "gpt-4o-mini" if mode == "openai" else "", "answered": answered,
            "sources": sources, "citations": citations[rng.integers(len(citations))] if answered else [],
            "latency_ms": latency, "first_token_ms": latency // 3, "prompt_tokens": max(prompt, 0),
            "completion_tokens": max(completion, 0), "created_at": created,
            "feedback": ("up" if rng.random() < 0.72 else "down") if rated else "",
            "feedback_at": created + datetime.timedelta(seconds=40) if rated else None}


# --- The report -------------------------------------------------------------------------------------

def machine() -> str:
    cpu = re.search(r"^model name\s*:\s*(.+)$", Path("/proc/cpuinfo").read_text(), re.MULTILINE)
    ram_kib = int(re.search(r"^MemTotal:\s*(\d+)", Path("/proc/meminfo").read_text(), re.MULTILINE).group(1))
    return (f"{len(os.sched_getaffinity(0))} cores ({cpu.group(1).strip() if cpu else 'unknown CPU'}), "
            f"{ram_kib / 1024 ** 2:.1f} GiB RAM, Python {platform.python_version()}")


def render(results: list[dict], load_before: float, load_after: float, *, postgres_reachable: bool) -> str:
    lines = [HEADING, "",
             f"Measured {datetime.date.today()} with `python -m bench.analytics` on {machine()}; load average "
             f"(1 min) {load_before:.1f} before the run, {load_after:.1f} after it (other work shared the cores).",
             ""]
    if not postgres_reachable:
        lines += ["No Postgres answered on 127.0.0.1:5432: SQLite only.", ""]
    lines += ["| database | endpoint | naive p50 / p95, ms | ours p50 / p95, ms | ours under 300 ms (p95) |",
              "|---|---|---|---|---|"]
    for result in results:
        for label, row in result["rows"].items():
            met = "yes" if row["ours"][1] < TARGET_MS else "**no**"
            lines.append(f"| {result['backend']} | {label} | {row['naive'][0]:,.0f} / {row['naive'][1]:,.0f} | "
                         f"{row['ours'][0]:,.0f} / {row['ours'][1]:,.0f} | {met} |")
    lines.append("")
    for result in results:
        totals = result["totals"]
        lines.append(
            f"- {result['backend']}: generated in {result['generation_seconds']:,.0f} s, database "
            f"{result['database_mb']:,.0f} MB; roll-up of {result['rolled_days']} days "
            f"{result['rollup_seconds']:,.1f} s ({result['rollup_seconds'] / max(result['rolled_days'], 1):.2f} s "
            f"a day); per request, only the activity after the roll-up (the last ten minutes) is read live; "
            f"naive and ours returned "
            f"{'identical' if result['identical'] else '**different**'} figures. Bench Co over 90 days: "
            f"{totals['conversations']:,} conversations, {totals['questions']:,} questions, "
            f"{totals['unique_visitors']:,} unique visitors, answered {totals['answered_rate']:.1%}, "
            f"latency p50 / p95 {totals['latency_p50_ms']:,} / {totals['latency_p95_ms']:,} ms.")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
