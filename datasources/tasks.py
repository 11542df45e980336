from contextlib import contextmanager

from django_tasks import task

from config import rls
from datasources.models import DataSource
from datasources.pipeline import process, refresh


@task()
def process_data_source(data_source_id: str) -> None:
    with data_source_company(data_source_id):
        process(data_source_id)


@task()
def refresh_data_source(data_source_id: str) -> None:
    with data_source_company(data_source_id):
        refresh(data_source_id)


@contextmanager
def data_source_company(data_source_id: str):
    """The worker's connection admits the data source's company only, while it processes the file."""
    with rls.dangerously_all_companies(rls.WayAround.WORKER_CLAIM):
        company_id = DataSource.objects.filter(pk=data_source_id).values_list("company_id", flat=True).first()
    with rls.company_session(company_id):
        yield
