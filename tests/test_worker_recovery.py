"""Nothing lost: a real `db_worker` killed mid-file, and a lost task, are recovered by the sweeper."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from datasources.models import Chunk, DataSource
from tests.ingestion import CORPUS, FILINGS, run_worker, upload
from tests.worker_processes import WorkerProcesses, wait_for, wait_for_stage

pytestmark = pytest.mark.django_db(transaction=True)

# Long enough to process a 10-Q page by page; the worker is killed while it embeds the chunks.
FILING = FILINGS / "2022 Q3 AAPL.pdf"
NICS = CORPUS / "pdf" / "nics-background-checks-2015-11.pdf"
# Small, so that a killed run goes stale quickly; the heartbeat beats every STALE_SECONDS / 4.
STALE_SECONDS = 6
# Starting a worker loads Django, torch and the model; reading and chunking a 10-Q takes a few seconds more.
WORKER_TIMEOUT = 180


@pytest.fixture(autouse=True)
def quick_staleness(settings):
    settings.PROCESSING_STALE_SECONDS = STALE_SECONDS
    settings.PROCESSING_MAX_ATTEMPTS = 3


@pytest.fixture
def workers(transactional_db, tmp_path):
    with WorkerProcesses(tmp_path) as processes:
        yield processes


@pytest.fixture
def staff(owner_a, api_client):
    return api_client(owner_a)


def uploaded(client, path) -> str:
    response = upload(client, path)
    assert response.status_code == 201, response.content
    return response.json()["data_sources"][0]["id"]


def sweep() -> str:
    output = StringIO()
    call_command("sweep_stuck", stdout=output)
    return output.getvalue()


def wait_until_stale(data_source: DataSource) -> None:
    """Wait until the killed run's last heartbeat is older than the staleness limit."""
    stale_at = data_source.heartbeat_at + timedelta(seconds=STALE_SECONDS)
    wait_for(lambda: timezone.now() > stale_at, timeout=STALE_SECONDS + 5, what="the heartbeat to go stale")


def killed_mid_file(workers, data_source_id: str) -> DataSource:
    """Start a worker, SIGKILL it while it embeds the file's chunks; the data source as the kill left it."""
    worker = workers.start()
    wait_for_stage(worker, data_source_id, "embedding", timeout=WORKER_TIMEOUT)
    worker.kill()
    interrupted = DataSource.objects.get(pk=data_source_id)
    assert interrupted.status == "processing" and interrupted.stage == "embedding", (
        f"The worker finished the file before it was killed ({interrupted.status}); use a longer file.")
    assert interrupted.heartbeat_at is not None
    assert DBTaskResult.objects.get(pk=interrupted.task_id).status == TaskResultStatus.RUNNING
    return interrupted


def test_a_worker_killed_mid_file_is_recovered_by_the_sweeper_without_duplicates(workers, staff, owner_b,
                                                                                  api_client):
    source_id = uploaded(staff, FILING)
    interrupted = killed_mid_file(workers, source_id)
    assert interrupted.attempts == 1

    assert sweep().endswith("0 requeued, 0 ended in error\n")  # a fresh heartbeat: the run may be alive
    wait_until_stale(interrupted)
    assert sweep().endswith("1 requeued, 0 ended in error\n")

    requeued = DataSource.objects.get(pk=source_id)
    assert requeued.status == "processing" and requeued.stage == "queued"
    assert DBTaskResult.objects.get(pk=interrupted.task_id).status == TaskResultStatus.FAILED
    assert DBTaskResult.objects.get(pk=requeued.task_id).status == TaskResultStatus.READY

    reference_id = uploaded(api_client(owner_b), FILING)  # the same file, processed without a kill
    workers.start("--batch").finish(timeout=WORKER_TIMEOUT)

    recovered = staff.get(f"/api/files/{source_id}").json()
    assert recovered["status"] == "ready", recovered["error_message"]
    assert DataSource.objects.get(pk=source_id).attempts == 2
    chunks = list(Chunk.objects.filter(data_source_id=source_id).order_by("position"))
    reference = list(Chunk.objects.filter(data_source_id=reference_id).order_by("position"))
    assert recovered["chunk_count"] == len(chunks) == len(reference) > 0
    assert [chunk.id for chunk in chunks] == [f"datasource_{source_id}_chunk_{n}" for n in range(len(chunks))]
    assert [chunk.text for chunk in chunks] == [chunk.text for chunk in reference]
    assert DBTaskResult.objects.get(pk=requeued.task_id).status == TaskResultStatus.SUCCESSFUL


def test_a_file_whose_worker_dies_on_every_attempt_ends_in_error_saying_so(workers, staff, settings):
    source_id = uploaded(staff, FILING)
    # Two earlier runs died already; this is the last attempt.
    DataSource.objects.filter(pk=source_id).update(attempts=settings.PROCESSING_MAX_ATTEMPTS - 1)
    interrupted = killed_mid_file(workers, source_id)
    assert interrupted.attempts == settings.PROCESSING_MAX_ATTEMPTS
    wait_until_stale(interrupted)

    output = workers.start("--batch").finish(timeout=WORKER_TIMEOUT)  # a new worker sweeps as it starts

    assert "1 ended in error after too many attempts" in output
    details = staff.get(f"/api/files/{source_id}").json()
    assert details["status"] == "error"
    assert details["error_message"].startswith("Processing interrupted: the worker stopped 3 times")
    assert not Chunk.objects.filter(data_source_id=source_id).exists()
    assert DBTaskResult.objects.get(pk=interrupted.task_id).status == TaskResultStatus.FAILED
    assert DBTaskResult.objects.count() == 1  # given up: nothing queued again


def test_a_queued_file_whose_task_was_lost_is_queued_again(staff):
    source_id = uploaded(staff, NICS)
    queued = DataSource.objects.get(pk=source_id)
    DBTaskResult.objects.filter(pk=queued.task_id).delete()  # e.g. the queue was cleared by hand
    stale_at = queued.updated_at + timedelta(seconds=STALE_SECONDS)
    wait_for(lambda: timezone.now() > stale_at, timeout=STALE_SECONDS + 5, what="the queued file to go stale")

    assert sweep().endswith("1 requeued, 0 ended in error\n")

    requeued = DataSource.objects.get(pk=source_id)
    assert requeued.task_id != queued.task_id
    assert DBTaskResult.objects.get(pk=requeued.task_id).status == TaskResultStatus.READY
    run_worker()
    details = staff.get(f"/api/files/{source_id}").json()
    assert details["status"] == "ready", details["error_message"]
    assert details["chunk_count"] > 0
    assert DataSource.objects.get(pk=source_id).attempts == 1
