"""Helpers for webhook tests: the webhooks worker, run in this process as `manage.py db_worker` runs it."""

from django.core.management import call_command

from webhooks.models import Delivery


def run_webhooks_worker() -> None:
    """Send every delivery that is due, as the webhooks queue's worker does (`--batch`: then stop)."""
    call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", "--queue-name", "webhooks", verbosity=0)


def only_delivery() -> Delivery:
    (delivery,) = Delivery.objects.all()
    return delivery
