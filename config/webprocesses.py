"""Docent's web server as bin/serve starts it: one Daphne, or `WEB_PROCESSES` Daphnes serving one port.

Daphne has no workers of its own. For several processes this binds HOST:PORT once and hands the
listening socket to N Daphnes (`-e fd:fileno=…`); the kernel gives each new connection to one of them.
Chosen over uvicorn's `--workers`, which shares one socket the same way, so that every process is the
server the suite and the benchmarks run (bench/chat_load.py): the same HTTP and WebSocket handling,
timeouts and close codes, and no second server to pin and keep in step.

The processes share nothing in memory, so they need what keeps state outside them: Redis (the channel
layer that carries a change made through one process to the sockets another holds, the cache of rate
limits and allowed origins, the open-socket counts) and a database server rather than a SQLite file.
Without those this refuses to start, saying what is missing. Each process loads its own embedding
model and index caches (config.startup).

If one Daphne exits on its own, the others are stopped and this exits too, as bin/serve stops everything
when one of its processes dies: whatever restarts Docent (systemd, a container platform) restarts it whole.
"""

import argparse
import os
import signal
import socket
import subprocess
import sys
import time

APPLICATION = "config.asgi:application"
STOP_GRACE_SECONDS = 10  # a Daphne closing its sockets; then it is killed


class Stop(Exception):
    """SIGTERM or SIGINT reached the supervisor."""


def refusal(host: str) -> str:
    """Why these settings cannot run `WEB_PROCESSES` web processes on `host`, or "" when they can."""
    from django.conf import settings

    if settings.WEB_PROCESSES == 1:
        return ""
    missing = []
    if not settings.REDIS_URL:
        missing.append("REDIS_URL (the channel layer and cache the processes share)")
    if settings.DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
        missing.append("a DATABASE_URL of a database server such as PostgreSQL (not a SQLite file)")
    if ":" in host:
        # Daphne adopts a shared socket as IPv4 only: its fd endpoint passes an address family on as text,
        # which Twisted cannot use.
        missing.append(f"an IPv4 address to listen on (HOST={host})")
    if not missing:
        return ""
    return (f"WEB_PROCESSES={settings.WEB_PROCESSES} needs {' and '.join(missing)}. "
            "Set them, or leave WEB_PROCESSES unset for one web process.")


def daphne(*binding: str) -> list[str]:
    return [sys.executable, "-m", "daphne", *binding, APPLICATION]


def serve_one(host: str, port: int) -> None:
    """The single web process `make run` has always started: this process becomes Daphne."""
    command = daphne("-b", host, "-p", str(port))
    os.execv(command[0], command)


def serve_several(host: str, port: int, processes: int) -> int:
    """N Daphnes on one listening socket, until a signal (0) or until one of them exits (1)."""
    try:
        listener = socket.create_server((host, port), backlog=socket.SOMAXCONN)
    except OSError as exc:
        reason = os.strerror(exc.errno) if exc.errno else str(exc)
        print(f"  Docent cannot listen on {host}:{port}: {reason}", file=sys.stderr)
        return 1
    command = daphne("--fd", str(listener.fileno()))
    children = []

    def stop(signum, frame):
        raise Stop

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        for _ in range(processes):
            children.append(subprocess.Popen(command, pass_fds=[listener.fileno()]))
        listener.close()  # the Daphnes hold it now
        while all(child.poll() is None for child in children):
            time.sleep(0.2)
        exited = next(child for child in children if child.returncode is not None)
        print(f"  A web process (pid {exited.pid}) exited with {exited.returncode}: stopping the others.",
              file=sys.stderr, flush=True)
        code = 1
    except Stop:
        code = 0
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _stop_all(children)
    return code


def _stop_all(children: list[subprocess.Popen]) -> None:
    for child in children:
        if child.poll() is None:
            child.terminate()
    deadline = time.monotonic() + STOP_GRACE_SECONDS
    for child in children:
        try:
            child.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only say whether the settings allow WEB_PROCESSES")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured

    try:
        reason = refusal(args.host)
    except ImproperlyConfigured as exc:  # a bad value, named by config.env
        reason = str(exc)
    if reason:
        print(f"  Docent cannot start: {reason}", file=sys.stderr)
        return 1
    if args.check:
        return 0
    if settings.WEB_PROCESSES == 1:
        serve_one(args.host, args.port)
    return serve_several(args.host, args.port, settings.WEB_PROCESSES)


if __name__ == "__main__":
    sys.exit(main())
