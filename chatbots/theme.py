"""A chatbot's look (`chatbots.theme`): what may be set, how it is checked, and its defaults.

The widget and the iframe page read `Chatbot.theme_with_defaults`, so every setting always has
a value there: an empty `title` means the chatbot's name, an empty `avatar_url` means no avatar.
"""

import re

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator

TITLE_MAX_LENGTH = 60
AVATAR_URL_MAX_LENGTH = 2000
POSITIONS = ("right", "left")

DEFAULT_THEME = {
    "primary_color": "#2f5bea",  # launcher bubble, panel header, the visitor's messages
    "primary_text_color": "#ffffff",  # text and icons on the primary colour
    "background_color": "#ffffff",  # the chat panel
    "text_color": "#1c2430",  # the chatbot's messages
    "position": "right",  # corner of the page the launcher sits in
    "title": "",
    "avatar_url": "",
}
COLOR_KEYS = ("primary_color", "primary_text_color", "background_color", "text_color")

_HEX_COLOR = re.compile(r"#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})")
_https_url = URLValidator(schemes=["https"])


def default_theme() -> dict:
    return dict(DEFAULT_THEME)


def _text(value, *, max_length: int) -> str:
    if not isinstance(value, str):
        raise ValidationError("must be text.")
    value = value.strip()
    if len(value) > max_length:
        raise ValidationError(f"must be at most {max_length} characters (it has {len(value)}).")
    return value


def _color(value) -> str:
    """`#rgb` or `#rrggbb`, returned as lowercase `#rrggbb` (what `<input type=color>` takes)."""
    if not isinstance(value, str) or not _HEX_COLOR.fullmatch(value):
        raise ValidationError("must be a hex colour such as #2f5bea or #fff.")
    digits = value[1:].lower()
    return "#" + ("".join(d * 2 for d in digits) if len(digits) == 3 else digits)


def _position(value) -> str:
    if value not in POSITIONS:
        raise ValidationError("must be right or left.")
    return value


def _avatar_url(value) -> str:
    value = _text(value, max_length=AVATAR_URL_MAX_LENGTH)
    if value:
        try:
            _https_url(value)
        except ValidationError:
            raise ValidationError("must be an https:// address of an image (or empty for none).") from None
    return value


_CLEANERS = {
    **dict.fromkeys(COLOR_KEYS, _color),
    "position": _position,
    "title": lambda value: _text(value, max_length=TITLE_MAX_LENGTH),
    "avatar_url": _avatar_url,
}


def validate_theme(value) -> None:
    """Check theme settings a client sent (any subset of them); name every problem with its key."""
    if not isinstance(value, dict):
        raise ValidationError("Send the theme as a JSON object, for example {\"primary_color\": \"#2f5bea\"}.")
    problems = []
    for key, item in value.items():
        if key not in _CLEANERS:
            problems.append(f"{key}: unknown setting; the theme takes {', '.join(DEFAULT_THEME)}.")
            continue
        try:
            _CLEANERS[key](item)
        except ValidationError as exc:
            problems.append(f"{key}: {exc.messages[0]}")
    if problems:
        raise ValidationError(problems)


def merge_theme(*layers) -> dict:
    """Every setting, each layer's valid values over the previous ones' and over the defaults.

    Writes are validated before they get here; invalid or unknown values (a row written by hand)
    are skipped, so a reader always gets a complete theme that is safe to apply.
    """
    theme = default_theme()
    for layer in layers:
        if not isinstance(layer, dict):
            continue
        for key, value in layer.items():
            if key in _CLEANERS:
                try:
                    theme[key] = _CLEANERS[key](value)
                except ValidationError:
                    pass
    return theme
