"""`python -m bench.socket_revocation`: how soon a revoked key's open sockets close, in the web process
that revoked it and in another one.

Two Daphnes (A and B) serve Docent on one SQLite database under var/bench/socket_revocation/ and
share Redis (127.0.0.1:6379, database 10): channel layer, cache and socket counts, as web processes
behind a load balancer do. Each round gives a chatbot a fresh widget key, opens N visitor sockets
on A and N on B with it (the `websockets` client, this process), then revokes the key through A's
API with a company API key and times, from sending the revocation, each socket's `error` frame and
close. The sockets on A are the baseline: closed by the process that made the change, without the
message's way through Redis to another process. The report is printed and written to
var/bench/socket_revocation/socket_revocation.md; docs/BENCHMARKS.md gets it by hand.
"""

import argparse
import asyncio
import datetime
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from bench.servers import daphne

PROJECT_ROOT = Path(__file__).resolve().parents[1]
WORK_DIR = PROJECT_ROOT / "var" / "bench" / "socket_revocation"
REPORT_PATH = WORK_DIR / "socket_revocation.md"
ORIGIN = "https://shop.example"
REDIS_URL = "redis://127.0.0.1:6379/10"
CLOSE_TIMEOUT_S = 120


def main() -> None:
    options = arguments()
    WORK_DIR.mkdir(parents=True, exist_ok=True)
    database = WORK_DIR / "db.sqlite3"
    database.unlink(missing_ok=True)
    environment = {
        "DATABASE_URL": f"sqlite:///{database}", "REDIS_URL": REDIS_URL, "CACHE_KEY_PREFIX": "bench-revocation",
        "DOCENT_VAR_DIR": str(WORK_DIR), "DEBUG": "0", "SECRET_KEY": "bench-socket-revocation",
        "SECURE_SSL_REDIRECT": "0", "SESSION_COOKIE_SECURE": "0", "CSRF_COOKIE_SECURE": "0",
        "EMBEDDING_BACKEND": "none", "SOCKETS_PER_KEY": "1000000", "SOCKETS_PER_ADDRESS": "1000000",
    }
    os.environ.update(environment)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    chatbot, admin_key = prepare()
    rows = []
    with daphne("config.asgi:application", environment, "daphne-A", WORK_DIR) as (first_port, _), \
            daphne("config.asgi:application", environment, "daphne-B", WORK_DIR) as (second_port, _):
        first, second = f"http://127.0.0.1:{first_port}", f"http://127.0.0.1:{second_port}"
        for sockets in options.sockets:
            for round_number in range(options.rounds):
                print(f"{sockets} sockets per process, round {round_number + 1} …", file=sys.stderr, flush=True)
                rows.append(asyncio.run(one_round(first, second, chatbot, admin_key, sockets)))
    report = render(rows, options)
    REPORT_PATH.write_text(report)
    print(report)


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sockets", type=int, nargs="+", default=[1, 100, 1000],
                        help="open sockets per web process in a round (default: 1 100 1000)")
    parser.add_argument("--rounds", type=int, default=5, help="rounds per socket count (default 5)")
    return parser.parse_args()


def prepare():
    from accounts.models import Company, User
    from accounts.services import api_key_create
    from chatbots.models import Chatbot

    company = Company.objects.create(name="Bench")
    owner = User.objects.create_user(email="owner@bench.test", password=None, company=company, role="owner")
    chatbot = Chatbot.objects.create(company=company, name="Bench bot")
    return chatbot, api_key_create(company=company, name="bench", scope="write", created_by=owner).secret


def fresh_widget_key(chatbot) -> tuple[str, str]:
    """A new widget integration for the chatbot (the last one's key was revoked); its id and key."""
    from integrations.models import Integration
    from integrations.services import integration_save

    Integration.objects.filter(chatbot=chatbot).delete()
    issued = integration_save(chatbot=chatbot, type="widget", settings={"allowed_origins": [ORIGIN]})
    return str(issued.record.id), issued.record.api_key


async def one_round(first: str, second: str, chatbot, admin_key: str, sockets: int) -> dict:
    from asgiref.sync import sync_to_async

    integration_id, key = await sync_to_async(fresh_widget_key)(chatbot)
    path = f"/ws/chat/{chatbot.id}/?key={key}"
    opened = {name: await open_sockets(url.replace("http://", "ws://") + path, sockets)
              for name, url in (("same", first), ("other", second))}
    await asyncio.sleep(0.5)  # every socket has joined its groups
    sent = time.perf_counter()
    waits = {name: [asyncio.create_task(closed_after(websocket, sent)) for websocket in websockets]
             for name, websockets in opened.items()}
    request_ms = await asyncio.to_thread(revoke, first, chatbot.id, integration_id, admin_key) - sent
    result = {"sockets": sockets, "request_ms": request_ms * 1000}
    for name, tasks in waits.items():
        result[name] = await asyncio.gather(*tasks)
    return result


async def open_sockets(url: str, count: int, batch: int = 50) -> list:
    """`count` visitor sockets, opened `batch` at a time (as visitors arrive, not all in one instant)."""
    opened = []
    while len(opened) < count:
        opened += await asyncio.gather(*(connect(url, origin=ORIGIN, ping_interval=None, open_timeout=CLOSE_TIMEOUT_S)
                                         for _ in range(min(batch, count - len(opened)))))
    return opened


def revoke(url: str, chatbot_id, integration_id: str, admin_key: str) -> float:
    from urllib.request import Request, urlopen

    request = Request(f"{url}/api/integrations/{chatbot_id}/{integration_id}/revoke", method="POST",
                      headers={"Authorization": f"Bearer {admin_key}"})
    with urlopen(request, timeout=CLOSE_TIMEOUT_S) as response:
        assert response.status == 200, response.status
    return time.perf_counter()


async def closed_after(websocket, sent: float) -> tuple[float | None, str]:
    """Milliseconds from sending the revocation to the socket's end, and how it ended: "refused" (an
    error frame, then close code 4403), "dropped" (the connection ended without a close frame: the
    server gives up the close handshake after a second, and this one client reading two thousand
    sockets is slower than that under load), or "open" (still open at the deadline: not closed)."""
    try:
        async with asyncio.timeout(CLOSE_TIMEOUT_S):
            frame = json.loads(await websocket.recv())
            if frame.get("type") == "error":
                await websocket.recv()
    except ConnectionClosed as closed:
        how = "refused" if closed.rcvd and closed.rcvd.code == 4403 else "dropped" if closed.rcvd is None else "other"
        return (time.perf_counter() - sent) * 1000, how
    except TimeoutError:
        pass
    finally:
        await websocket.close()
    return None, "open"


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def render(rows: list[dict], options) -> str:
    load = " / ".join(f"{value:.2f}" for value in os.getloadavg())
    lines = [
        "## Closing a revoked key's open sockets (issue 11)", "",
        f"Measured {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC with `make bench-revocation` "
        f"(bench/socket_revocation.py) on {os.cpu_count()} cores ({platform.processor() or platform.machine()}), "
        f"Python {platform.python_version()}; two Daphnes on SQLite sharing Redis; load average after the run "
        f"{load} (1, 5, 15 min); {options.rounds} rounds per row.", "",
        "From sending the revocation (POST …/revoke to process A) to each socket's close, in ms. *Same process*: "
        "the sockets held by A, which made the change (the baseline); *other process*: those held by B, reached "
        "through the Redis channel layer. *Dropped*: closed without a close frame the client could read (the "
        "server ends the close handshake after a second; this one client process reading every socket lags "
        "under load); *not closed*: still open after two minutes, or closed another way.", "",
        "| sockets per process | revoke request p50 | same process p50 / p95 / max | other process p50 / p95 / max "
        "| ratio other / same (p50) | dropped | not closed |",
        "|---:|---:|---|---|---:|---:|---:|",
    ]
    for sockets in dict.fromkeys(row["sockets"] for row in rows):
        group = [row for row in rows if row["sockets"] == sockets]
        same, other = ([ms for row in group for ms, _ in row[side] if ms is not None] for side in ("same", "other"))
        endings = [how for row in group for _, how in row["same"] + row["other"]]
        request = statistics.median(row["request_ms"] for row in group)

        def spread(values):
            return " / ".join(f"{percentile(values, q):,.0f}" for q in (0.5, 0.95, 1.0)) if values else "-"

        ratio = f"{statistics.median(other) / statistics.median(same):.2f}" if same and other else "-"
        dropped, unclosed = endings.count("dropped"), len(endings) - endings.count("refused") - endings.count("dropped")
        lines.append(f"| {sockets:,} | {request:,.0f} | {spread(same)} | {spread(other)} | {ratio} | {dropped} "
                     f"| {unclosed} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
