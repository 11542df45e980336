"""A real clamd for the tests, loading one local signature that matches the EICAR test file.

No signature download is possible (or wanted) in tests, so the database directory holds only
the signature written here; a one-signature database also lets clamd start in well under a second.
"""

import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

INSTALL_HINT = "apt-get update && apt-get install -y clamav-daemon"
SIGNATURE = "Docent.Test.EICAR"
# The database is not signed by ClamAV, so clamd reports the name with this suffix.
REPORTED_SIGNATURE = f"{SIGNATURE}.UNOFFICIAL"
STREAM_MAX_MB = 8
START_TIMEOUT = 20.0


def eicar() -> bytes:
    """The standard antivirus test string, assembled here so no file in the repository carries it."""
    return ("X5O!P%@AP[4\\PZX54(P^)7CC)7}$" + "EICAR-STANDARD-ANTIVIRUS-" + "TEST-FILE!$H+H*").encode()


@dataclass
class Clamd:
    process: subprocess.Popen
    socket_path: str
    tcp_port: int
    log_path: Path

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.process.poll() is not None:
            return
        # clamd was started in its own session, so the group holds clamd and nothing of ours.
        os.killpg(self.process.pid, sig)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


def start_clamd(directory: Path) -> Clamd:
    executable = shutil.which("clamd", path=f"{os.environ.get('PATH', '')}:/usr/sbin:/sbin")
    if executable is None:
        pytest.fail(f"clamd is not installed; the scanning tests need a real one. Install it with: {INSTALL_HINT}")
    database = directory / "db"
    database.mkdir()
    (database / "docent-test.ndb").write_text(f"{SIGNATURE}:0:*:{eicar().hex()}\n")
    socket_path = str(directory / "clamd.sock")
    tcp_port = _free_tcp_port()
    log_path = directory / "clamd.log"
    config = directory / "clamd.conf"
    config.write_text(_config(socket_path, tcp_port, database))
    with open(log_path, "wb") as log:
        process = subprocess.Popen([executable, "--config-file", str(config)], stdout=log,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    clamd = Clamd(process, socket_path, tcp_port, log_path)
    _wait_until_answering(clamd)
    return clamd


def _config(socket_path: str, tcp_port: int, database: Path) -> str:
    # No User line: clamd then keeps the identity of whoever runs the tests.
    return "\n".join([
        "Foreground yes",
        f"LocalSocket {socket_path}",
        "TCPAddr 127.0.0.1",
        f"TCPSocket {tcp_port}",
        f"DatabaseDirectory {database}",
        f"StreamMaxLength {STREAM_MAX_MB}M",
        "",
    ])


def _free_tcp_port() -> int:
    # clamd cannot report a port chosen by the kernel, so borrow one and hand it over.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_until_answering(clamd: Clamd) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if clamd.process.poll() is not None:
            pytest.fail(f"clamd exited with {clamd.process.returncode}:\n{clamd.log_path.read_text()}")
        if _answers_ping(clamd.socket_path):
            return
        time.sleep(0.02)
    clamd.stop(signal.SIGKILL)
    pytest.fail(f"clamd did not answer PING within {START_TIMEOUT} s:\n{clamd.log_path.read_text()}")


def _answers_ping(socket_path: str) -> bool:
    try:
        with socket.socket(socket.AF_UNIX) as conn:
            conn.settimeout(1)
            conn.connect(socket_path)
            conn.sendall(b"zPING\0")
            return conn.recv(16) == b"PONG\0"
    except OSError:
        return False


@pytest.fixture(scope="session", name="clamd")
def clamd_session(tmp_path_factory) -> Iterator[Clamd]:
    """One clamd for the whole session, listening on a unix socket and on 127.0.0.1."""
    running = start_clamd(tmp_path_factory.mktemp("clamd"))
    yield running
    running.stop()
