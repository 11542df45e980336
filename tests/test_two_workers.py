"""Two `db_worker` processes on PostgreSQL share a batch of uploads; no file is processed twice."""

from collections import Counter

import pytest
from django.db import connection
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from datasources.models import Chunk, DataSource
from tests.ingestion import CORPUS, upload
from tests.worker_processes import WorkerProcesses

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql",
                       reason="workers claim tasks concurrently only on PostgreSQL (SELECT … FOR UPDATE SKIP "
                              "LOCKED); run with DATABASE_URL=postgres://…"),
]

FILES = [CORPUS / "pdf" / name for name in (
    "nics-background-checks-2015-11.pdf", "issue-33-lorem-ipsum.pdf", "la-precinct-bulletin-2014-p1.pdf",
    "cupertino_usd_4-6-16.pdf", "scotus-transcript-p1.pdf", "federal-register-2020-17221.pdf",
    "issue-71-duplicate-chars.pdf", "WARN-Report-for-7-1-2015-to-03-25-2016.pdf",
)]
# Each worker may run half the batch, so the batch is only done if both took part.
TASKS_EACH = len(FILES) // 2


@pytest.fixture
def workers(transactional_db, tmp_path):
    with WorkerProcesses(tmp_path) as processes:
        yield processes


def test_two_workers_share_a_batch_of_uploads_and_process_each_file_once(workers, owner_a, api_client):
    response = upload(api_client(owner_a), *FILES)
    assert response.status_code == 201, response.content
    ids = [record["id"] for record in response.json()["data_sources"]]
    assert len(ids) == len(FILES)

    started = [workers.start("--batch", "--max-tasks", str(TASKS_EACH), "--worker-id", name)
               for name in ("worker-a", "worker-b")]
    for worker in started:
        worker.finish(timeout=300)

    for data_source in DataSource.objects.filter(pk__in=ids):
        assert data_source.status == "ready", (data_source.name, data_source.error_message)
        assert data_source.attempts == 1, data_source.name
        positions = list(Chunk.objects.filter(data_source=data_source).values_list("position", flat=True))
        assert sorted(positions) == list(range(data_source.chunk_count)), data_source.name
    tasks = list(DBTaskResult.objects.all())
    assert sorted(task.args_kwargs["args"][0] for task in tasks) == sorted(ids)  # one task per file, none added
    assert all(task.status == TaskResultStatus.SUCCESSFUL for task in tasks)
    assert all(len(task.worker_ids) == 1 for task in tasks)  # each claimed once
    assert Counter(task.worker_ids[0] for task in tasks) == {"worker-a": TASKS_EACH, "worker-b": TASKS_EACH}
