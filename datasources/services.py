"""Writes for data sources: upload, (re)process, delete."""

import hashlib
import logging
import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from django.conf import settings
from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Q, Sum
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from accounts.models import Company, User
from config import outbound, rls
from config.errors import ApiError
from datasources import events
from datasources.crawler import check_start_url
from datasources.filetypes import RejectedFile, detect_file_type
from datasources.indexes.vector import VectorIndexError, get_vector_index, namespace_for
from datasources.models import Chunk, DataSource
from datasources.naming import MAX_NAME_LENGTH, display_name, storage_path
from datasources.pipeline import stale_before
from datasources.scanning import FileNotClean, get_scanner
from datasources.selectors import chunk_search
from datasources.tasks import process_data_source, refresh_data_source
from datasources.uploads import max_upload_bytes
from datasources.websites import websites_due

logger = logging.getLogger(__name__)


class UploadRejected(ApiError):
    status_code = 422
    default_code = "file_rejected"


@dataclass(frozen=True)
class UploadOutcome:
    data_source: DataSource
    created: bool  # False: this exact file was already there, and that record is returned


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def datasource_upload(*, company: Company, user: User | None, path: Path, name: str,
                      new_version: bool = False, enqueue: bool = True) -> UploadOutcome:
    """Validate a file on local disk, store it, record it and queue its processing.

    Re-uploading a file with the same content returns the existing record, unless `new_version`.
    With `enqueue=False` the caller processes it itself (bulk ingestion, benchmarks).
    """
    name = display_name(name)
    size = path.stat().st_size
    _check_size(name, size)
    digest = sha256_of(path)
    latest = DataSource.objects.filter(company=company, sha256=digest).order_by("-version").first()
    if latest is not None and not new_version:
        return UploadOutcome(latest, created=False)
    _check_plan(company, size)
    try:
        file_type = detect_file_type(path, name)
        get_scanner().scan(path)
    except RejectedFile as exc:
        raise UploadRejected(f"{name}: {exc}", code="unsupported_file") from None
    except FileNotClean as exc:
        raise UploadRejected(f"{name}: {exc}", code="not_clean") from None
    data_source_id = uuid.uuid4()
    with open(path, "rb") as handle:
        stored_at = default_storage.save(
            storage_path(company_id=company.id, data_source_id=data_source_id, name=name), File(handle)
        )
    try:
        with transaction.atomic():
            data_source = DataSource.objects.create(
                id=data_source_id, company=company, uploaded_by=user, name=name, type=file_type, size=size,
                sha256=digest, version=(latest.version + 1) if latest else 1, storage_path=stored_at,
                pinecone_namespace=namespace_for(company.id),
            )
            if enqueue:
                _enqueue(data_source)
    except Exception:
        default_storage.delete(stored_at)  # the record failed: leave no orphan file behind
        raise
    return UploadOutcome(data_source, created=True)


def datasource_write_text(*, company: Company, user: User | None, name: str, text: str,
                          data_source: DataSource | None = None) -> DataSource:
    """A data source made of text staff wrote (not an uploaded file): stored as Markdown and
    processed by the same pipeline as an upload. Given `data_source`, its text is replaced and it
    is processed again."""
    content = text.encode()
    _check_size(name, len(content))
    if data_source is None:
        _check_plan(company, len(content))
        data_source = DataSource(id=uuid.uuid4(), company=company, uploaded_by=user, name=display_name(name),
                                 type="md", pinecone_namespace=namespace_for(company.id))
    previous_path = data_source.storage_path
    data_source.storage_path = default_storage.save(
        storage_path(company_id=company.id, data_source_id=data_source.id, name=data_source.name),
        ContentFile(content))
    data_source.size, data_source.sha256 = len(content), hashlib.sha256(content).hexdigest()
    data_source.save()
    if previous_path and previous_path != data_source.storage_path:
        transaction.on_commit(lambda: default_storage.delete(previous_path))
    return datasource_reprocess(data_source=data_source)


def datasource_add_website(*, company: Company, user: User | None, url: str, crawl_site: bool) -> DataSource:
    """A data source made of a website: the page at `url`, or (`crawl_site`) the pages under it, crawled by
    the worker. The URL is checked here as the crawler will check it (a public http(s) address)."""
    try:
        url = check_start_url(url)
    except outbound.Refused as exc:
        raise ApiError(str(exc), code="invalid_url") from None
    _check_plan(company, 0)
    parts = urlsplit(url)
    name = f"{parts.hostname}{parts.path if parts.path != '/' else ''}"[:MAX_NAME_LENGTH]
    data_source = DataSource.objects.create(
        company=company, uploaded_by=user, name=name, type=DataSource.WEBSITE, size=0, source_url=url,
        crawl_site=crawl_site, stage="queued", pinecone_namespace=namespace_for(company.id))
    return datasource_reprocess(data_source=data_source)


def datasource_recrawl(*, data_source: DataSource) -> DataSource:
    """Crawl a website again now: a ready one keeps answering meanwhile and re-embeds only its changed
    pages; one in error is processed again. Idempotent: a crawl already queued or going on is left alone."""
    if data_source.type != DataSource.WEBSITE:
        raise ApiError("Only a website can be crawled again; reprocess a file instead.", code="not_a_website",
                       status_code=409)
    if data_source.status != DataSource.Status.READY:
        return datasource_reprocess(data_source=data_source)
    if not _task_waiting(data_source.task_id):
        result = refresh_data_source.enqueue(str(data_source.pk))
        DataSource.objects.filter(pk=data_source.pk).update(task_id=str(result.id))
    return data_source


@rls.dangerously_all_companies(rls.WayAround.SWEEPER)
def websites_recrawl_due() -> int:
    """Queue a re-crawl of every website whose last crawl is WEBSITE_RECRAWL_HOURS old (run from cron, and
    when a worker starts); returns how many."""
    due = list(websites_due())
    for data_source in due:
        datasource_recrawl(data_source=data_source)
    return len(due)


def _check_size(name: str, size: int) -> None:
    if size == 0:
        raise UploadRejected(f"{name}: the file is empty.", code="empty_file", status_code=400)
    if size > max_upload_bytes():
        raise too_large(name)


def too_large(name: str) -> UploadRejected:
    """The refusal of a file over MAX_UPLOAD_MB, whether measured here or while it was streamed in."""
    return UploadRejected(f"{name}: the file is larger than the {settings.MAX_UPLOAD_MB} MB limit.",
                          code="file_too_large", status_code=413)


def _check_plan(company: Company, size: int) -> None:
    limits = company.limits
    files = DataSource.objects.filter(company=company)
    if files.count() >= limits["max_files"]:
        raise ApiError(f"Your plan ({company.plan}) allows {limits['max_files']} files; delete some or upgrade.",
                       code="plan_limit", status_code=403)
    used = files.aggregate(total=Sum("size"))["total"] or 0
    if used + size > limits["max_storage_mb"] * 1024 * 1024:
        raise ApiError(f"Your plan ({company.plan}) allows {limits['max_storage_mb']} MB of files; "
                       "delete some or upgrade.", code="plan_limit", status_code=403)


def _enqueue(data_source: DataSource) -> None:
    """Queue processing once the record is committed, so the worker always finds it."""
    def enqueue():
        result = process_data_source.enqueue(str(data_source.id))
        DataSource.objects.filter(pk=data_source.pk).update(task_id=str(result.id))

    transaction.on_commit(enqueue)


def processing_is_alive(data_source: DataSource) -> bool:
    """A run holds it (fresh heartbeat) or its task still waits in the queue."""
    if data_source.status != DataSource.Status.PROCESSING:
        return False
    if data_source.heartbeat_at is not None:
        return data_source.heartbeat_at >= stale_before()
    return _task_waiting(data_source.task_id)


def _task_waiting(task_id: str) -> bool:
    return bool(task_id) and DBTaskResult.objects.filter(pk=task_id, status=TaskResultStatus.READY).exists()


@transaction.atomic
def datasource_reprocess(*, data_source: DataSource, enqueue: bool = True) -> DataSource:
    """(Re)process a data source. Idempotent: a run already queued or going on is left alone.

    With `enqueue=False` the caller runs `pipeline.process` itself.
    """
    data_source = DataSource.objects.select_for_update().get(pk=data_source.pk)
    if processing_is_alive(data_source):
        return data_source
    data_source.status = DataSource.Status.PROCESSING
    data_source.stage = "queued"
    data_source.progress = 0
    data_source.error_message = ""
    data_source.attempts = 0
    data_source.heartbeat_at = None
    data_source.save(update_fields=["status", "stage", "progress", "error_message", "attempts", "heartbeat_at",
                                    "updated_at"])
    if enqueue:
        _enqueue(data_source)
    transaction.on_commit(lambda: events.publish(data_source))
    return data_source


def datasource_refresh(*, data_sources) -> int:
    """Queue the ready data sources among `data_sources` to be extracted and chunked again while they
    keep answering (pipeline.refresh); returns how many were queued."""
    ready = list(data_sources.filter(status=DataSource.Status.READY).values_list("pk", flat=True))
    for pk in ready:
        refresh_data_source.enqueue(str(pk))
    return len(ready)


def datasource_delete(*, data_source: DataSource) -> None:
    """Remove the vectors, the stored file, the chunks and the record, in that order.

    Vectors go first: if the index cannot be reached the record stays, so nothing is orphaned.
    """
    ids = list(Chunk.objects.filter(data_source=data_source).values_list("id", flat=True))
    try:
        get_vector_index().delete(company_id=data_source.company_id, data_source_id=data_source.id, ids=ids)
    except VectorIndexError as exc:
        raise ApiError(f"The vector index could not be reached, so nothing was deleted; try again. ({exc})",
                       code="index_unavailable", status_code=503) from None
    if data_source.storage_path:
        default_storage.delete(data_source.storage_path)
    data_source.delete()


@dataclass(frozen=True)
class SweepOutcome:
    requeued: list[DataSource]
    failed: list[DataSource]


def company_indexes_warm(*, company_id: uuid.UUID) -> None:
    """Load this process's copies of the company's indexes, as its first question would (config.startup)."""
    chunk_search(company_id=company_id, data_sources=DataSource.objects.all()).warm()


@rls.dangerously_all_companies(rls.WayAround.SWEEPER)
def sweep_stuck() -> SweepOutcome:
    """Find runs that died (worker killed, machine restarted) and queue them again, or give up.

    A run is dead when its heartbeat is stale, or when it never started and its task no longer
    waits in the queue. After PROCESSING_MAX_ATTEMPTS runs the data source ends in `error`.
    """
    dead_before = stale_before()
    suspects = DataSource.objects.filter(status=DataSource.Status.PROCESSING).filter(
        Q(heartbeat_at__lt=dead_before) | Q(heartbeat_at__isnull=True, updated_at__lt=dead_before)
    )
    requeued, failed = [], []
    for suspect in suspects:
        with transaction.atomic():
            data_source = DataSource.objects.select_for_update().get(pk=suspect.pk)
            if processing_is_alive(data_source):
                continue
            _abandon_task(data_source.task_id)
            if data_source.attempts >= settings.PROCESSING_MAX_ATTEMPTS:
                data_source.status = DataSource.Status.ERROR
                data_source.stage = "error"
                data_source.error_message = (
                    f"Processing interrupted: the worker stopped {data_source.attempts} times while reading "
                    "this file. Reprocess it to try again."
                )
                failed.append(data_source)
            else:
                data_source.stage = "queued"
                data_source.progress = 0
                data_source.heartbeat_at = None
                requeued.append(data_source)
                _enqueue(data_source)
            data_source.save(update_fields=["status", "stage", "progress", "error_message", "heartbeat_at",
                                            "updated_at"])
            if data_source in failed:
                events.announce_outcome(data_source)
            transaction.on_commit(lambda ds=data_source: events.publish(ds))
    return SweepOutcome(requeued=requeued, failed=failed)


def _abandon_task(task_id: str) -> None:
    """A killed worker leaves its task RUNNING forever; record that it will not finish."""
    if task_id:
        DBTaskResult.objects.filter(pk=task_id, status=TaskResultStatus.RUNNING).update(
            status=TaskResultStatus.FAILED, finished_at=timezone.now())
