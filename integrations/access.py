"""Who may talk to a chatbot: the one key-and-origin check that HTTP views and WebSocket consumers share.

Visitors (widget, iframe page) present a chatbot's publishable key from a page whose Origin is
on the integration's allow-list; servers present an `api` integration's secret key. Until staff
add their site's origin, only Docent's own pages (the dashboard preview and the embed page,
which are same-origin) may use a publishable key.
"""

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


def normalize_origin(value: str) -> str | None:
    """`scheme://host[:port]` in lower case, or None when `value` is not an http(s) origin."""
    parts = urlsplit((value or "").strip())
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.path not in ("", "/"):
        return None
    if parts.query or parts.fragment or parts.username or parts.password:
        return None
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{parts.hostname.lower()}{port}"


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
