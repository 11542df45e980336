"""File names: what the user sees (their own name) and what storage gets (a safe one)."""

import re
import unicodedata
from pathlib import PurePosixPath, PureWindowsPath

MAX_NAME_LENGTH = 200
_UNSAFE = re.compile(r"[^A-Za-z0-9._ -]+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def display_name(raw: str) -> str:
    """The user's own base name, minus any folders and control characters."""
    base = PureWindowsPath(PurePosixPath(raw or "").name).name
    base = _CONTROL.sub("", unicodedata.normalize("NFC", base)).strip()
    return base[:MAX_NAME_LENGTH] or "file"


def storage_name(raw: str) -> str:
    """A name safe on any file system and in any URL: ASCII letters, digits, dot, dash, underscore."""
    name = unicodedata.normalize("NFKD", display_name(raw)).encode("ascii", "ignore").decode()
    name = _UNSAFE.sub("_", name).replace(" ", "_").strip("._-")
    name = re.sub(r"_{2,}", "_", name)
    stem, dot, suffix = name.rpartition(".")
    if not dot:
        stem, suffix = name, ""
    stem = stem[: 120] or "file"
    return f"{stem}.{suffix[:10]}" if suffix else stem


def storage_path(*, company_id, data_source_id, name: str) -> str:
    return f"companies/{company_id}/datasources/{data_source_id}/{storage_name(name)}"
