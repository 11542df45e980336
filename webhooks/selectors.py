from accounts.models import Company
from webhooks.models import Delivery, Endpoint


def endpoint_list(*, company: Company):
    return Endpoint.objects.filter(company=company)


def delivery_list(*, endpoint: Endpoint):
    """An endpoint's delivery log, newest first."""
    return Delivery.objects.filter(endpoint=endpoint).select_related("event").order_by("-created_at")
