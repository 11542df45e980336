"""Typed readers for environment variables that fail loudly, naming the variable."""

import os
import re
from decimal import Decimal, InvalidOperation
from urllib.parse import urlparse

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def _bad(name: str, value: str, expected: str) -> ImproperlyConfigured:
    return ImproperlyConfigured(f"Environment variable {name}={value!r} is invalid: expected {expected}.")


def envstr(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


def envbool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise _bad(name, raw, "one of 1/0, true/false, yes/no, on/off")


def envint(name: str, default: int, *, minimum: int | None = None) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        raise _bad(name, raw, "an integer") from None
    if minimum is not None and value < minimum:
        raise _bad(name, raw, f"an integer >= {minimum}")
    return value


def envlist(name: str, default: list[str] | None = None) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return list(default or [])
    return [item.strip() for item in raw.split(",") if item.strip()]


def envchoice(name: str, default: str, choices: tuple[str, ...]) -> str:
    value = envstr(name, default).lower()
    if value not in choices:
        raise _bad(name, value, "one of " + ", ".join(choices))
    return value


def envurl(name: str, default: str = "", *, schemes: tuple[str, ...] = ("http", "https")) -> str:
    value = envstr(name, default)
    if not value:
        return ""
    parsed = urlparse(value)
    if parsed.scheme not in schemes or not (parsed.netloc or parsed.path):
        raise _bad(name, value, "a URL starting with " + " or ".join(f"{s}://" for s in schemes))
    return value


def envrate(name: str, default: str) -> str:
    """A rate such as "60/m": a count per second (s), minute (m), hour (h) or day (d)."""
    value = envstr(name, default)
    if not re.fullmatch(r"[1-9]\d*/\d*[smhd]", value):
        raise _bad(name, value, 'a count per period such as "60/m" (periods: s, m, h, d)')
    return value


def envfloat(name: str, *, minimum: float, maximum: float) -> float | None:
    """A number from `minimum` to `maximum`; None when the variable is unset or empty."""
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return None
    try:
        value = float(raw.strip())
    except ValueError:
        raise _bad(name, raw, "a number") from None
    if not minimum <= value <= maximum:
        raise _bad(name, raw, f"a number from {minimum:g} to {maximum:g}")
    return value


def envdecimal(name: str, default: str, *, minimum: Decimal | None = None) -> Decimal:
    raw = os.environ.get(name)
    try:
        value = Decimal((raw or default).strip())
    except InvalidOperation:
        raise _bad(name, raw, "a decimal number such as 0.15") from None
    if not value.is_finite() or (minimum is not None and value < minimum):
        raise _bad(name, raw, f"a decimal number >= {minimum}")
    return value
