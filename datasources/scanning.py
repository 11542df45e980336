"""Virus scanning of uploaded files before they are processed.

`get_scanner().scan(path)` returns when the file may be processed and raises `FileNotClean`
otherwise; the exception's text is the reason shown to the person who uploaded the file.
With ClamAV configured (CLAMD_SOCKET, or CLAMD_HOST and CLAMD_PORT) the file is streamed to
clamd; without it nothing is scanned.
"""

import logging
import socket
import struct
from pathlib import Path
from typing import Protocol

from django.conf import settings

logger = logging.getLogger(__name__)

CHUNK_SIZE = 64 * 1024


class FileNotClean(Exception):
    """The file must not be processed; str() is the reason a person reads."""


class InfectedFile(FileNotClean):
    def __init__(self, signature: str):
        self.signature = signature
        super().__init__(f"The virus scanner found {signature} in this file; it was not accepted.")


class ScanFailed(FileNotClean):
    """A file the scanner could not check is treated as infected: failing open would let malware in."""

    def __init__(self, why: str):
        super().__init__(f"The virus scanner could not check this file ({why}); it was not accepted.")


class Scanner(Protocol):
    def scan(self, path: Path) -> None:
        """Return if the file is clean, raise FileNotClean otherwise."""


class NoScanner:
    """Used when ClamAV is not configured: every file is accepted."""

    def scan(self, path: Path) -> None:
        """Accept the file."""


class ClamdScanner:
    """Speaks clamd's INSTREAM command over a unix socket (a path) or TCP (a (host, port) pair)."""

    def __init__(self, address: str | tuple[str, int], *, connect_timeout: float = 5.0,
                 read_timeout: float = 130.0):
        # clamd gives up on a scan after MaxScanTime (120 s by default), so waiting longer is pointless.
        self.address = address
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout

    def scan(self, path: Path) -> None:
        try:
            with self._connect() as conn:
                reply = self._instream(conn, path)
        except OSError as exc:
            logger.warning("clamd at %s could not scan %s: %r", self.address, path, exc)
            raise ScanFailed(_describe(exc)) from exc
        _check_reply(reply)

    def _connect(self) -> socket.socket:
        if isinstance(self.address, tuple):
            conn = socket.create_connection(self.address, timeout=self.connect_timeout)
        else:
            conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            conn.settimeout(self.connect_timeout)
            try:
                conn.connect(self.address)
            except OSError:
                conn.close()
                raise
        conn.settimeout(self.read_timeout)
        return conn

    def _instream(self, conn: socket.socket, path: Path) -> str:
        conn.sendall(b"zINSTREAM\0")
        try:
            with open(path, "rb") as file:
                while chunk := file.read(CHUNK_SIZE):
                    conn.sendall(struct.pack(">I", len(chunk)) + chunk)
            conn.sendall(struct.pack(">I", 0))
        except (BrokenPipeError, ConnectionResetError):
            # clamd replies and hangs up mid-stream when the file exceeds its StreamMaxLength;
            # that reply is still waiting to be read.
            pass
        return _read_reply(conn)


def _read_reply(conn: socket.socket) -> str:
    reply = b""
    while not reply.endswith(b"\0"):
        data = conn.recv(4096)
        if not data:
            break
        reply += data
    return reply.rstrip(b"\0").decode(errors="replace").strip()


def _check_reply(reply: str) -> None:
    if reply == "stream: OK":
        return
    if reply.startswith("stream: ") and reply.endswith(" FOUND"):
        raise InfectedFile(reply.removeprefix("stream: ").removesuffix(" FOUND"))
    if reply.endswith(" ERROR"):
        message = reply.removeprefix("stream: ").removesuffix(" ERROR").rstrip(".")
        # clamd answers this when the file exceeds its StreamMaxLength.
        too_large = message == "INSTREAM size limit exceeded"
        raise ScanFailed("it is larger than the scanner accepts" if too_large else message)
    raise ScanFailed(f"unexpected answer {reply!r}" if reply else "the scanner hung up without an answer")


def _describe(exc: OSError) -> str:
    if isinstance(exc, FileNotFoundError):
        return "the scanner is not running"
    return (exc.strerror or str(exc)).lower()


def get_scanner() -> Scanner:
    """A unix socket wins over host and port: it is local and needs no network."""
    if settings.CLAMD_SOCKET:
        return ClamdScanner(settings.CLAMD_SOCKET)
    if settings.CLAMD_HOST:
        return ClamdScanner((settings.CLAMD_HOST, settings.CLAMD_PORT))
    return NoScanner()
