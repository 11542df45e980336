"""Docent (or another ASGI application) served by Daphne in a process of its own, for the benchmarks."""

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
    with socket.socket() as probe:  # a free port
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    log_path = log_dir / f"{name}.log"
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), application],
            env={**os.environ, **environment}, cwd=PROJECT_ROOT, stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_for_port(port, process, log_path)
            yield port, process.pid
        finally:
            process.terminate()
            process.wait(timeout=60)


def wait_for_port(port: int, process: subprocess.Popen, log_path: Path) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"Daphne exited; see {log_path}.")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
            return
        time.sleep(0.2)
    raise SystemExit(f"Daphne did not listen within two minutes; see {log_path}.")
