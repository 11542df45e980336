from uuid import UUID

from django.db.models import Case, IntegerField, QuerySet, Value, When

from accounts.models import Company
from integrations.models import Integration

_TYPE_ORDER = Case(*(When(type=value, then=Value(position)) for position, value in enumerate(Integration.Type.values)),
                   output_field=IntegerField())


def integration_list(*, company: Company, chatbot_id: UUID | None = None) -> QuerySet[Integration]:
    """The company's integrations (of one chatbot, when given): widget, then iframe, then API."""
    queryset = Integration.objects.filter(company=company).select_related("chatbot")
    if chatbot_id is not None:
        queryset = queryset.filter(chatbot_id=chatbot_id)
    return queryset.order_by(_TYPE_ORDER, "created_at")
