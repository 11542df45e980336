"""Who may talk to a chatbot: the one key-and-origin check that HTTP views and WebSocket consumers share.

Visitors (widget, iframe page) present a chatbot's publishable key from a page whose Origin is
on the integration's allow-list; servers present an `api` integration's secret key. Until staff
add their site's origin, only Docent's own pages (the dashboard preview and the embed page,
which are same-origin) may use a publishable key.
"""

import ipaddress
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from accounts.selectors import key_record
from chatbots.models import Chatbot
from config.errors import ApiError
from integrations import refusals
from integrations.models import Integration

UNAVAILABLE = "This chatbot is unavailable."


@dataclass(frozen=True)
class VisitorAccess:
    integration: Integration
    chatbot: Chatbot


_DEFAULT_PORTS = {"http": 80, "https": 443}
_HOSTNAME = re.compile(r"[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*")


def site_origin(request) -> str:
    """Docent's own origin for this request: where its pages live and its snippets point."""
    return f"{request.scheme}://{request.get_host()}"


def normalize_origin(value: str) -> str | None:
    """`scheme://host[:port]` as a browser sends it in `Origin` (lower case, IDN as punycode, no
    default port), or None when `value` is not an http(s) origin: paths, wildcards, credentials,
    a malformed host or port are refused."""
    parts = urlsplit((value or "").strip())
    try:
        port = parts.port
    except ValueError:  # not a number, or out of range
        return None
    if parts.scheme not in _DEFAULT_PORTS or not parts.hostname or parts.path not in ("", "/"):
        return None
    if parts.query or parts.fragment or parts.username or parts.password:
        return None
    host = _host(parts.hostname)
    if host is None:
        return None
    port_part = "" if port in (None, _DEFAULT_PORTS[parts.scheme]) else f":{port}"
    return f"{parts.scheme}://{host}{port_part}"


def _host(hostname: str) -> str | None:
    if ":" in hostname:
        try:
            return f"[{ipaddress.IPv6Address(hostname).compressed}]"
        except ValueError:
            return None
    try:
        ascii_host = hostname.encode("idna").decode("ascii").lower()
    except UnicodeError:
        return None
    return ascii_host if _HOSTNAME.fullmatch(ascii_host) else None


def origin_allowed(integration: Integration, origin: str | None, own_origin: str) -> bool:
    """Docent's own pages always; other sites only when staff listed them."""
    origin = normalize_origin(origin or "")
    if origin is None:
        return False
    return origin == normalize_origin(own_origin) or origin in integration.allowed_origins


def authorize_visitor(*, chatbot_id, key: str, origin: str | None, own_origin: str) -> VisitorAccess:
    """A publishable key for this chatbot, presented from an allowed origin, while both are active;
    otherwise an ApiError whose code the widget reads (invalid_key, origin_not_allowed, unavailable)."""
    integration = _integration_by_key(key, Integration.PUBLISHABLE_TYPES)
    if integration is None or str(integration.chatbot_id) != str(chatbot_id):
        raise ApiError("This key does not open this chatbot.", code="invalid_key", status_code=401)
    if not origin_allowed(integration, origin, own_origin):
        refused = normalize_origin(origin or "")
        if refused:
            refusals.refusal_record(integration=integration, origin=refused)
        raise ApiError("This website is not allowed to use this chatbot; add its origin to the "
                       "integration's allowed origins.", code="origin_not_allowed", status_code=403)
    if not integration.chatbot.is_active:
        raise ApiError(UNAVAILABLE, code="unavailable", status_code=403)
    integration.note_use()
    return VisitorAccess(integration=integration, chatbot=integration.chatbot)


def authorize_server(*, key: str) -> VisitorAccess:
    """A secret key of an `api` integration (server to server): any origin, one chatbot."""
    integration = _integration_by_key(key, (Integration.Type.API,))
    if integration is None:
        raise ApiError("Unknown, rotated or revoked API key.", code="invalid_key", status_code=401)
    if not integration.chatbot.is_active:
        raise ApiError(UNAVAILABLE, code="unavailable", status_code=403)
    integration.note_use()
    return VisitorAccess(integration=integration, chatbot=integration.chatbot)


def _integration_by_key(key: str, types) -> Integration | None:
    # With the chatbot's company, which the rate limits read next (its plan): one query fewer per question.
    return key_record(Integration.objects.select_related("chatbot__company", "company").filter(type__in=types), key)
