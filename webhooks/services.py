"""Writes for webhooks: endpoints (create, change, rotate their secret, delete), events, send again.

`emit` is how the apps above announce what happened: it records the event and one delivery per
endpoint that wants it, and queues them when the caller's transaction commits. Nothing is sent
here, ever: the webhooks worker sends (webhooks.tasks).
"""

import uuid
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.models import Company
from config import outbound
from config.errors import ApiError
from webhooks import signing
from webhooks.models import Delivery, Endpoint, Event, EventType
from webhooks.tasks import queue

SHOWN_ONCE = ("Copy this signing secret now: it is shown only once. Docent keeps it encrypted to sign "
              "deliveries and cannot show it again; rotate it to get a new one.")


@dataclass(frozen=True)
class IssuedSecret:
    """An endpoint and, right after it was made or rotated, its new secret (shown once)."""

    record: Endpoint
    secret: str | None


def clean_url(url: str) -> str:
    try:
        outbound.parse_target(url)
    except outbound.Refused as exc:
        raise ApiError(str(exc), code="invalid", details={"url": [str(exc)]}) from None
    return url.strip()


def clean_events(events: list[str]) -> list[str]:
    if not events:
        raise ApiError("Choose at least one event.", code="invalid", details={"events": ["Choose at least one event."]})
    return list(dict.fromkeys(events))


def endpoint_create(*, company: Company, created_by, url: str, events: list[str], description: str = "",
                    enabled: bool = True) -> IssuedSecret:
    secret = signing.new_secret()
    endpoint = Endpoint.objects.create(company=company, created_by=created_by, url=clean_url(url),
                                       events=clean_events(events), description=description.strip(),
                                       enabled=enabled, secret_encrypted=signing.encrypt(secret),
                                       secret_last_four=secret[-4:])
    return IssuedSecret(record=endpoint, secret=secret)


def endpoint_update(*, endpoint: Endpoint, **changes) -> Endpoint:
    """Change the URL, events, description or on/off; switching it on forgets the failures that switched it off."""
    if "url" in changes:
        endpoint.url = clean_url(changes["url"])
    if "events" in changes:
        endpoint.events = clean_events(changes["events"])
    if "description" in changes:
        endpoint.description = changes["description"].strip()
    if changes.get("enabled") and not endpoint.enabled:
        endpoint.consecutive_failures, endpoint.disabled_reason = 0, ""
    if "enabled" in changes:
        endpoint.enabled = changes["enabled"]
    endpoint.save()
    return endpoint


def endpoint_rotate_secret(*, endpoint: Endpoint) -> IssuedSecret:
    """A new signing secret; the current one goes on signing beside it for WEBHOOK_SECRET_GRACE_HOURS,
    so the receiver can switch without missing a delivery."""
    secret = signing.new_secret()
    grace = timedelta(hours=settings.WEBHOOK_SECRET_GRACE_HOURS)
    endpoint.previous_secret_encrypted = endpoint.secret_encrypted if grace else ""
    endpoint.previous_valid_until = timezone.now() + grace if grace else None
    endpoint.secret_encrypted, endpoint.secret_last_four = signing.encrypt(secret), secret[-4:]
    endpoint.save()
    return IssuedSecret(record=endpoint, secret=secret)


def endpoint_delete(*, endpoint: Endpoint) -> None:
    endpoint.delete()


def emit(*, company_id: uuid.UUID, type: EventType, data: dict) -> None:
    """Record that `type` happened to the object `data` describes, for each of the company's endpoints that
    want it, and queue the deliveries once the caller's transaction commits. `data` carries what the event
    is about and nothing that opens anything (never a conversation's session id or secret)."""
    endpoints = [endpoint for endpoint in Endpoint.objects.filter(company_id=company_id, enabled=True)
                 if type in endpoint.events]
    if not endpoints:
        return
    with transaction.atomic():
        event = Event.objects.create(company_id=company_id, type=type, data=data)
        deliveries = Delivery.objects.bulk_create(
            [Delivery(company_id=company_id, endpoint=endpoint, event=event) for endpoint in endpoints])
        _queue(deliveries)


def delivery_resend(*, delivery: Delivery) -> Delivery:
    """Send the delivery's event to its endpoint again, as a new delivery with the same event id."""
    endpoint = delivery.endpoint
    if not endpoint.enabled:
        raise ApiError("This endpoint is switched off: switch it on to send again.", code="endpoint_disabled",
                       status_code=409)
    again = Delivery.objects.create(company_id=delivery.company_id, endpoint=endpoint, event=delivery.event)
    _queue([again])
    return again


def _queue(deliveries: list[Delivery]) -> None:
    def enqueue():
        for delivery in deliveries:
            queue(str(delivery.id))

    transaction.on_commit(enqueue)
