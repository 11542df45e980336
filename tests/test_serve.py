"""`make run`'s processes (bin/serve): Ctrl-C stops the web server and both task workers, cleanly, and says so."""

import os
import signal
import socket
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from tests.worker_processes import ROOT, WorkerProcesses, free_port, skip_unless_web_processes_can_share, wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def processes_marked(marker: str) -> list[int]:
    """Processes whose environment carries `marker`: what bin/serve started and left running, if anything."""
    found = []
    for environ in Path("/proc").glob("[0-9]*/environ"):
        try:
            if marker.encode() in environ.read_bytes():
                found.append(int(environ.parent.name))
        except OSError:  # exited meanwhile, or not ours to read
            continue
    return found


def accepts_connections(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


@pytest.mark.parametrize("web_processes", [1, 2])
def test_ctrl_c_stops_web_and_worker_and_says_so(tmp_path, web_processes):
    if web_processes > 1:
        skip_unless_web_processes_can_share()
    port = free_port()
    marker = f"serve-test-{uuid.uuid4().hex}"
    environment = WorkerProcesses(tmp_path).environment(PY=sys.executable, PORT=str(port), SERVE_TEST_MARKER=marker,
                                                        WEB_PROCESSES=str(web_processes))
    log = tmp_path / "serve.log"
    with open(log, "wb") as output:
        # A session of its own, as a terminal's foreground job: Ctrl-C signals the whole group.
        serve = subprocess.Popen([str(ROOT / "bin" / "serve")], cwd=ROOT, env=environment, stdout=output,
                                 stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_for(lambda: serve.poll() is not None or "Docent is running" in log.read_text(), timeout=120,
                 what="bin/serve to say Docent is running")
        assert serve.poll() is None, log.read_text()
        # The script, the file worker, the webhooks worker, and one Daphne, or several and what supervises them.
        assert len(processes_marked(marker)) >= 3 + (1 if web_processes == 1 else 1 + web_processes)
        os.killpg(serve.pid, signal.SIGINT)
        serve.wait(timeout=60)
        left_running = processes_marked(marker)
    finally:
        for pid in processes_marked(marker):
            os.kill(pid, signal.SIGKILL)
    output = log.read_text()
    assert serve.returncode == 0, output
    assert "Docent stopped." in output
    assert "Segmentation fault" not in output and "Traceback" not in output
    assert left_running == [] and not accepts_connections(port)


def test_several_web_processes_without_redis_and_a_database_server_refuse_to_start_and_say_why(tmp_path):
    port = free_port()
    environment = WorkerProcesses(tmp_path).environment(
        PY=sys.executable, PORT=str(port), WEB_PROCESSES="2", REDIS_URL="",
        DATABASE_URL=f"sqlite:///{tmp_path / 'docent.sqlite3'}", DB_ALL_COMPANIES_ROLE="", DATABASE_OWNER_URL="")
    serve = subprocess.run([str(ROOT / "bin" / "serve")], cwd=ROOT, env=environment, capture_output=True, text=True,
                           timeout=60)
    assert serve.returncode == 1
    assert "WEB_PROCESSES=2 needs REDIS_URL" in serve.stderr
    assert "a DATABASE_URL of a database server such as PostgreSQL (not a SQLite file)" in serve.stderr
    assert "Traceback" not in serve.stderr and not accepts_connections(port)
