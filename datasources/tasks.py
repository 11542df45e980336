from django_tasks import task

from datasources.pipeline import process


@task()
def process_data_source(data_source_id: str) -> None:
    process(data_source_id)
