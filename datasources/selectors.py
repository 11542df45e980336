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
    return ChunkSearch.of(company_id, list(_ready(company_id, data_sources)))


def searched_versions(*, company_id: uuid.UUID, data_sources: QuerySet[DataSource]) -> list[tuple[str, str]]:
    """(id, updated_at) of each data source `chunk_search` would search, in id order: the set changes when one
    is attached, detached, deleted or starts processing again, and `updated_at` when its processing ends."""
    rows = _ready(company_id, data_sources).order_by("id").values_list("id", "updated_at")
    return [(str(source_id), updated_at.isoformat()) for source_id, updated_at in rows]


def _ready(company_id: uuid.UUID, data_sources: QuerySet[DataSource]) -> QuerySet[DataSource]:
    return data_sources.filter(company_id=company_id, status=DataSource.Status.READY)
