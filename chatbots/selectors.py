from django.db.models import F, Prefetch, QuerySet

from accounts.models import Company
from chatbots.models import Chatbot
from config import rls
from datasources.models import DataSource


def chatbot_list(*, company: Company) -> QuerySet[Chatbot]:
    """The company's chatbots, newest first, each with its data sources (name and status) at hand."""
    return Chatbot.objects.filter(company=company).prefetch_related(
        Prefetch("data_sources", queryset=DataSource.objects.only("id", "name", "status").order_by("name"))
    ).order_by("-created_at")


def dangerously_shown_document(*, chatbot_id, data_source_id) -> DataSource | None:
    """The data source whose file the chatbot lets its visitors open: linked to the chatbot, of the same
    company, while the chatbot is active and shows its cited documents; None otherwise. Unscoped because a
    visitor's link names no company: a signed token (integrations.documents) vouches for the pair."""
    with rls.dangerously_all_companies(rls.WayAround.SHOWN_DOCUMENT):
        return DataSource.objects.filter(
            pk=data_source_id, chatbots__pk=chatbot_id, chatbots__is_active=True,
            chatbots__show_source_documents=True, chatbots__company_id=F("company_id"),
        ).first()
