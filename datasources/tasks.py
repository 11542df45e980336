from django_tasks import task

from datasources.pipeline import process, refresh


@task()
def process_data_source(data_source_id: str) -> None:
    process(data_source_id)


@task()
def refresh_data_source(data_source_id: str) -> None:
    refresh(data_source_id)
