"""A PostgreSQL primary and a streaming replica of their own, for the tests of the read replica.

The machine's own cluster allows no replication connections, so these two are made from scratch: initdb
a primary that accepts replication, pg_basebackup -R a standby from it, both run by the postgres OS user
from a temporary folder, on free ports, and removed at the end.
"""

import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

PG_BIN = Path("/usr/lib/postgresql/15/bin")
DATABASE = "docent"

PRIMARY_SETTINGS = """
listen_addresses = '127.0.0.1'
port = {port}
unix_socket_directories = '{sockets}'
wal_level = replica
max_wal_senders = 4
hot_standby = on
fsync = off
"""


def _as_postgres(program: str, *args) -> None:
    subprocess.run(["runuser", "-u", "postgres", "--", str(PG_BIN / program), *map(str, args)],
                   check=True, capture_output=True, timeout=60)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass(frozen=True)
class Cluster:
    folder: Path
    port: int

    def start(self) -> None:
        _as_postgres("pg_ctl", "-D", self.folder, "-l", self.folder.parent / f"{self.folder.name}.log", "-w",
                     "start")

    def stop(self) -> None:
        if (self.folder / "postmaster.pid").exists():
            _as_postgres("pg_ctl", "-D", self.folder, "-m", "immediate", "-w", "stop")

    def configure(self, settings: str) -> None:
        with (self.folder / "postgresql.conf").open("a") as conf:
            conf.write(settings)

    def database_settings(self, template: dict) -> dict:
        """Django's settings of the test database `template`, pointed at this cluster's database."""
        return {**template, "HOST": "127.0.0.1", "PORT": self.port, "NAME": DATABASE, "USER": "postgres",
                "PASSWORD": "", "OPTIONS": {}, "TEST": {**template["TEST"], "NAME": DATABASE}}


@contextmanager
def primary_and_replica() -> Iterator[tuple[Cluster, Cluster]]:
    root = Path(tempfile.mkdtemp(prefix="docent-replication-"))
    shutil.chown(root, "postgres", "postgres")
    primary, replica = Cluster(root / "primary", _free_port()), Cluster(root / "replica", _free_port())
    try:
        _as_postgres("initdb", "-D", primary.folder, "-A", "trust", "-U", "postgres", "--no-sync")
        primary.configure(PRIMARY_SETTINGS.format(port=primary.port, sockets=root))
        with (primary.folder / "pg_hba.conf").open("a") as hba:
            hba.write("host replication all 127.0.0.1/32 trust\n")
        primary.start()
        _as_postgres("createdb", "-h", "127.0.0.1", "-p", primary.port, "-U", "postgres", DATABASE)
        _as_postgres("pg_basebackup", "-h", "127.0.0.1", "-p", primary.port, "-U", "postgres",
                     "-D", replica.folder, "-R", "-X", "stream", "-c", "fast")
        replica.configure(f"port = {replica.port}\n")
        replica.start()
        yield primary, replica
    finally:
        for cluster in (replica, primary):
            cluster.stop()
        shutil.rmtree(root, ignore_errors=True)
