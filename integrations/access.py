"""Who may talk to a chatbot: the one key-and-origin check that HTTP views and WebSocket consumers share.

Visitors (widget, iframe page) present a chatbot's publishable key from a page whose Origin is
on the integration's allow-list; servers present an `api` integration's secret key. Until staff
add their site's origin, only Docent's own pages (the dashboard preview and the embed page,
which are same-origin) may use a publishable key.
"""

import ipaddress
import re
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit

from django.db.models import Q
from django.utils import timezone

from chatbots.models import Chatbot
from integrations import keys
from integrations.models import CompanyApiKey, Integration, RotatingKey

LAST_USED_PRECISION = timedelta(minutes=1)  # record use at most once a minute per key


class AccessDenied(Exception):
    """Refused, with a code and a message for the caller; `status` is the HTTP status to answer."""

    def __init__(self, message: str, *, code: str, status: int):
        super().__init__(message)
        self.message, self.code, self.status = message, code, status


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
    """A publishable key for this chatbot, presented from an allowed origin, while both are active."""
    integration = _integration_by_key(key, Integration.PUBLISHABLE_TYPES)
    if integration is None or str(integration.chatbot_id) != str(chatbot_id):
        raise AccessDenied("This key does not open this chatbot.", code="invalid_key", status=401)
    if not origin_allowed(integration, origin, own_origin):
        raise AccessDenied("This website is not allowed to use this chatbot; add its origin to the "
                           "integration's allowed origins.", code="origin_not_allowed", status=403)
    if not integration.chatbot.is_active:
        raise AccessDenied(UNAVAILABLE, code="unavailable", status=403)
    touch(integration)
    return VisitorAccess(integration=integration, chatbot=integration.chatbot)


def authorize_server(*, key: str) -> VisitorAccess:
    """A secret key of an `api` integration (server to server): any origin, one chatbot."""
    integration = _integration_by_key(key, (Integration.Type.API,))
    if integration is None:
        raise AccessDenied("Unknown, rotated or revoked API key.", code="invalid_key", status=401)
    if not integration.chatbot.is_active:
        raise AccessDenied(UNAVAILABLE, code="unavailable", status=403)
    touch(integration)
    return VisitorAccess(integration=integration, chatbot=integration.chatbot)


def company_key(key: str) -> CompanyApiKey | None:
    """The company API key `key` is, if it is well formed, current (or in its grace period) and not revoked."""
    if not key.startswith((keys.READ_WRITE, keys.READ_ONLY)):
        return None
    found = _current(CompanyApiKey.objects.select_related("company", "created_by"), key)
    if found is not None:
        touch(found)
    return found


def _integration_by_key(key: str, types) -> Integration | None:
    return _current(Integration.objects.select_related("chatbot", "company").filter(type__in=types), key)


def _current(queryset, key: str) -> RotatingKey | None:
    """The record `key` belongs to: its current key, or its previous one within the grace period."""
    if not keys.well_formed(key):
        return None
    secret = not key.startswith(keys.PUBLISHABLE)
    identifier = keys.public_id(key) if secret else key
    now = timezone.now()
    record = queryset.filter(Q(api_key=identifier) | Q(previous_api_key=identifier, previous_valid_until__gt=now),
                             revoked_at__isnull=True).first()
    if record is None:
        return None
    if not secret:
        return record
    stored_hash = record.key_hash if record.api_key == identifier else record.previous_key_hash
    return record if keys.matches(key, stored_hash) else None


def touch(record: RotatingKey) -> None:
    now = timezone.now()
    if record.last_used_at is None or now - record.last_used_at > LAST_USED_PRECISION:
        type(record).objects.filter(pk=record.pk).update(last_used_at=now)
        record.last_used_at = now
