"""Webhook deliveries end to end: a local receiver verifies signatures, fails, answers slowly and
redirects; the webhooks worker retries with backoff, logs each attempt and never follows a redirect."""

import datetime
import json
import socket

import pytest
import time_machine
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from tests.fakes.http import serve
from tests.fakes.webhook_receiver import Receiver
from tests.ingestion import run_worker
from tests.webhooks import only_delivery, run_webhooks_worker
from webhooks import services, signing
from webhooks.delivery import RETRY_DELAYS
from webhooks.models import Delivery, Endpoint, EventType

pytestmark = pytest.mark.django_db(transaction=True)

READY = EventType.DATA_SOURCE_READY
REPORT = {"id": "8d5e0a0c-0000-4000-8000-000000000001", "name": "report.pdf", "status": "ready"}


def emit_ready(endpoint: Endpoint) -> None:
    services.emit(company_id=endpoint.company_id, type=READY, data=REPORT)


def test_a_delivery_is_json_signed_so_the_dashboards_snippet_verifies_it(endpoint, receiver):
    emit_ready(endpoint)
    run_webhooks_worker()
    (request,) = receiver.requests
    body = json.loads(request.body)
    assert body["type"] == "data_source.ready" and body["data"] == REPORT
    assert body["id"] == request.headers["docent-event-id"]
    assert datetime.datetime.fromisoformat(body["created_at"]) <= timezone.now()
    assert receiver.verified(request)
    assert not receiver.verified(request, secret=signing.new_secret())
    delivery = only_delivery()
    assert (delivery.status, delivery.attempts, delivery.response_code) == ("succeeded", 1, 200)
    assert delivery.response_body == "answered 200"


def test_the_file_worker_never_sends_a_delivery(endpoint, receiver):
    emit_ready(endpoint)
    run_worker()  # the default queue's worker: file processing
    assert receiver.requests == []
    run_webhooks_worker()
    assert len(receiver.requests) == 1


def test_only_endpoints_that_want_the_event_and_are_on_get_it(owner_a, endpoint, receiver):
    services.endpoint_create(company=owner_a.company, created_by=owner_a, url=receiver.url,
                             events=[EventType.FEEDBACK_CREATED])
    services.endpoint_create(company=owner_a.company, created_by=owner_a, url=receiver.url, events=[READY],
                             enabled=False)
    emit_ready(endpoint)
    run_webhooks_worker()
    assert len(receiver.requests) == 1
    assert only_delivery().endpoint == endpoint


def test_a_failing_receiver_is_retried_with_backoff_until_it_answers(endpoint, receiver):
    receiver.answer(500, body=b"x" * 5000)
    emit_ready(endpoint)
    with time_machine.travel(timezone.now(), tick=True) as clock:
        run_webhooks_worker()
        delivery = only_delivery()
        assert (delivery.status, delivery.attempts, delivery.response_code) == ("pending", 1, 500)
        assert len(delivery.response_body) == 2048  # the first 2 KB of the answer
        assert delivery.error == "The receiver answered 500."
        assert delivery.next_attempt_at - delivery.last_attempt_at == RETRY_DELAYS[0]
        run_webhooks_worker()
        assert len(receiver.requests) == 1  # not yet due
        clock.shift(RETRY_DELAYS[0])
        run_webhooks_worker()
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.response_code, delivery.error) == ("succeeded", 2, 200, "")
    first, second = receiver.requests
    assert first.headers["docent-event-id"] == second.headers["docent-event-id"]


def test_a_slow_receiver_times_out_and_is_retried(endpoint, receiver):
    receiver.answer(200, delay=2)
    emit_ready(endpoint)
    with time_machine.travel(timezone.now(), tick=True) as clock:
        started = timezone.now()
        run_webhooks_worker()
        assert timezone.now() - started < datetime.timedelta(seconds=2)
        delivery = only_delivery()
        assert delivery.status == "pending" and "timed out" in delivery.error
        assert delivery.response_code is None
        clock.shift(RETRY_DELAYS[0])
        run_webhooks_worker()
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("succeeded", 2)


@pytest.mark.parametrize("target", ["http://127.0.0.1:{port}/inside", "http://10.0.0.1/admin",
                                    "http://169.254.169.254/latest/meta-data/"])
def test_a_redirect_is_not_followed_and_counts_as_a_failure(endpoint, receiver, target):
    with serve(Receiver()) as inside:
        location = target.format(port=inside.url.rsplit(":", 1)[1])
        receiver.answer(302, location=location)
        emit_ready(endpoint)
        run_webhooks_worker()
        assert inside.requests == []
    assert len(receiver.requests) == 1
    delivery = only_delivery()
    assert (delivery.status, delivery.response_code) == ("pending", 302)
    assert delivery.error == f"Redirected to {location}: redirects are not followed."


def fail_every_attempt(receiver, clock) -> None:
    """Every attempt of the pending delivery answered 503, the clock moved past each retry's delay."""
    for delay in [*RETRY_DELAYS, None]:
        receiver.answer(503)
        run_webhooks_worker()
        if delay:
            clock.shift(delay)


def test_after_a_day_of_retries_the_delivery_fails_and_repeated_failures_switch_the_endpoint_off(
        endpoint, receiver, settings, mailoutbox):
    settings.WEBHOOK_DISABLE_AFTER_FAILURES = 2
    with time_machine.travel(timezone.now(), tick=True) as clock:
        for _ in range(2):
            emit_ready(endpoint)
            fail_every_attempt(receiver, clock)
    assert sum(RETRY_DELAYS, datetime.timedelta()) > datetime.timedelta(days=1)
    deliveries = Delivery.objects.order_by("created_at")
    assert [(d.status, d.attempts) for d in deliveries] == [("failed", len(RETRY_DELAYS) + 1)] * 2
    endpoint.refresh_from_db()
    assert not endpoint.enabled and "2 deliveries in a row failed" in endpoint.disabled_reason
    (mail,) = mailoutbox
    assert mail.to == [endpoint.company.users.get().email] and endpoint.url in mail.body
    emit_ready(endpoint)
    assert Delivery.objects.count() == 2  # a switched-off endpoint gets nothing more


def test_one_failed_delivery_below_the_limit_keeps_the_endpoint_on(endpoint, receiver, settings, mailoutbox):
    settings.WEBHOOK_DISABLE_AFTER_FAILURES = 2
    with time_machine.travel(timezone.now(), tick=True) as clock:
        emit_ready(endpoint)
        fail_every_attempt(receiver, clock)
    endpoint.refresh_from_db()
    assert only_delivery().status == "failed"
    assert endpoint.enabled and endpoint.consecutive_failures == 1 and mailoutbox == []


def test_a_rotated_secret_signs_beside_the_new_one_for_the_grace_period(endpoint, receiver, settings):
    old = receiver.secrets[0]
    new = services.endpoint_rotate_secret(endpoint=endpoint).secret
    emit_ready(endpoint)
    run_webhooks_worker()
    request = receiver.requests[-1]
    assert receiver.verified(request, secret=old) and receiver.verified(request, secret=new)
    later = timezone.now() + datetime.timedelta(hours=settings.WEBHOOK_SECRET_GRACE_HOURS, minutes=1)
    with time_machine.travel(later, tick=True):
        emit_ready(endpoint)
        run_webhooks_worker()
        request = receiver.requests[-1]
        assert receiver.verified(request, secret=new) and not receiver.verified(request, secret=old)


def test_the_secret_is_stored_encrypted_with_the_environments_key(endpoint, receiver, settings):
    secret = receiver.secrets[0]
    assert secret.startswith("whsec_") and secret not in endpoint.secret_encrypted
    assert signing.decrypt(endpoint.secret_encrypted) == secret
    settings.WEBHOOK_SECRET_KEYS = ["x" * 43 + "="]  # another key: the stored secret cannot be read
    emit_ready(endpoint)
    run_webhooks_worker()
    assert receiver.requests == []
    assert "cannot be read" in only_delivery().error


def test_proxy_variables_are_ignored(endpoint, receiver, monkeypatch):
    for name in ["HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "ALL_PROXY"]:
        monkeypatch.setenv(name, "http://127.0.0.1:9")  # nothing listens there
    emit_ready(endpoint)
    run_webhooks_worker()
    assert only_delivery().status == "succeeded"


def fake_dns(monkeypatch, names: dict[str, str]) -> list[str]:
    """Resolve these names to these addresses (the machine's resolver for anything else); the lookups made."""
    lookups, real = [], socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        lookups.append(host)
        return real(names.get(host, host), port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return lookups


def test_the_checked_address_is_the_one_connected_to_with_the_hosts_name(endpoint, receiver, monkeypatch):
    lookups = fake_dns(monkeypatch, {"hooks.customer.test": "127.0.0.1"})
    services.endpoint_update(endpoint=endpoint, url=receiver.url.replace("127.0.0.1", "hooks.customer.test"))
    emit_ready(endpoint)
    run_webhooks_worker()
    assert lookups.count("hooks.customer.test") == 1  # then it connects to the checked address: nothing to rebind
    assert receiver.requests[0].headers["host"].startswith("hooks.customer.test:")
    assert only_delivery().status == "succeeded"


@pytest.mark.parametrize("address", ["127.0.0.1", "10.1.2.3", "169.254.169.254", "100.64.0.7", "0.0.0.0"])
def test_a_name_resolving_to_an_inner_address_is_refused_at_send_time(endpoint, receiver, settings, monkeypatch,
                                                                      address):
    services.endpoint_update(endpoint=endpoint, url="http://hooks.customer.test/docent")
    fake_dns(monkeypatch, {"hooks.customer.test": address})
    settings.OUTBOUND_ALLOW_PRIVATE_ADDRESSES = False
    emit_ready(endpoint)
    run_webhooks_worker()
    assert receiver.requests == []
    delivery = only_delivery()
    assert delivery.status == "pending" and delivery.response_code is None
    assert delivery.error.startswith(f"hooks.customer.test ({address}) is ")



def test_a_delivery_whose_worker_was_killed_mid_attempt_is_sent_when_a_worker_starts(endpoint, receiver):
    emit_ready(endpoint)
    # A worker took the task and was killed: it stays RUNNING for ever, and the delivery pending.
    DBTaskResult.objects.update(status=TaskResultStatus.RUNNING, started_at=timezone.now())
    with time_machine.travel(timezone.now() + datetime.timedelta(minutes=5), tick=True):
        run_webhooks_worker()
        assert only_delivery().status == "succeeded" and len(receiver.requests) == 1
        run_webhooks_worker()  # a waiting retry or a finished delivery is not sent again
    assert len(receiver.requests) == 1


def test_a_delivery_waiting_for_its_retry_is_not_queued_twice(endpoint, receiver):
    receiver.answer(500)
    emit_ready(endpoint)
    run_webhooks_worker()
    with time_machine.travel(timezone.now() + datetime.timedelta(minutes=2), tick=True):
        run_webhooks_worker()
    assert len(receiver.requests) == 2 and only_delivery().status == "succeeded"
    assert DBTaskResult.objects.count() == 2  # the first attempt and its retry, nothing queued again
