"""Real `manage.py db_worker` and Daphne processes for tests, pointed at the test database and media folder.

The tests that use them need `django_db(transaction=True)`: a worker in another process only sees
committed rows.
"""

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote
from urllib.request import urlopen

import pytest
from django.conf import settings
from django.db import connection

from datasources.models import DataSource

ROOT = Path(__file__).resolve().parents[1]


def worker_database_url() -> str:
    """The DATABASE_URL of the database this test runs on (the test database, not the developer's)."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{Path(db['NAME']).resolve()}"
    if connection.vendor == "postgresql":
        user = quote(db["USER"] or "", safe="")
        password = f":{quote(db['PASSWORD'], safe='')}" if db["PASSWORD"] else ""
        port = f":{db['PORT']}" if db["PORT"] else ""
        return f"postgres://{user}{password}@{quote(db['HOST'] or '', safe='')}{port}/{quote(db['NAME'], safe='')}"
    raise NotImplementedError(f"No DATABASE_URL for a {connection.vendor} test database")


def wait_for(condition, *, timeout: float, what: str, interval: float = 0.1):
    """Poll until `condition()` is truthy and return its value; fail naming `what` at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"Gave up after {timeout} s waiting for {what}")
        time.sleep(interval)


@dataclass
class Worker:
    process: subprocess.Popen
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-5000:]

    def assert_running(self) -> None:
        assert self.process.poll() is None, f"The worker exited with {self.process.returncode}:\n{self.output()}"

    def kill(self) -> None:
        """SIGKILL the worker's whole process group, as a machine that dies would stop it."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)

    def finish(self, *, timeout: float) -> str:
        """Wait for a `--batch` worker to exit on its own; its output, or a failure that shows it."""
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(f"The worker did not finish within {timeout} s:\n{self.output()}") from None
        assert self.process.returncode == 0, f"The worker exited with {self.process.returncode}:\n{self.output()}"
        return self.output()


class WorkerProcesses:
    """Starts workers, each in its own process group, and kills those still running at the end."""

    def __init__(self, log_dir: Path):
        self.log_dir = log_dir
        self.started: list[Worker] = []

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        for worker in self.started:
            if worker.process.poll() is None:
                worker.kill()

    def environment(self, **overrides: str) -> dict:
        """This test's database, media folder and processing settings, for a process of Docent's."""
        return {
            **os.environ,
            "DATABASE_URL": worker_database_url(),
            "MEDIA_ROOT": str(settings.MEDIA_ROOT),
            "HF_HUB_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1",
            "DEBUG": "1",
            "PROCESSING_STALE_SECONDS": str(settings.PROCESSING_STALE_SECONDS),
            "PROCESSING_MAX_ATTEMPTS": str(settings.PROCESSING_MAX_ATTEMPTS),
            **overrides,
        }

    def start(self, *args: str) -> Worker:
        """`manage.py db_worker ARGS`, with this test's database, media folder and processing settings."""
        return self._launch("worker", [sys.executable, "manage.py", "db_worker", "--no-reload", "--no-startup-delay",
                                       "--interval", "0.2", *args], self.environment())

    def serve(self, *, web_processes: int = 1, **environment: str) -> str:
        """Daphne serving Docent (HTTP and WebSocket) on a free port, as `make run` does (`web_processes`
        Daphnes sharing the port: config.webprocesses); its base URL."""
        port = free_port()
        server = self._launch("daphne", [sys.executable, "-m", "config.webprocesses", "--port", str(port)],
                              self.environment(WEB_PROCESSES=str(web_processes), **environment))
        url = f"http://127.0.0.1:{port}"

        def answers() -> bool:
            server.assert_running()
            try:
                with urlopen(f"{url}/healthz", timeout=2) as response:
                    return response.status == 200
            except OSError:
                return False

        wait_for(answers, timeout=60, what=f"Daphne to answer on {url}", interval=0.3)
        return url

    def _launch(self, name: str, command: list[str], environment: dict) -> Worker:
        log = self.log_dir / f"{name}-{len(self.started) + 1}.log"
        with open(log, "wb") as output:
            process = subprocess.Popen(command, cwd=ROOT, env=environment, stdout=output, stderr=subprocess.STDOUT,
                                       start_new_session=True)
        worker = Worker(process, log)
        self.started.append(worker)
        return worker


def skip_unless_web_processes_can_share() -> None:
    """Several web processes need what they share (config.webprocesses): CI's PostgreSQL + Redis run has it."""
    if connection.vendor != "postgresql" or not settings.REDIS_URL:
        pytest.skip("several web processes share a database server and Redis: "
                    "run with DATABASE_URL=postgres://… REDIS_URL=redis://…")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_stage(worker: Worker, data_source_id: str, stage: str, *, timeout: float) -> DataSource:
    """Poll the data source until the worker reports `stage`; fail at once if the worker dies or the run ends."""

    def reached():
        worker.assert_running()
        data_source = DataSource.objects.get(pk=data_source_id)
        assert data_source.status == DataSource.Status.PROCESSING, (
            f"The file ended {data_source.status} before the worker reached {stage!r}: {data_source.error_message}")
        return data_source if data_source.stage == stage else None

    return wait_for(reached, timeout=timeout, what=f"the worker to reach the {stage!r} stage")
