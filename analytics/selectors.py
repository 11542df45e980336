from accounts.models import Company
from chatbots.models import Chatbot
from datasources.models import DataSource
from integrations.models import Integration


def company_overview(*, company: Company) -> dict:
    """The numbers on the dashboard's first page."""
    data_sources = DataSource.objects.filter(company=company)
    return {
        "data_sources": data_sources.count(),
        "data_sources_ready": data_sources.filter(status=DataSource.Status.READY).count(),
        "chatbots": Chatbot.objects.filter(company=company).count(),
        "integrations": Integration.objects.filter(company=company).count(),
        "members": company.users.count(),
    }
