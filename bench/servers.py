"""Docent (or another ASGI application) served by Daphne in processes of their own, for the benchmarks."""

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]


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
    and the pid whose process tree they are (the one Daphne itself when there is one)."""
    port = free_port()
    with serving([sys.executable, "-m", "config.webprocesses", "--host", "127.0.0.1", "--port", str(port)],
                 {**environment, "WEB_PROCESSES": str(processes)}, port, log_dir / f"{name}.log") as pid:
        yield port, pid


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def serving(command: list[str], environment: dict[str, str], port: int, log_path: Path) -> Iterator[int]:
    with open(log_path, "w") as log:
        process = subprocess.Popen(command, env={**os.environ, **environment}, cwd=PROJECT_ROOT, stdout=log,
                                   stderr=subprocess.STDOUT)
        try:
            wait_for_port(port, process, log_path)
            yield process.pid
        finally:
            process.terminate()
            process.wait(timeout=60)


def wait_for_port(port: int, process: subprocess.Popen, log_path: Path) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"The server exited; see {log_path}.")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
            return
        time.sleep(0.2)
    raise SystemExit(f"The server did not listen within two minutes; see {log_path}.")
