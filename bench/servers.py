"""Docent (or another ASGI application) served by Daphne in processes of their own, for the benchmarks."""

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
READY_IN_A_ROW = 10


@contextlib.contextmanager
def daphne(application: str, environment: dict[str, str], name: str, log_dir: Path) -> Iterator[tuple[int, int]]:
    """Daphne serving `application` on a free port, its output in `log_dir`/`name`.log; its port and pid."""
    port = free_port()
    with serving([sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), application],
                 environment, port, log_dir / f"{name}.log") as pid:
        yield port, pid


@contextlib.contextmanager
def web_processes(processes: int, environment: dict[str, str], name: str, log_dir: Path) -> Iterator[tuple[int, int]]:
    """Docent as `make run` serves it, WEB_PROCESSES Daphnes on one port (config/webprocesses.py); its port
    and the pid whose process tree they are (the one Daphne itself when there is one). Yielded once /readyz
    answers 200, as `make run` (bin/serve) and a load balancer wait for it before sending anyone."""
    port = free_port()
    with serving([sys.executable, "-m", "config.webprocesses", "--host", "127.0.0.1", "--port", str(port)],
                 {**environment, "WEB_PROCESSES": str(processes)}, port, log_dir / f"{name}.log",
                 ready=answers_ready(port)) as pid:
        yield port, pid


def answers_ready(port: int) -> Callable[[], bool]:
    """Whether the server's /readyz has now answered 200 (its embedding model loaded) READY_IN_A_ROW times in a
    row: several web processes share the port, and each request reaches one of them."""
    in_a_row = 0

    def ready() -> bool:
        nonlocal in_a_row
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=5) as response:
                in_a_row = in_a_row + 1 if response.status == 200 else 0
        except (urllib.error.URLError, OSError):
            in_a_row = 0
        return in_a_row == READY_IN_A_ROW

    return ready


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def serving(command: list[str], environment: dict[str, str], port: int, log_path: Path, *,
            ready: Callable[[], bool] | None = None) -> Iterator[int]:
    """The server's pid once it listens on `port`, and `ready` (if given) says it is ready."""
    with open(log_path, "w") as log:
        process = subprocess.Popen(command, env={**os.environ, **environment}, cwd=PROJECT_ROOT, stdout=log,
                                   stderr=subprocess.STDOUT)
        try:
            wait_until(lambda: listening(port), "listen", process, log_path)
            if ready is not None:
                wait_until(ready, "become ready (/readyz)", process, log_path)
            yield process.pid
        finally:
            process.terminate()
            process.wait(timeout=60)


def listening(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
        return True
    return False


def wait_until(check: Callable[[], bool], what: str, process: subprocess.Popen, log_path: Path) -> None:
    """Until `check()` holds, for two minutes at most; a SystemExit naming the log if the server exits first."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"The server exited; see {log_path}.")
        if check():
            return
        time.sleep(0.2)
    raise SystemExit(f"The server did not {what} within two minutes; see {log_path}.")
