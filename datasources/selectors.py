from django.db.models import QuerySet

from accounts.models import Company
from datasources.models import DataSource


def data_source_list(*, company: Company, status: str | None = None) -> QuerySet[DataSource]:
    queryset = DataSource.objects.filter(company=company)
    if status:
        queryset = queryset.filter(status=status)
    return queryset.order_by("-created_at")
