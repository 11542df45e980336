"""`python -m bench.chat_load`: chat under an open-loop load, one web process and two, beside a bare relay.

Docent serves the twenty 10-Q filings in one chatbot, as `make run` serves it with WEB_PROCESSES=1 and 2
(config/webprocesses.py), on PostgreSQL and Redis, which several web processes need: the rows
bench/chat_retrieval.py loaded into var/bench/docent/ are copied into a fresh PostgreSQL database (the
copy of bench/chat_retrieval_postgres.py), each server gets key prefixes of its own in Redis, deleted after.

Load: 200 visitors of the chatbot's widget integration connect (its publishable key, from an allowed
origin, each its own visitor id) and stay connected. Questions then arrive as a Poisson process at 10,
20, 40 and 60 a second, a minute each (bench/load_schedule.py, fixed seed). Each arrival goes to an
idle visitor chosen at random, who asks it as the first question of a new conversation. Open loop: an
arrival never waits for earlier answers; when all 200 visitors are waiting for one, it counts as an
error, the server having fallen that far behind; so is a question unanswered after a minute, whose
visitor then reconnects. The next rate starts once every answer is in.

Before the load, as soon as the visitors of a server just started are connected, one of them asks ten of the dev
set's questions one after another: the first question after a start, against the tenth.

Questions are distinct, generated from the filings' chunks (table rows, sentences); a run of distinct
questions has the answer cache and the question-embedding cache off (ANSWER_CACHE_SECONDS=0,
QUESTION_EMBEDDING_CACHE_SECONDS=0). A second run lets 30% of arrivals repeat an earlier question of
the run, with both caches on and empty at its start (but for the warm-up's dev-set questions). Every run meets
the same arrival times.

The chat model is tests/fakes/openai_server.py streaming 50 tokens at 100 tokens/s, in its own process;
the load generator (asyncio and the `websockets` client) is this process. The floor is a bare Channels
consumer relaying the same fake model with no retrieval (bench/relay_consumer.py), in one Daphne with
the same settings, at the same rates with the same questions. The servers run one after another, so
that they do not share the two cores.

Time to first token: from sending the question to the first frame with non-empty answer text. CPU: user
and system time of every Docent process (the web processes and their supervisor, and the PostgreSQL
backends of the run's database, which a pool keeps open) over the rate, divided by the questions
answered; Redis serves other work on a shared machine and is not counted. Memory: the peak of the web
processes' summed RSS, sampled four times a second. The report is printed and written to
var/bench/chat_load/chat_load.md; docs/BENCHMARKS.md gets it by hand, with the machine's load.
"""

import argparse
import asyncio
import contextlib
import datetime
import json
import multiprocessing
import os
import random
import statistics
import sys
import threading
import time
import urllib.parse
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psutil
from websockets.asyncio.client import connect

from bench.load_schedule import Arrival, generated_questions, schedule
from bench.servers import daphne, web_processes

PROJECT_ROOT = Path(__file__).resolve().parents[1]
WORK_DIR = PROJECT_ROOT / "var" / "bench" / "chat_load"
REPORT_PATH = WORK_DIR / "chat_load.md"
HEADING = "## Chat under an open-loop load (issue 15)"
ORIGIN = "https://shop.example"  # the widget's site, on the integration's allow-list
MODEL_KEY = "sk-bench"
TOKENS, TOKENS_PER_SECOND = 50, 100
TARGET_ABOVE_FLOOR_MS = 150  # first-token p95 at most this far above the floor's, at the same rate
TARGET_CPU_MS = 20  # per uncached question, all Docent processes
ANSWER_TIMEOUT_S = 60
IDLE_SECONDS = 5
# Questions asked one after another on one socket as soon as the visitors are connected to a server just started: the
# first against the tenth (the "first question after a start as fast as the tenth").
FIRST_QUESTIONS = 10
CACHES_OFF = {"ANSWER_CACHE_SECONDS": "0", "QUESTION_EMBEDDING_CACHE_SECONDS": "0"}


@dataclass
class Exchange:
    """One arrival as the client saw it."""

    arrival: Arrival
    first_token_ms: float | None = None  # from sending the question to the first frame with answer text
    done_s: float | None = None  # when its `done` frame came, from the rate's start
    cached: bool = False
    fallback: bool = False  # the chatbot answered without the model
    error: str = ""


@dataclass
class RateResult:
    rate: float
    exchanges: list[Exchange] = field(default_factory=list)
    cpu_s: dict[str, float] = field(default_factory=dict)  # "web", "PostgreSQL": CPU seconds over the rate
    peak_rss_mb: float = 0.0  # the web processes together

    @property
    def errors(self) -> list[str]:
        return [exchange.error for exchange in self.exchanges if exchange.error]

    @property
    def answered(self) -> list[Exchange]:
        return [exchange for exchange in self.exchanges if exchange.done_s is not None and not exchange.error]

    @property
    def answers_per_s(self) -> float:
        answered = self.answered
        return len(answered) / max(exchange.done_s for exchange in answered) if answered else 0.0

    def cpu_ms_per_answer(self, *names: str) -> float:
        return sum(self.cpu_s.get(name, 0.0) for name in names) / max(1, len(self.answered)) * 1000

    def first_token_percentile(self, share: float) -> float:
        return percentile([e.first_token_ms for e in self.answered if e.first_token_ms is not None], share)


@dataclass
class Run:
    name: str
    processes: int
    repeat_share: float
    results: list[RateResult] = field(default_factory=list)
    rss_after_warm_up_mb: float = 0.0
    idle_cpu_ms_per_s: float = 0.0  # all its processes, every visitor connected, no question asked
    helpers_cpu_s: dict[str, float] = field(default_factory=dict)  # the fake model's, the load generator's
    sockets: list[int] = field(default_factory=list)  # the visitors' connections each web process holds
    first_questions_ms: list[float] = field(default_factory=list)  # first token of each of FIRST_QUESTIONS


@dataclass
class Server:
    url: str
    root_pid: int  # of the web processes' tree
    database: str = ""  # whose PostgreSQL backends count as the server's


@dataclass
class Setup:
    """What every run shares."""

    sessions: int
    seed: int
    warm_up_texts: list[str]
    model_pid: int


def main() -> None:
    options = arguments()
    environment = docent_settings(options)
    os.environ.update(environment)
    database = copy_filings(options.postgres)
    chatbot_id, key, texts, warm_up_texts = prepare_chatbot(options.seed)
    distinct = schedule(options.rates, options.seconds, texts, repeat_share=0, seed=options.seed)
    repeating = schedule(options.rates, options.seconds, texts, repeat_share=options.repeat_share, seed=options.seed)
    load_before = os.getloadavg()
    started = datetime.datetime.now(datetime.UTC)
    runs = []
    with fake_model() as (model_url, model_pid):
        environment["OPENAI_BASE_URL"] = model_url
        setup = Setup(options.sessions, options.seed, warm_up_texts, model_pid)
        floor = Run("floor: bare relay consumer", 1, 0.0)
        with daphne("bench.relay_consumer:application", environment, "relay", WORK_DIR) as (port, pid):
            measure(floor, Server(f"ws://127.0.0.1:{port}/ws/relay/", pid), distinct, setup)
        runs.append(floor)
        for processes in options.processes:
            for plan, share, caches in ((distinct, 0.0, CACHES_OFF), (repeating, options.repeat_share, {})):
                run = Run(f"Docent, {processes} web process{'es' if processes > 1 else ''}, "
                          f"{'distinct questions, caches off' if not share else f'{share:.0%} repeated, caches on'}",
                          processes, share)
                prefix = f"{options.cache_prefix}-{uuid.uuid4().hex[:8]}"
                server_environment = {**environment, **caches, "CACHE_KEY_PREFIX": prefix}
                with redis_keys_deleted(options.redis, prefix), \
                        web_processes(processes, server_environment, f"docent-{len(runs)}", WORK_DIR) as (port, pid):
                    measure(run, Server(f"ws://127.0.0.1:{port}/ws/chat/{chatbot_id}/?key={key}", pid, database),
                            plan, setup)
                runs.append(run)
    finished = datetime.datetime.now(datetime.UTC)
    drop_database(options.postgres)
    report = render(runs, (started, finished), (load_before, os.getloadavg()), options)
    print(report)
    REPORT_PATH.write_text(report)
    print(f"Written to {REPORT_PATH}.", file=sys.stderr)


def arguments() -> argparse.Namespace:
    def numbers(text: str) -> list[int]:
        return [int(part) for part in text.split(",")]

    parser = argparse.ArgumentParser(prog="python -m bench.chat_load", description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=200, help="connected widget visitors (default 200)")
    parser.add_argument("--rates", type=numbers, default=[10, 20, 40, 60], help="questions a second, comma-separated")
    parser.add_argument("--seconds", type=float, default=60, help="how long each rate lasts (default 60)")
    parser.add_argument("--processes", type=numbers, default=[1, 2], help="web processes to run Docent with")
    parser.add_argument("--repeat-share", type=float, default=0.3, help="share of repeated questions, second run")
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument("--postgres", default="postgres://postgres@127.0.0.1:5432/docent_bench_load",
                        help="a PostgreSQL database, created for the run (dropped first if it exists), dropped after")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0",
                        help="Redis for the channel layer and caches; the run deletes only its own keys")
    parser.add_argument("--cache-prefix", default="bench-load", help="start of the run's Redis key prefixes")
    parser.add_argument("--server-env", action="append", default=[], metavar="NAME=VALUE",
                        help="an environment variable for every server, to try a setting such as DB_POOL_MAX_SIZE")
    return parser.parse_args()


# --- The servers ----------------------------------------------------------------------------------

def docent_settings(options: argparse.Namespace) -> dict[str, str]:
    """Every server's environment: production settings on PostgreSQL and Redis, the limits raised."""
    from bench.chat_retrieval import DOCENT_DIR
    from bench.ingest import docent_environment

    WORK_DIR.mkdir(parents=True, exist_ok=True)
    environment = {
        **docent_environment(WORK_DIR), "MEDIA_ROOT": str(DOCENT_DIR / "media"),
        "DATABASE_URL": options.postgres, "REDIS_URL": options.redis, "CACHE_KEY_PREFIX": options.cache_prefix,
        "DJANGO_SETTINGS_MODULE": "bench.load_settings", "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "0", "LOG_LEVEL": "WARNING", "HF_HUB_OFFLINE": "1",
        "CHAT_RATE_PER_KEY": "1000000/m", "CHAT_RATE_PER_IP": "1000000/m",
        "SOCKETS_PER_ADDRESS": "100000",  # every visitor connects from this machine's one address
        "ANSWER_BACKEND": "openai", "OPENAI_CHAT_MODEL": "fake-model", "OPENAI_API_KEY": MODEL_KEY,
        # One torch thread, as `make run` gives the web process; a pool per process, as the README's
        # production section advises (and it keeps the backends, whose CPU is counted, alive).
        "OMP_NUM_THREADS": "1", "DB_POOL_MAX_SIZE": "4",
    }
    return {**environment, **dict(setting.split("=", 1) for setting in options.server_env)}


def copy_filings(url: str) -> str:
    """A fresh PostgreSQL database holding the loaded filings' rows; its name."""
    from bench.analytics import postgres_admin
    from bench.chat_retrieval import DOCENT_DIR, load_filings
    from bench.chat_retrieval_postgres import SOURCE, copy_rows

    if not (DOCENT_DIR / "stats.json").exists():  # else the filings are loaded, whether or not the anchor is
        load_filings()
    database = url.rsplit("/", 1)[1]
    drop_database(url)
    postgres_admin(url, f'CREATE DATABASE "{database}"')
    print(f"Copying the loaded filings into PostgreSQL ({database}) …", file=sys.stderr, flush=True)
    import django
    from django.conf import settings

    settings.DATABASES[SOURCE] = {"ENGINE": "django.db.backends.sqlite3",
                                  "NAME": f"file:{DOCENT_DIR / 'docent.sqlite3'}?mode=ro"}
    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    copy_rows()
    return database


def drop_database(url: str) -> None:
    from bench.analytics import postgres_admin

    postgres_admin(url, f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')


def prepare_chatbot(seed: int) -> tuple[str, str, list[str], list[str]]:
    """The chatbot over all twenty filings, its widget's publishable key, the questions generated from
    the filings' chunks, and the dev set's questions to warm the servers with."""
    from django.db import connections

    from bench.chat_retrieval import benchmark_chatbot
    from bench.measures import load_questions
    from datasources.models import Chunk
    from integrations.services import integration_save

    chatbot = benchmark_chatbot()
    key = integration_save(chatbot=chatbot, type="widget", settings={"allowed_origins": [ORIGIN]}).record.api_key
    chunks = Chunk.objects.order_by("data_source__name", "data_source_id", "position").values_list("text", flat=True)
    texts = generated_questions(chunks.iterator(), seed=seed)
    connections.close_all()
    return str(chatbot.id), key, texts, [question.text for question in load_questions()]


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


@contextlib.contextmanager
def redis_keys_deleted(url: str, prefix: str) -> Iterator[None]:
    """The server's keys (cache, channel layer, socket counts: all under `prefix`) are deleted afterwards."""
    import redis

    try:
        yield
    finally:
        client = redis.Redis.from_url(url)
        for key in client.scan_iter(match=f"{prefix}*", count=1000):
            client.delete(key)
        client.close()


# --- The load -------------------------------------------------------------------------------------

def measure(run: Run, server: Server, plan: dict[float, list[Arrival]], setup: Setup) -> None:
    """The run's rates one after another on one server; the helpers' CPU over the whole run, for context."""
    print(f"Measuring {run.name} …", file=sys.stderr, flush=True)
    model = psutil.Process(setup.model_pid)
    before = {"fake model": sum(model.cpu_times()[:2]), "load generator": sum(os.times()[:2])}
    asyncio.run(load(run, server, plan, setup))
    after = {"fake model": sum(model.cpu_times()[:2]), "load generator": sum(os.times()[:2])}
    run.helpers_cpu_s = {name: after[name] - before[name] for name in after}


async def load(run: Run, server: Server, plan: dict[float, list[Arrival]], setup: Setup) -> None:
    async with contextlib.AsyncExitStack() as stack:
        visitors = [await stack.enter_async_context(Visitor.connected(server.url, f"{run.name}-{n}"))
                    for n in range(setup.sessions)]
        await asyncio.sleep(1)  # a socket past a cap is accepted, then closed saying why
        refused = [visitor.websocket for visitor in visitors if visitor.websocket.close_code is not None]
        if refused:
            raise SystemExit(f"{run.name}: the server closed {len(refused)} of the visitors' sockets: "
                             f"{refused[0].close_code} {refused[0].close_reason}")
        run.sockets = sockets_held(server)
        run.first_questions_ms = await first_questions(visitors[0], setup.warm_up_texts[-FIRST_QUESTIONS:])
        await warm_up(visitors[:8 * run.processes], setup.warm_up_texts)
        run.rss_after_warm_up_mb = sum(rss_mb(process) for process in web_tree(server.root_pid))
        before = cpu_seconds(server)
        await asyncio.sleep(IDLE_SECONDS)
        run.idle_cpu_ms_per_s = sum(cpu_used(before, cpu_seconds(server)).values()) / IDLE_SECONDS * 1000
        picks = random.Random(setup.seed)
        for rate, arrivals in plan.items():
            before = cpu_seconds(server)
            with peak_rss_sampled(server.root_pid) as peak:
                exchanges = await open_loop(visitors, arrivals, picks)
            after = cpu_seconds(server)
            result = RateResult(rate, exchanges, cpu_used(before, after), peak[0])
            run.results.append(result)
            print(f"  {rate}/s: {len(result.answered)} answered, {len(result.errors)} errors, first token p95 "
                  f"{result.first_token_percentile(0.95):,.0f} ms", file=sys.stderr, flush=True)


async def first_questions(visitor: "Visitor", texts: list[str]) -> list[float]:
    """The first token's time of each question, asked one after another (dev-set questions the warm-up does not ask)."""
    times = []
    for text in texts:
        exchange = await visitor.ask(Arrival(0.0, text, False), time.perf_counter())
        if exchange.error:
            raise SystemExit(f"A first question failed: {exchange.error}")
        times.append(exchange.first_token_ms)
    return times


async def warm_up(visitors: list["Visitor"], texts: list[str]) -> None:
    """A few dev-set questions on several sockets at once, so that every web process has answered some."""
    exchanges = await asyncio.gather(*(visitor.ask(Arrival(0.0, texts[n % len(texts)], False), time.perf_counter())
                                       for n, visitor in enumerate(visitors)))
    failed = [exchange.error for exchange in exchanges if exchange.error]
    if failed:
        raise SystemExit(f"The warm-up questions failed: {failed[0]}")


async def open_loop(visitors: list["Visitor"], arrivals: list[Arrival], picks: random.Random) -> list[Exchange]:
    """Each arrival, on time, to an idle visitor picked at random; then every answer awaited."""
    idle = [visitor for visitor in visitors if not visitor.broken]
    exchanges, asking = [], []
    started = time.perf_counter()

    async def ask(visitor: Visitor, arrival: Arrival) -> Exchange:
        exchange = await visitor.ask(arrival, started)
        if not visitor.broken:
            idle.append(visitor)
        return exchange

    for arrival in arrivals:
        await asyncio.sleep(max(0.0, started + arrival.at_s - time.perf_counter()))
        if not idle:
            exchanges.append(Exchange(arrival, error=f"no idle visitor: {len(visitors)} questions in flight"))
            continue
        visitor = idle.pop(picks.randrange(len(idle)))
        asking.append(asyncio.create_task(ask(visitor, arrival)))
    return exchanges + list(await asyncio.gather(*asking))


class Visitor:
    """A widget visitor's open socket. Each question starts a conversation of its own."""

    def __init__(self, url: str, visitor_id: str):
        self.url, self.visitor_id = url, visitor_id
        self.websocket = None
        self.broken = False  # its socket failed and the server refused a new one: no more questions

    @classmethod
    @contextlib.asynccontextmanager
    async def connected(cls, url: str, visitor_id: str):
        visitor = cls(url, visitor_id)
        await visitor.open()
        try:
            yield visitor
        finally:
            await visitor.websocket.close()

    async def open(self) -> None:
        self.websocket = await connect(self.url, origin=ORIGIN, open_timeout=ANSWER_TIMEOUT_S, ping_interval=None,
                                       max_size=2 ** 24)

    async def reopened(self) -> bool:
        """A fresh socket in place of one whose failed answer may still come; False if none opens."""
        with contextlib.suppress(Exception):
            await self.websocket.close()
        try:
            await self.open()
        except Exception:  # noqa: BLE001  (the visitor is retired; its failed question is already an error)
            return False
        return True

    async def ask(self, arrival: Arrival, rate_started: float) -> Exchange:
        exchange = Exchange(arrival)
        sent = time.perf_counter()
        try:
            async with asyncio.timeout(ANSWER_TIMEOUT_S):
                await self.websocket.send(json.dumps({"type": "message", "message": arrival.question,
                                                      "session_id": "", "visitor_id": self.visitor_id}))
                while True:
                    frame = json.loads(await self.websocket.recv())
                    if frame["type"] == "token" and frame["token"] and exchange.first_token_ms is None:
                        exchange.first_token_ms = (time.perf_counter() - sent) * 1000
                    elif frame["type"] == "error":
                        raise RuntimeError(f"error frame: {frame['error']['code']}")
                    elif frame["type"] == "done":
                        exchange.done_s = time.perf_counter() - rate_started
                        exchange.cached, exchange.fallback = frame.get("cached", False), frame.get("mode") == "fallback"
                        return exchange
        except Exception as failure:  # noqa: BLE001  (every failure is a measured error, named in the report)
            exchange.error = f"{type(failure).__name__}: {failure}" if str(failure) else type(failure).__name__
            self.broken = not await self.reopened()
            return exchange


# --- Process figures ----------------------------------------------------------------------------

def web_tree(root_pid: int) -> list[psutil.Process]:
    """The web server's processes: the one Daphne, or the supervisor and its Daphnes."""
    root = psutil.Process(root_pid)
    return [root, *root.children(recursive=True)]


def sockets_held(server: Server) -> list[int]:
    """Established connections to the server's port, by the process holding them (the kernel chose)."""
    port = urllib.parse.urlsplit(server.url).port
    held = [sum(1 for connection in process.net_connections("tcp")
                if connection.status == psutil.CONN_ESTABLISHED and connection.laddr.port == port)
            for process in web_tree(server.root_pid)]
    return [count for count in held if count]


def postgres_backends(database: str) -> list[psutil.Process]:
    """PostgreSQL's processes serving `database`: their titles name it ("postgres: 15/main: USER DB HOST …")."""
    return [process for process in psutil.process_iter(["cmdline"])
            if process.info["cmdline"] and f" {database} " in process.info["cmdline"][0]
            and process.info["cmdline"][0].startswith("postgres: ")]


def cpu_seconds(server: Server) -> dict[str, dict[tuple[int, float], float]]:
    """User and system CPU time so far of the web processes and of the database's backends (each by its
    pid and start, so that a backend that opened during a rate counts from zero)."""
    groups = {"web": web_tree(server.root_pid),
              "PostgreSQL": postgres_backends(server.database) if server.database else []}
    return {name: _cpu_by_process(processes) for name, processes in groups.items()}


def cpu_used(before: dict[str, dict], after: dict[str, dict]) -> dict[str, float]:
    return {name: sum(seconds - before[name].get(process, 0.0) for process, seconds in after[name].items())
            for name in after}


def _cpu_by_process(processes: list[psutil.Process]) -> dict[tuple[int, float], float]:
    figures = {}
    for process in processes:
        with contextlib.suppress(psutil.NoSuchProcess):
            times = process.cpu_times()
            figures[(process.pid, process.create_time())] = times.user + times.system
    return figures


def rss_mb(process: psutil.Process) -> float:
    with contextlib.suppress(psutil.NoSuchProcess):
        return process.memory_info().rss / 2 ** 20
    return 0.0


@contextlib.contextmanager
def peak_rss_sampled(root_pid: int) -> Iterator[list[float]]:
    """The web processes' summed RSS, sampled in a thread four times a second; its peak in the list's one item."""
    peak, stop = [0.0], threading.Event()
    processes = web_tree(root_pid)

    def sample():
        while not stop.wait(0.25):
            peak[0] = max(peak[0], sum(rss_mb(process) for process in processes))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        yield peak
    finally:
        stop.set()
        sampler.join()


# --- The report ---------------------------------------------------------------------------------

def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile; NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(share * len(ordered) + 0.5) - 1))]


def render(runs: list[Run], span: tuple[datetime.datetime, datetime.datetime], load: tuple[tuple, tuple],
           options: argparse.Namespace) -> str:
    from bench.ingest import machine

    floor, docent = runs[0], runs[1:]
    floor_p95 = {result.rate: result.first_token_percentile(0.95) for result in floor.results}
    lines = [
        HEADING, "",
        f"Measured {span[0]:%Y-%m-%d %H:%M}-{span[1]:%H:%M} UTC with `python -m bench.chat_load` on {machine()}; "
        f"load average (1, 5, 15 min) {_load(load[0])} before the run, {_load(load[1])} after it. "
        f"{options.sessions} connected widget visitors; Poisson arrivals at {', '.join(map(str, options.rates))} "
        f"questions a second, {options.seconds:.0f} s each; PostgreSQL and Redis; seed {options.seed}"
        + (f"; for this run {', '.join(options.server_env)}" if options.server_env else "") + ".", "",
        "| run | highest arrival rate with first-token p95 ≤ floor's + 150 ms and no errors | target |",
        "|---|---|---|",
    ]
    for run in docent:
        met = [r.rate for r in run.results
               if not r.errors and r.first_token_percentile(0.95) <= floor_p95[r.rate] + TARGET_ABOVE_FLOOR_MS]
        highest = f"{max(met)}/s" if met else f"none (from {run.results[0].rate}/s)"
        lines.append(f"| {run.name} | **{highest}** | {'≥ 60/s' if run.repeat_share else '≥ 40/s'} |")
    uncached = [r.cpu_ms_per_answer("web", "PostgreSQL") for run in docent if not run.repeat_share for r in run.results]
    lines += ["", f"CPU per uncached question, all Docent processes: {min(uncached):.0f}-{max(uncached):.0f} ms "
                  f"across the rates (target ≤ {TARGET_CPU_MS} ms).", "",
              f"The first {FIRST_QUESTIONS} questions after each server's start (one socket, one after another, as "
              f"soon as the {options.sessions} visitors are connected; dev-set questions; first token, ms; target: "
              "the first as fast as the tenth):", "",
              "| run | 1st | 2nd | 10th | median of the 2nd-10th |", "|---|---|---|---|---|",
              *(f"| {run.name} | {run.first_questions_ms[0]:,.0f} | {run.first_questions_ms[1]:,.0f} | "
                f"{run.first_questions_ms[-1]:,.0f} | {statistics.median(run.first_questions_ms[1:]):,.0f} |"
                for run in runs), "",
              f"The floor, a bare relay consumer in one Daphne ({_idle(floor)}):", "",
              "| arrivals/s | questions | errors | first token p50 / p95 ms | answers/s | CPU per answer, ms "
              "| peak RSS, MB |",
              "|---|---|---|---|---|---|---|"]
    for result in floor.results:
        lines.append(f"| {result.rate} | {len(result.exchanges)} | {len(result.errors)} | {_p50_p95(result)} "
                     f"| {result.answers_per_s:.1f} | {result.cpu_ms_per_answer('web'):.1f} "
                     f"| {result.peak_rss_mb:,.0f} |")
    for run in docent:
        lines += ["", f"{run.name} (web processes' RSS after warming up: {run.rss_after_warm_up_mb:,.0f} MB; "
                      f"{_idle(run)}):", "",
                  "| arrivals/s | questions | errors | first token p50 / p95 ms | minus the floor's, p50 / p95 ms "
                  "| answers/s | CPU per answer, ms: web / PostgreSQL / both | peak RSS of the web processes, MB "
                  "| answers from the cache |",
                  "|---|---|---|---|---|---|---|---|---|"]
        floor_by_rate = {result.rate: result for result in floor.results}
        for result in run.results:
            base = floor_by_rate[result.rate]
            above = (f"{result.first_token_percentile(0.5) - base.first_token_percentile(0.5):,.0f} / "
                     f"{result.first_token_percentile(0.95) - base.first_token_percentile(0.95):,.0f}")
            cpu = " / ".join(f"{result.cpu_ms_per_answer(*names):.1f}"
                             for names in (("web",), ("PostgreSQL",), ("web", "PostgreSQL")))
            lines.append(f"| {result.rate} | {len(result.exchanges)} | {len(result.errors)} | {_p50_p95(result)} "
                         f"| {above} | {result.answers_per_s:.1f} | {cpu} | {result.peak_rss_mb:,.0f} "
                         f"| {sum(e.cached for e in result.answered)} |")
    fallbacks = sum(e.fallback for run in docent for result in run.results for e in result.answered)
    if fallbacks:
        lines += ["", f"{fallbacks} of Docent's answers were the chatbot's fallback message (no model call)."]
    errors: dict[str, int] = {}
    for run in runs:
        for result in run.results:
            for error in result.errors:
                errors[error] = errors.get(error, 0) + 1
    if errors:
        lines += ["", "Errors: " + "; ".join(f"{error} ({count})" for error, count in
                                            sorted(errors.items(), key=lambda item: -item[1])[:5]) + "."]
    return "\n".join(lines) + "\n"


def _p50_p95(result: RateResult) -> str:
    return f"{result.first_token_percentile(0.5):,.0f} / {result.first_token_percentile(0.95):,.0f}"


def _idle(run: Run) -> str:
    helpers = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in run.helpers_cpu_s.items())
    return (f"visitors' sockets per web process {' / '.join(map(str, run.sockets))}; "
            f"idle with every visitor connected, {run.idle_cpu_ms_per_s:.0f} ms of CPU a second; "
            f"CPU over the whole run: {helpers}")


def _load(averages: tuple) -> str:
    return " / ".join(f"{value:.2f}" for value in averages)


if __name__ == "__main__":
    main()
