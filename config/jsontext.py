"""JSON text as Docent accepts it, from any client: request bodies, WebSocket frames, JSON form fields.

Every string in it (keys too) is valid Unicode without NUL: a lone surrogate (U+D800–U+DFFF, which
JSON's `\\ud800` escape can spell) cannot be encoded as UTF-8, so a response or page holding one
fails to render, and PostgreSQL refuses NUL in text. No container nests deeper than JSON_MAX_DEPTH:
Python's parser recurses once per level and stops with RecursionError near a thousand. Numbers are
finite, as JSON defines them (no NaN, no Infinity, no 1e999). Whatever breaks a rule is refused
whole with an `ApiError` (400 `parse_error` or `invalid_text`).
"""

import json
import math
import re

from django.conf import settings
from django.core.exceptions import ValidationError

from config.errors import ApiError

FORBIDDEN_CHARACTERS = re.compile("[\x00\ud800-\udfff]")
TEXT_RULE = "Text must be valid Unicode, without NUL characters or lone surrogates (\\ud800-\\udfff)"


def loads(text: str | bytes):
    """The value of a JSON text (bytes must be UTF-8), checked; ApiError naming what is wrong."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError:
            raise ApiError("Send JSON as UTF-8 text.", code="invalid_text") from None
    try:
        value = json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float)
    except RecursionError:
        raise _too_deep() from None
    except ValueError as exc:  # JSONDecodeError, and int() past Python's 4300 digits
        raise ApiError(f"Not valid JSON: {exc}.", code="parse_error") from None
    check(value)
    return value


def check(value) -> None:
    """Refuse containers nested past JSON_MAX_DEPTH and strings (keys too) holding NUL or a lone surrogate.

    The walk keeps its own stack rather than recursing, so any depth a parser built is checked.
    Each entry's position is its parent's position and its own key: the path is spelled out only
    when a string is refused.
    """
    max_depth = settings.JSON_MAX_DEPTH
    pending = [(value, 0, None)]
    while pending:
        value, depth, position = pending.pop()
        if isinstance(value, str):
            if FORBIDDEN_CHARACTERS.search(value):
                raise _invalid_text(position)
        elif isinstance(value, (dict, list)):
            if depth >= max_depth:
                raise _too_deep()
            for key, item in value.items() if isinstance(value, dict) else enumerate(value):
                if isinstance(key, str) and FORBIDDEN_CHARACTERS.search(key):
                    raise _invalid_text((position, key))
                pending.append((item, depth + 1, (position, key)))


class JSONTextDecoder(json.JSONDecoder):
    """For a model's JSONField, whose form field (the admin's) and database reads parse with it: JSON text
    that `loads` refuses is invalid JSON there, and a form shows it back as the text that was sent."""

    def decode(self, s, _w=None):
        try:
            return loads(s)
        except ApiError as refused:
            raise json.JSONDecodeError(refused.message, s, 0) from None


def validate_json_text(value) -> None:
    """The same rules for the value of a model's JSONField, when a form (the dashboard's) builds it."""
    try:
        check(value)
    except ApiError as refused:
        raise ValidationError(refused.message, code=refused.code) from None


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not a JSON number")


def _finite_float(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise ValueError(f"{text} is too large a number")
    return number


def _too_deep() -> ApiError:
    return ApiError(f"JSON nested deeper than {settings.JSON_MAX_DEPTH} levels is not accepted.",
                         code="parse_error")


def _invalid_text(position) -> ApiError:
    where = _spelled(position)
    if not where:
        return ApiError(f"{TEXT_RULE}.", code="invalid_text")
    return ApiError(f"{TEXT_RULE}: see {where}.", code="invalid_text", details={where: [f"{TEXT_RULE}."]})


def _spelled(position) -> str:
    """`suggested_questions[0]`, `theme.title`: where a refused string is, safe to send back."""
    keys = []
    while position is not None:
        position, key = position
        keys.append(key)
    path = ""
    for key in reversed(keys):
        if isinstance(key, int):
            path += f"[{key}]"
        else:
            path += ("." if path else "") + FORBIDDEN_CHARACTERS.sub("\ufffd", key)
    return path
