"""Dashboard pages: the company's webhook endpoints, and one endpoint with its delivery log.

The pages render what the API returns; their buttons and forms call the same API
(static/js/integrations.js), so the dashboard and the API accept and refuse the same things.
"""

from django.conf import settings
from django.shortcuts import render

from accounts.roles import Capability
from accounts.scoping import CompanyScopedView
from webhooks import selectors, signing
from webhooks.delivery import RETRY_DELAYS
from webhooks.models import EventType
from webhooks.services import SHOWN_ONCE

LOG_LENGTH = 50
SECRET_DIALOG = {"secret_title": "Your endpoint's signing secret", "secret_notice": SHOWN_ONCE}


class WebhooksPage(CompanyScopedView):
    """Register endpoints, see which are on, and how a receiver verifies a delivery."""

    required_capability = Capability.MANAGE_WEBHOOKS

    def safely_get_queryset(self, company):
        return selectors.endpoint_list(company=company)

    def get(self, request):
        return render(request, "webhooks/webhooks.html", {
            "endpoints": self.get_queryset(), "event_types": EventType.choices, **_verification(), **SECRET_DIALOG})


class EndpointPage(CompanyScopedView):
    """One endpoint: switch it on or off, rotate its secret, read its delivery log and send again."""

    required_capability = Capability.MANAGE_WEBHOOKS

    def safely_get_queryset(self, company):
        return selectors.endpoint_list(company=company)

    def get(self, request, pk):
        endpoint = self.get_object(pk)
        return render(request, "webhooks/endpoint.html", {
            "endpoint": endpoint, "event_labels": [label for value, label in EventType.choices
                                                   if value in endpoint.events],
            "deliveries": selectors.delivery_list(endpoint=endpoint)[:LOG_LENGTH], "log_length": LOG_LENGTH,
            "grace_hours": settings.WEBHOOK_SECRET_GRACE_HOURS, **_verification(), **SECRET_DIALOG})


def _verification() -> dict:
    return {"verify_python": signing.VERIFY_PYTHON, "verify_node": signing.VERIFY_NODE,
            "retry_hours": round(sum(delay.total_seconds() for delay in RETRY_DELAYS) / 3600),
            "disable_after": settings.WEBHOOK_DISABLE_AFTER_FAILURES,
            "timeout_seconds": settings.WEBHOOK_TIMEOUT_SECONDS}
