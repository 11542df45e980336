import uuid

from django.db.models import QuerySet

from accounts.models import Company
from datasources.indexes import ChunkSearch
from datasources.models import DataSource


def data_source_list(*, company: Company, status: str | None = None) -> QuerySet[DataSource]:
    queryset = DataSource.objects.filter(company=company)
    if status:
        queryset = queryset.filter(status=status)
    return queryset.order_by("-created_at")


def chunk_search(*, company_id: uuid.UUID, data_sources: QuerySet[DataSource]) -> ChunkSearch:
    """Both indexes of the company's ready data sources among `data_sources` (a chatbot's), to search.

    The company and the ready status are applied here, so no caller can forget either: another
    company's data source, or one being processed again, is never searched.
    """
    ready = data_sources.filter(company_id=company_id, status=DataSource.Status.READY)
    # What a search reads of a data source (ChunkSearch); the rest, two JSON documents among it, is not loaded
    # with every question.
    return ChunkSearch.of(company_id, list(ready.only("id", "company_id", "name", "status", "updated_at")))
