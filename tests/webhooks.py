"""Webhook tests' fixtures and helpers: a local receiver, an endpoint of company A pointing at it, and the
webhooks worker, run in this process as `manage.py db_worker --queue-name webhooks` runs it."""

import pytest
from django.core.management import call_command

from tests.fakes.webhook_receiver import running_receiver
from webhooks import services
from webhooks.models import Delivery, Endpoint, EventType


@pytest.fixture
def receiver(settings):
    """A receiver on 127.0.0.1 (so private addresses are allowed), with a one-second timeout for slow answers."""
    settings.OUTBOUND_ALLOW_PRIVATE_ADDRESSES = True
    settings.WEBHOOK_TIMEOUT_SECONDS = 1
    with running_receiver() as receiver:
        yield receiver


@pytest.fixture
def endpoint(owner_a, receiver) -> Endpoint:
    """Company A's endpoint for every event, at the receiver, which holds its secret."""
    issued = services.endpoint_create(company=owner_a.company, created_by=owner_a, url=receiver.url,
                                      events=list(EventType.values))
    receiver.secrets.append(issued.secret)
    return issued.record


def run_webhooks_worker() -> None:
    """Send every delivery that is due, as the webhooks queue's worker does (`--batch`: then stop)."""
    call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", "--queue-name", "webhooks", verbosity=0)


def only_delivery() -> Delivery:
    (delivery,) = Delivery.objects.all()
    return delivery
