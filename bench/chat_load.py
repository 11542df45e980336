"""`python -m bench.chat_load`: chat under load, concurrent WebSocket visitors against one Daphne.

Docent's Daphne serves the twenty 10-Q filings in one chatbot (bench/chat_retrieval.py loads them
once into var/bench/docent/; this run works on its own copy of that database under
var/bench/chat_load/). Every session is a visitor of the chatbot's widget integration: the one
publishable key, from an allowed origin, with its own visitor id and conversation, as the
product's widget makes them. All sessions connect, then ask at the same moment, each sending its
questions from questions_dev.csv one after another, continuing its conversation. The per-key,
per-address and plan limits are raised for the run (bench/load_settings.py and the environment).

The chat model is tests/fakes/openai_server.py streaming 50 tokens at 100 tokens/s, in its own
process; the load generator (asyncio and the `websockets` client) is this process. The floor, in
the same run, is a bare Channels consumer that relays the same fake model with no retrieval
(bench/relay_consumer.py), served by its own Daphne with the same settings. The phases run one
after another so that they do not share the two cores: the floor, Docent with one session
alone, Docent with all of them. Each server answers one question before its phases, so the
model, the vectors and the BM25 indexes are loaded as in a server that has been up a while.

Time to first token is measured by the client, from sending the question to the first `token`
frame, minus the fake model's own wait before its first token (1/100 s). Both Daphnes get one torch
thread (OMP_NUM_THREADS=1), as the web process runs in production; `--server-env NAME=VALUE` tries
another setting in both (e.g. OMP_NUM_THREADS=2). The report is printed and written to
var/bench/chat_load/chat_load.md; docs/BENCHMARKS.md gets it by hand, with the machine's load.
"""

import argparse
import asyncio
import contextlib
import datetime
import json
import multiprocessing
import os
import sqlite3
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from websockets.asyncio.client import connect

from bench.measures import load_questions
from bench.runstats import median_ms
from bench.servers import daphne

PROJECT_ROOT = Path(__file__).resolve().parents[1]
WORK_DIR = PROJECT_ROOT / "var" / "bench" / "chat_load"
REPORT_PATH = WORK_DIR / "chat_load.md"
HEADING = "## Chat under load (issue 5)"
ORIGIN = "https://shop.example"  # the widget's site, on the integration's allow-list
MODEL_KEY = "sk-bench"
TOKENS, TOKENS_PER_SECOND = 50, 100
MODEL_DELAY_MS = 1000 / TOKENS_PER_SECOND  # the fake sleeps this long before every token, the first too
TARGET_P95_MS = 150
ANSWER_TIMEOUT_S = 600


@dataclass
class Exchange:
    """One question as the client saw it."""

    to_first_token_ms: float | None = None  # from sending the question to the first `token` frame
    answer_ms: float | None = None  # to the `done` frame
    message_id: str = ""
    mode: str = ""  # "fallback" when the chatbot answered without the model
    error: str = ""
    stored_first_token_ms: float | None = None  # Docent's own record, from the stored question

    @property
    def first_token_ms(self) -> float | None:
        """Time to first token minus the fake model's own wait before it (a fallback has no model)."""
        if self.to_first_token_ms is None:
            return None
        return self.to_first_token_ms - (0 if self.mode == "fallback" else MODEL_DELAY_MS)

    @property
    def before_answer_flow_ms(self) -> float | None:
        """What the client waited before Docent's answer flow began: the frame's way in, the rate
        check and storing the question (each in a worker thread), the first token's way out."""
        if self.to_first_token_ms is None or self.stored_first_token_ms is None:
            return None
        return self.to_first_token_ms - self.stored_first_token_ms

    @property
    def in_answer_flow_ms(self) -> float | None:
        """From the stored question to the first token, minus the model's delay: retrieval with its wait
        for a worker thread, the prompt, the model's response."""
        if self.first_token_ms is None or self.before_answer_flow_ms is None:
            return None
        return self.first_token_ms - self.before_answer_flow_ms


@dataclass
class Phase:
    name: str
    sessions: int
    exchanges: list[Exchange] = field(default_factory=list)
    wall_s: float = 0.0
    cpu_s: dict[str, float] = field(default_factory=dict)  # process → CPU seconds during the phase
    peak_rss_mb: float = 0.0  # of the Daphne serving the phase, since it started

    @property
    def errors(self) -> list[str]:
        return [exchange.error for exchange in self.exchanges if exchange.error]

    def times(self, name: str) -> list[float]:
        return [getattr(e, name) for e in self.exchanges if not e.error and getattr(e, name) is not None]


def main() -> None:
    options = arguments()
    from bench.chat_retrieval import DOCENT_DIR, load_filings

    if not (DOCENT_DIR / "stats.json").exists():  # else the filings are loaded, whether or not the anchor is
        load_filings()
    environment = docent_settings(options)
    os.environ.update(environment)
    import django

    django.setup()
    texts = [question.text for question in load_questions()]
    chatbot_id, key, costs = prepare_chatbot(texts)
    questions = [[texts[(n * options.questions + q) % len(texts)] for q in range(options.questions)]
                 for n in range(options.sessions)]
    load_before = os.getloadavg()[0]
    with fake_model() as (model_url, model_pid):
        environment["OPENAI_BASE_URL"] = model_url
        with daphne("bench.relay_consumer:application", environment, "relay", WORK_DIR) as (relay_port, relay_pid), \
                daphne("config.asgi:application", environment, "docent", WORK_DIR) as (docent_port, docent_pid):
            chatbot_url = f"ws://127.0.0.1:{docent_port}/ws/chat/{chatbot_id}/?key={key}"
            relay_url = f"ws://127.0.0.1:{relay_port}/ws/relay/"
            model = {"fake model": model_pid}
            warm_up(relay_url, texts[0])
            warm_up(chatbot_url, texts[0])
            rss_before_load = rss_mb(docent_pid)["VmRSS"]
            phases = [
                measure(Phase(f"floor: bare relay consumer, {options.sessions} sessions", options.sessions),
                        relay_url, questions, {"Daphne": relay_pid, **model}),
                measure(Phase("Docent, 1 session alone", 1), chatbot_url, questions[:1],
                        {"Daphne": docent_pid, **model}),
                measure(Phase(f"**Docent, {options.sessions} sessions**", options.sessions), chatbot_url, questions,
                        {"Daphne": docent_pid, **model}),
            ]
    load_after = os.getloadavg()[0]
    for phase in phases[1:]:
        add_stored_first_tokens(phase)
    report = render(phases, costs, rss_before_load, (load_before, load_after), options)
    print(report)
    REPORT_PATH.write_text(report)
    print(f"Written to {REPORT_PATH}.", file=sys.stderr)


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.chat_load", description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=200, help="concurrent WebSocket sessions (default 200)")
    parser.add_argument("--questions", type=int, default=5, help="questions per session, asked one after another")
    parser.add_argument("--server-env", action="append", default=[], metavar="NAME=VALUE",
                        help="an environment variable for both Daphnes, to try a setting such as ASGI_THREADS "
                             "(worker threads; Python's default is min(32, cores + 4)) or OMP_NUM_THREADS")
    return parser.parse_args()


# --- The servers ----------------------------------------------------------------------------------

def docent_settings(options: argparse.Namespace) -> dict[str, str]:
    """Both Daphnes' environment: production settings on a copy of the loaded filings' database."""
    from bench.chat_retrieval import DOCENT_DIR
    from bench.ingest import docent_environment

    WORK_DIR.mkdir(parents=True, exist_ok=True)
    database = WORK_DIR / "docent.sqlite3"
    for leftover in WORK_DIR.glob("docent.sqlite3*"):
        leftover.unlink()
    with contextlib.closing(sqlite3.connect(DOCENT_DIR / "docent.sqlite3")) as source, \
            contextlib.closing(sqlite3.connect(database)) as copy:
        source.backup(copy)
    environment = {
        **docent_environment(WORK_DIR), "DOCENT_VAR_DIR": str(WORK_DIR), "MEDIA_ROOT": str(DOCENT_DIR / "media"),
        "DJANGO_SETTINGS_MODULE": "bench.load_settings", "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "0", "LOG_LEVEL": "WARNING", "HF_HUB_OFFLINE": "1",
        "CHAT_RATE_PER_KEY": "1000000/m", "CHAT_RATE_PER_IP": "1000000/m",
        "ANSWER_BACKEND": "openai", "OPENAI_CHAT_MODEL": "fake-model", "OPENAI_API_KEY": MODEL_KEY,
        # One torch thread, as `make run` and the README's production setup give the web process.
        "OMP_NUM_THREADS": "1",
    }
    return {**environment, **dict(setting.split("=", 1) for setting in options.server_env)}


def prepare_chatbot(texts: list[str]) -> tuple[str, str, dict]:
    """The chatbot over all twenty filings and its widget's publishable key; and, measured here with
    nothing else running, what one question costs in query embedding and in the whole retrieval."""
    from bench.chat_retrieval import benchmark_chatbot
    from chat.retrieval import retrieve
    from datasources.embedders import get_embedder
    from integrations.services import integration_save

    chatbot = benchmark_chatbot()
    key = integration_save(chatbot=chatbot, type="widget", settings={"allowed_origins": [ORIGIN]}).record.api_key
    retrieve(chatbot=chatbot, question=texts[0])  # load the model, the vectors and the BM25 indexes
    costs = {
        "questions": len(texts),
        "embed_ms": median_ms(get_embedder().embed_query, texts),
        "retrieve_ms": median_ms(lambda text: retrieve(chatbot=chatbot, question=text), texts),
    }
    return str(chatbot.id), key, costs


def serve_fake_model(connection) -> None:
    """In its own process, so that streaming the answers does not share a GIL with either side."""
    from tests.fakes.openai_server import running_openai

    with running_openai(api_key=MODEL_KEY) as server:
        server.chat_reply(tokens=TOKENS, tokens_per_second=TOKENS_PER_SECOND)
        connection.send(server.base_url)
        connection.recv()  # until the run is over


@contextlib.contextmanager
def fake_model() -> Iterator[tuple[str, int]]:
    context = multiprocessing.get_context("spawn")
    ours, theirs = context.Pipe()
    process = context.Process(target=serve_fake_model, args=(theirs,), daemon=True)
    process.start()
    try:
        yield ours.recv(), process.pid
    finally:
        ours.send("stop")
        process.join(timeout=30)


# --- The load -------------------------------------------------------------------------------------

def warm_up(url: str, text: str) -> None:
    (exchange,) = asyncio.run(sessions(url, [[text]], "warm-up"))[0]
    if exchange.error:
        raise SystemExit(f"The warm-up question failed at {url}: {exchange.error}")


def measure(phase: Phase, url: str, questions: list[list[str]], pids: dict[str, int]) -> Phase:
    print(f"Measuring {phase.name} …", file=sys.stderr, flush=True)
    before = {name: cpu_seconds(pid) for name, pid in pids.items()}
    own_before = sum(os.times()[:2])
    started = time.perf_counter()
    per_session = asyncio.run(sessions(url, questions, phase.name.strip("*").split(",")[0]))
    phase.wall_s = time.perf_counter() - started
    phase.cpu_s = {name: cpu_seconds(pid) - before[name] for name, pid in pids.items()}
    phase.cpu_s["load generator"] = sum(os.times()[:2]) - own_before
    phase.exchanges = [exchange for exchanges in per_session for exchange in exchanges]
    phase.peak_rss_mb = rss_mb(pids["Daphne"])["VmHWM"]
    return phase


async def sessions(url: str, questions: list[list[str]], label: str) -> list[list[Exchange]]:
    """Every session connects; once all are open (or failed), all ask at once."""
    opened = await asyncio.gather(*(connect(url, origin=ORIGIN, open_timeout=ANSWER_TIMEOUT_S, ping_interval=None,
                                            max_size=2 ** 24) for _ in questions), return_exceptions=True)
    try:
        return await asyncio.gather(*(
            converse(websocket, f"{label}-{n}", texts) if not isinstance(websocket, BaseException)
            else [Exchange(error=f"connect: {describe(websocket)}")] * len(texts)
            for n, (websocket, texts) in enumerate(zip(opened, questions, strict=True))))
    finally:
        await asyncio.gather(*(websocket.close() for websocket in opened if not isinstance(websocket, BaseException)))


async def converse(websocket, visitor_id: str, texts: list[str]) -> list[Exchange]:
    """The session's questions one after another, in one conversation; after a failure, the rest count as failed."""
    exchanges: list[Exchange] = []
    session_id = secret = ""  # the secret, given with the first answer, reopens the conversation
    for text in texts:
        exchange = Exchange()
        exchanges.append(exchange)
        sent = time.perf_counter()
        try:
            async with asyncio.timeout(ANSWER_TIMEOUT_S):
                await websocket.send(json.dumps({"type": "message", "message": text, "session_id": session_id,
                                                 "conversation_secret": secret, "visitor_id": visitor_id}))
                while True:
                    frame = json.loads(await websocket.recv())
                    session_id = frame.get("session_id", session_id)
                    secret = frame.get("conversation_secret", secret)
                    if frame["type"] == "token" and exchange.to_first_token_ms is None:
                        exchange.to_first_token_ms = (time.perf_counter() - sent) * 1000
                    elif frame["type"] == "error":
                        raise RuntimeError(f"error frame: {frame['error']['code']}")
                    elif frame["type"] == "done":
                        exchange.answer_ms = (time.perf_counter() - sent) * 1000
                        exchange.message_id, exchange.mode = frame.get("message_id", ""), frame.get("mode", "")
                        break
        except Exception as failure:  # noqa: BLE001  (every failure is a measured error, named in the report)
            exchange.error = describe(failure)
            exchanges += [Exchange(error="not asked: an earlier question of the session failed")] * (
                len(texts) - len(exchanges))
            break
    return exchanges


def describe(failure: BaseException) -> str:
    return f"{type(failure).__name__}: {failure}" if str(failure) else type(failure).__name__


def add_stored_first_tokens(phase: Phase) -> None:
    """Docent's own record of each answer's first token (Message.first_token_ms, counted from the
    stored question), beside the client's."""
    from chat.models import Message

    ids = [exchange.message_id for exchange in phase.exchanges if exchange.message_id]
    stored = dict(Message.objects.filter(pk__in=ids).values_list("id", "first_token_ms"))
    for exchange in phase.exchanges:
        if exchange.message_id:
            exchange.stored_first_token_ms = stored.get(uuid.UUID(exchange.message_id))


# --- Process figures ----------------------------------------------------------------------------

def cpu_seconds(pid: int) -> float:
    """User and system CPU time of a process, all its threads."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> dict[str, float]:
    """VmRSS (now) and VmHWM (the peak since the process started), in MB."""
    lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    return {name: int(value.split()[0]) / 1024 for name, _, value in (line.partition(":") for line in lines)
            if name in ("VmRSS", "VmHWM")}


# --- The report ---------------------------------------------------------------------------------

def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile; NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(share * len(ordered) + 0.5) - 1))]


def render(phases: list[Phase], costs: dict, rss_before_load: float, load: tuple[float, float],
           options: argparse.Namespace) -> str:
    from bench.ingest import machine

    loaded = phases[-1]
    p95 = percentile(loaded.times("first_token_ms"), 0.95)
    verdict = "met" if p95 <= TARGET_P95_MS and not loaded.errors else "not met"
    tried = f"; for this run {', '.join(options.server_env)}" if options.server_env else ""
    lines = [
        HEADING, "",
        f"Measured {datetime.datetime.now().isoformat(timespec='minutes')} with `python -m bench.chat_load "
        f"--sessions {options.sessions} --questions {options.questions}` on {machine()}; load average (1 min) "
        f"{load[0]:.1f} before the run, {load[1]:.1f} after it. One Daphne, SQLite (a copy of the loaded "
        f"filings' database), local embeddings and vector index, local-memory cache{tried}.", "",
        f"Target: time to first token p95 ≤ {TARGET_P95_MS} ms with zero errors at {options.sessions} sessions: "
        f"{verdict} ({p95:,.0f} ms, {len(loaded.errors)} errors).", "",
        "| | questions | errors | first token − model delay, p50 / p95 ms | whole answer, p50 / p95 ms "
        "| answers/s | CPU s: Daphne / fake model / load generator | Daphne peak RSS, MB |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for phase in phases:
        cpu = " / ".join(f"{phase.cpu_s[name]:.1f}" for name in ("Daphne", "fake model", "load generator"))
        lines.append(f"| {phase.name} | {len(phase.exchanges)} | {len(phase.errors)} "
                     f"| {_p50_p95(phase, 'first_token_ms')} | {_p50_p95(phase, 'answer_ms')} "
                     f"| {len(phase.times('answer_ms')) / phase.wall_s:.1f} | {cpu} | {phase.peak_rss_mb:,.0f} |")
    lines += [
        "", "Docent's first token, split at the stored question (Message.first_token_ms, Docent's own record): "
        "before it, the frame's way in, the rate check and storing the question, each in a worker thread, and "
        "the first token's way out; after it, retrieval (with its wait for a worker thread), the prompt and the "
        "model's response, less the model's delay.", "",
        "| | before the answer flow, p50 / p95 ms | in the answer flow, p50 / p95 ms | Daphne CPU per question, ms |",
        "|---|---|---|---|",
    ]
    for phase in phases[1:]:
        lines.append(f"| {phase.name} | {_p50_p95(phase, 'before_answer_flow_ms')} "
                     f"| {_p50_p95(phase, 'in_answer_flow_ms')} "
                     f"| {phase.cpu_s['Daphne'] / max(1, len(phase.exchanges)) * 1000:,.0f} |")
    lines += ["", f"One question alone, in the load generator's process before the servers started (median of the "
                  f"{costs['questions']} dev questions): query embedding {costs['embed_ms']:.0f} ms, the whole "
                  f"retrieval call {costs['retrieve_ms']:.0f} ms. Docent's Daphne held {rss_before_load:,.0f} MB "
                  "after its warm-up question; its peak above is since it started."]
    fallbacks = sum(1 for exchange in loaded.exchanges if exchange.mode == "fallback")
    if fallbacks:
        lines += ["", f"{fallbacks} of the loaded run's answers were the chatbot's fallback message (no model call)."]
    errors = sorted({error for phase in phases for error in phase.errors})
    if errors:
        lines += ["", "Errors: " + "; ".join(errors[:5]) + "."]
    return "\n".join(lines) + "\n"


def _p50_p95(phase: Phase, name: str) -> str:
    values = phase.times(name)
    return f"{percentile(values, 0.5):,.0f} / {percentile(values, 0.95):,.0f}"


if __name__ == "__main__":
    main()
