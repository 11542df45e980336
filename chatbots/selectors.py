from django.db.models import Prefetch, QuerySet

from accounts.models import Company
from chatbots.models import Chatbot
from datasources.models import DataSource


def chatbot_list(*, company: Company) -> QuerySet[Chatbot]:
    """The company's chatbots, newest first, each with its data sources (name and status) at hand."""
    return Chatbot.objects.filter(company=company).prefetch_related(
        Prefetch("data_sources", queryset=DataSource.objects.only("id", "name", "status").order_by("name"))
    ).order_by("-created_at")
