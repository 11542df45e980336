"""One attempt at one delivery, as the webhooks worker makes it, and what follows from its outcome.

A 2xx answer delivers it. Anything else (another status, a redirect, a timeout, a refused address)
is retried after RETRY_DELAYS, more than a day in all; then the delivery is failed, and an endpoint
whose deliveries failed WEBHOOK_DISABLE_AFTER_FAILURES times in a row is switched off and its
company's owners are told by email.
"""

import json
import logging
import smtplib
import time
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db.models import F
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from accounts.models import User
from accounts.roles import Role
from config import outbound
from webhooks import signing
from webhooks.models import MAX_RESPONSE_BYTES, Delivery, Endpoint

logger = logging.getLogger(__name__)

# 8 attempts over 44 hours and a half.
RETRY_DELAYS = [timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=30), timedelta(hours=2),
                timedelta(hours=6), timedelta(hours=12), timedelta(hours=24)]
USER_AGENT = "Docent-Webhooks/1"


def attempt(delivery_id: str) -> datetime | None:
    """Send the delivery once, if it still waits; when to try again, or None."""
    delivery = Delivery.objects.select_related("endpoint", "event").filter(
        pk=delivery_id, status=Delivery.Status.PENDING).first()
    if delivery is None:
        return None  # delivered, failed, or deleted with its endpoint
    if not delivery.endpoint.enabled:
        _finish(delivery, Delivery.Status.FAILED, error="Not sent: the endpoint is switched off.")
        return None
    code, body, error = _send(delivery)
    delivery.attempts += 1
    delivery.last_attempt_at = timezone.now()
    delivery.response_code, delivery.response_body, delivery.error = code, body, error
    if not error:
        _finish(delivery, Delivery.Status.SUCCEEDED)
        Endpoint.objects.filter(pk=delivery.endpoint_id).update(consecutive_failures=0)
        return None
    if delivery.attempts <= len(RETRY_DELAYS):
        delivery.next_attempt_at = delivery.last_attempt_at + RETRY_DELAYS[delivery.attempts - 1]
        delivery.save()
        return delivery.next_attempt_at
    _finish(delivery, Delivery.Status.FAILED)
    _endpoint_failed(delivery.endpoint)
    return None


def recover_lost() -> list[Delivery]:
    """Deliveries whose task will never run: its worker was killed mid-attempt (the task stays RUNNING far
    longer than an attempt can take) or it was never queued. Run when a webhooks worker starts; the caller
    queues them again (a receiver may then get an event twice: event ids tell)."""
    lost_before = timezone.now() - timedelta(seconds=settings.WEBHOOK_TIMEOUT_SECONDS + 60)
    DBTaskResult.objects.filter(status=TaskResultStatus.RUNNING, started_at__lt=lost_before).filter(
        task_path__startswith="webhooks.").update(status=TaskResultStatus.FAILED, finished_at=timezone.now())
    alive = DBTaskResult.objects.filter(status__in=[TaskResultStatus.READY, TaskResultStatus.RUNNING]).values("id")
    return list(Delivery.objects.filter(status=Delivery.Status.PENDING, created_at__lt=lost_before)
                .exclude(task_id__in=alive))


def signing_secrets(endpoint: Endpoint) -> list[str]:
    """The current secret, and the previous one while a rotation's grace period lasts."""
    encrypted = [endpoint.secret_encrypted]
    if endpoint.previous_secret_valid():
        encrypted.append(endpoint.previous_secret_encrypted)
    return [signing.decrypt(token) for token in encrypted]


def _send(delivery: Delivery) -> tuple[int | None, str, str]:
    """(response code, the answer's first 2 KB, why it failed or "")."""
    event = delivery.event
    body = json.dumps(event.body()).encode()
    try:
        timestamp = int(time.time())
        headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT,
                   "Docent-Event-Id": str(event.id), "Docent-Event-Type": event.type,
                   "Docent-Timestamp": str(timestamp),
                   "Docent-Signature": signing.signature_header(signing_secrets(delivery.endpoint), timestamp, body)}
        answer = outbound.post(delivery.endpoint.url, body=body, headers=headers,
                              timeout=settings.WEBHOOK_TIMEOUT_SECONDS, max_body=MAX_RESPONSE_BYTES)
    except (outbound.Refused, outbound.SendFailed, signing.SecretsUnavailable) as exc:
        return None, "", str(exc)
    except Exception as exc:  # a delivery must end logged and retried, never stuck pending
        logger.exception("Webhook delivery %s failed unexpectedly", delivery.pk)
        return None, "", f"Sending failed unexpectedly ({type(exc).__name__}); it will be tried again."
    text = answer.body.decode("utf-8", errors="replace")
    if 200 <= answer.status < 300:
        return answer.status, text, ""
    if 300 <= answer.status < 400:
        return answer.status, text, f"Redirected to {answer.location or 'another address'}: redirects are not followed."
    return answer.status, text, f"The receiver answered {answer.status}."


def _finish(delivery: Delivery, status: str, *, error: str | None = None) -> None:
    delivery.status = status
    delivery.next_attempt_at = None
    if error is not None:
        delivery.error = error
    delivery.save()


def _endpoint_failed(endpoint: Endpoint) -> None:
    Endpoint.objects.filter(pk=endpoint.pk).update(consecutive_failures=F("consecutive_failures") + 1)
    endpoint.refresh_from_db(fields=["consecutive_failures", "enabled"])
    limit = settings.WEBHOOK_DISABLE_AFTER_FAILURES
    if not endpoint.enabled or endpoint.consecutive_failures < limit:
        return
    reason = (f"Switched off by Docent on {timezone.now():%Y-%m-%d %H:%M} UTC: {endpoint.consecutive_failures} "
              f"deliveries in a row failed after all their retries.")
    if Endpoint.objects.filter(pk=endpoint.pk, enabled=True).update(enabled=False, disabled_reason=reason):
        _tell_owners(endpoint, reason)


def _tell_owners(endpoint: Endpoint, reason: str) -> None:
    owners = list(User.objects.filter(company_id=endpoint.company_id, role=Role.OWNER, is_active=True)
                  .values_list("email", flat=True))
    if not owners:
        return
    body = (f"Docent stopped sending events to your webhook endpoint\n\n    {endpoint.url}\n\n{reason}\n\n"
            "Its delivery log (Settings → Webhooks in Docent) shows what the receiver answered. Once it works "
            "again, switch the endpoint on there, and use “Send again” for the deliveries it missed.\n")
    try:
        send_mail("Docent switched off a webhook endpoint", body, None, owners)
    except (smtplib.SMTPException, OSError):
        logger.exception("Could not email the owners of company %s about webhook endpoint %s",
                         endpoint.company_id, endpoint.pk)
