"""Docent's own source code as a digest: what a kept result (a cached answer, a benchmark's load) was made by."""

import hashlib
from collections.abc import Iterable
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def source_digest(entries: Iterable[str]) -> str:
    """SHA-256 over the Python source of these files and folders (relative to the project's root), file by
    file in a fixed order: any change to that code changes it."""
    digest = hashlib.sha256()
    for entry in entries:
        path = PROJECT_ROOT / entry
        for source in sorted(path.rglob("*.py")) if path.is_dir() else [path]:
            digest.update(str(source.relative_to(PROJECT_ROOT)).encode() + b"\0" + source.read_bytes())
    return digest.hexdigest()
