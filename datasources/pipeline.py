"""Processing of one data source, as the worker runs it: extract ▸ chunk ▸ embed ▸ index.

`refresh` runs the same stages on a ready data source without taking it offline (after an upgrade
that extracts text better).

Each run claims the data source (so two workers never process it at once), keeps a heartbeat
while it works (so a killed run is found by the sweeper), reports stage and progress live, and
ends `ready` or `error` with a reason a person understands.
"""

import contextlib
import logging
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
from django.conf import settings
from django.core.files.storage import default_storage
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from config import rls
from datasources import chunk_format, events
from datasources.chunking import ChunkDraft, chunk_document
from datasources.embedders import EmbeddingError, get_embedder
from datasources.filetypes import FileKind, RejectedFile
from datasources.indexes import index_chunks
from datasources.indexes.vector import VectorIndexError
from datasources.models import Chunk, DataSource
from datasources.sandbox import extract_in_sandbox, ocr_engine
from datasources.sidethread import SideThread

logger = logging.getLogger(__name__)

EMBED_BATCH = 256  # texts per embed call: the model sorts each call by length, so larger calls pad less
# Share of the progress bar each stage ends at, after where a 30-page filing's time goes on 2 cores:
# about 8% reading it (measured page by page), 2% chunking, 85% embedding (measured within the stage,
# pass by pass), 5% indexing. A claimed run starts at 1%, to show it has begun.
STARTED, EXTRACTED, CHUNKED, EMBEDDED = 1, 10, 12, 95


# The stage a file is in while the pages it reads include scanned ones, which take seconds each.
SCANNED_PAGES_STAGE = "reading scanned pages"


def no_text_reason() -> str:
    if ocr_engine() is None:
        return ("No text found in this file. A scanned document needs OCR, and Tesseract (OCR) is not "
                "installed on this server.")
    return "No text found in this file, not even by OCR on its scanned pages."


class ProcessingFailed(Exception):
    """A reason to end the run in `error`, worded for the person who uploaded the file."""


def process(data_source_id: str) -> None:
    data_source = claim(data_source_id)
    if data_source is None:
        return  # deleted, finished, or held by another live run
    with Heartbeat(data_source.pk, data_source.company_id):
        try:
            run_for(data_source).execute()
        except (ProcessingFailed, RejectedFile, EmbeddingError, VectorIndexError) as exc:
            fail(data_source, str(exc))
        except Exception as exc:
            logger.exception("Processing data source %s failed", data_source.pk)
            fail(data_source, f"Processing failed unexpectedly ({type(exc).__name__}); try reprocessing.")


def refresh(data_source_id: str) -> None:
    """Extract, chunk and embed a ready data source again while it stays ready: its current chunks
    keep answering until the new ones replace them in one transaction and are indexed. A run that
    fails leaves the current chunks in place, ready, and logs why."""
    data_source = DataSource.objects.select_related("company").filter(
        pk=data_source_id, status=DataSource.Status.READY).first()
    if data_source is None:
        return  # deleted, or being processed from scratch
    try:
        run_for(data_source).execute()
    except Exception:
        logger.exception("Reprocessing data source %s failed; its current chunks stay", data_source.pk)
        DataSource.objects.filter(pk=data_source.pk, status=DataSource.Status.READY).update(stage="ready",
                                                                                           progress=100)


def run_for(data_source: DataSource) -> "Run":
    """The run that reads this kind of data source: a stored file, or a website crawled now."""
    if data_source.type == DataSource.WEBSITE:
        from datasources.websites import WebsiteRun  # a kind of Run, defined below: imported when needed

        return WebsiteRun(data_source)
    return Run(data_source)


def claim(data_source_id: str) -> DataSource | None:
    """Take the data source for this run, atomically: only one live run per data source."""
    now = timezone.now()
    claimed = (
        DataSource.objects.filter(pk=data_source_id, status=DataSource.Status.PROCESSING)
        .filter(Q(heartbeat_at__isnull=True) | Q(heartbeat_at__lt=stale_before(now)))
        .update(heartbeat_at=now, processing_started_at=now, attempts=F("attempts") + 1,
                stage="extracting", progress=STARTED, error_message="")
    )
    return DataSource.objects.select_related("company").get(pk=data_source_id) if claimed else None


def fail(data_source: DataSource, reason: str) -> None:
    data_source.status = DataSource.Status.ERROR
    data_source.stage = "error"
    data_source.error_message = reason
    data_source.processed_at = timezone.now()
    data_source.save(update_fields=["status", "stage", "error_message", "processed_at", "updated_at"])
    events.publish(data_source)
    events.announce_outcome(data_source)


def stale_before(now: datetime | None = None) -> datetime:
    """A run whose heartbeat is older than this is dead (PROCESSING_STALE_SECONDS): another run may claim
    its data source, and the sweeper requeues it."""
    return (now or timezone.now()) - timedelta(seconds=settings.PROCESSING_STALE_SECONDS)


class Heartbeat(SideThread):
    """Marks the run alive every few seconds from a side thread, whatever stage blocks."""

    def __init__(self, data_source_pk, company_id):
        super().__init__(interval=max(1.0, settings.PROCESSING_STALE_SECONDS / 4), name=f"heartbeat-{data_source_pk}")
        self.pk, self.company_id = data_source_pk, company_id

    def tick(self) -> None:
        try:
            with rls.company_transaction(self.company_id):  # this thread's connection is its own
                DataSource.objects.filter(pk=self.pk, status=DataSource.Status.PROCESSING).update(
                    heartbeat_at=timezone.now())
        except Exception:  # a missed beat is retried at the next tick; the sweeper allows for several
            logger.warning("Heartbeat of data source %s failed", self.pk, exc_info=True)

    def finish(self) -> None:
        connection.close()  # this thread's own connection


class Run:
    def __init__(self, data_source: DataSource):
        self.data_source = data_source
        self.timings: dict[str, float] = {}

    def execute(self) -> None:
        with self.timed("extract"), local_copy(self.data_source) as path:
            extraction = extract_in_sandbox(path, FileKind(self.data_source.type), file_name=self.data_source.name,
                                            progress=self.pages_read)
        self.report("chunking", EXTRACTED)
        embedder = get_embedder()
        with self.timed("chunk"):
            drafts = chunk_document(extraction, file_name=self.data_source.name,
                                    count_tokens=embedder.count_tokens, max_tokens=embedder.max_tokens)
        if not drafts:
            raise ProcessingFailed(no_text_reason())
        self.report("embedding", CHUNKED)
        with self.timed("embed"):
            vectors = self.embed(embedder, drafts)
        self.report("indexing", EMBEDDED)
        with self.timed("index"):
            chunks, dropped_ids = self.store(drafts, vectors)
            index_chunks(self.data_source, chunks, dropped_ids=dropped_ids)
        self.finish(extraction, embedder, len(chunks))

    def pages_read(self, done: int, total: int, scanned: int) -> None:
        stage = SCANNED_PAGES_STAGE if scanned else "extracting"
        self.report(stage, STARTED + (EXTRACTED - STARTED) * done // total)

    def embed(self, embedder, drafts: list[ChunkDraft]) -> np.ndarray | None:
        if not embedder.enabled:
            return None  # lexical search only
        parts = []
        for start in range(0, len(drafts), EMBED_BATCH):
            def embedded(count: int, before: int = start) -> None:
                self.report("embedding", CHUNKED + (EMBEDDED - CHUNKED) * (before + count) // len(drafts))

            batch = [draft.text for draft in drafts[start:start + EMBED_BATCH]]
            parts.append(embedder.embed_documents(batch, progress=embedded))
        return np.vstack(parts).astype(np.float32)

    def store(self, drafts: list[ChunkDraft], vectors: np.ndarray | None) -> tuple[list[Chunk], list[str]]:
        """Replace the data source's chunks in one transaction: re-runs never duplicate.

        Returns the new chunks and the ids of earlier chunks that no longer exist, whose vectors
        the index must drop (a re-run that yields fewer chunks).
        """
        source = self.data_source
        chunks = [
            Chunk(id=chunk_format.chunk_id(source.id, n), company_id=source.company_id, data_source=source, position=n,
                  text=draft.text, metadata=draft.metadata, token_count=draft.token_count,
                  embedding=vectors[n].tobytes() if vectors is not None else None)
            for n, draft in enumerate(drafts)
        ]
        with transaction.atomic():
            earlier = set(Chunk.objects.filter(data_source=source).values_list("id", flat=True))
            Chunk.objects.filter(data_source=source).delete()
            Chunk.objects.bulk_create(chunks, batch_size=500)
        return chunks, sorted(earlier - {chunk.id for chunk in chunks})

    def finish(self, extraction, embedder, chunk_count: int) -> None:
        source = self.data_source
        became_ready = source.status != DataSource.Status.READY  # not a refresh of a ready one
        source.status = DataSource.Status.READY
        source.stage = "ready"
        source.progress = 100
        source.chunk_count = chunk_count
        source.page_count = extraction.page_count
        source.row_count = extraction.row_count
        source.embedding_model = embedder.model
        source.embedding_dimension = embedder.dimension
        source.timings = {name: round(seconds, 3) for name, seconds in self.timings.items()}
        source.processed_at = timezone.now()
        source.save()
        events.publish(source)
        if became_ready:
            events.announce_outcome(source)

    def report(self, stage: str, progress: int) -> None:
        """Save and announce progress when it moved: at most once per percentage point, whatever the
        file's size, and as often as the embedder finishes a forward pass (about a second on 2 cores)."""
        if (stage, progress) == (self.data_source.stage, self.data_source.progress):
            return
        self.data_source.stage = stage
        self.data_source.progress = progress
        DataSource.objects.filter(pk=self.data_source.pk).update(stage=stage, progress=progress,
                                                                 heartbeat_at=timezone.now())
        events.publish(self.data_source)

    @contextlib.contextmanager
    def timed(self, name: str):
        started = time.monotonic()
        yield
        self.timings[name] = self.timings.get(name, 0.0) + time.monotonic() - started


@contextlib.contextmanager
def local_copy(data_source: DataSource):
    """A path on local disk for the extractor: the file itself, or a temporary download (S3)."""
    if not data_source.storage_path or not default_storage.exists(data_source.storage_path):
        raise ProcessingFailed("The uploaded file is missing from storage; upload it again.")
    try:
        on_disk = Path(default_storage.path(data_source.storage_path))
    except NotImplementedError:
        on_disk = None  # remote storage (S3): download it first
    if on_disk is not None:
        yield on_disk
        return
    suffix = Path(data_source.storage_path).suffix
    with tempfile.NamedTemporaryFile(suffix=suffix) as copy, default_storage.open(data_source.storage_path) as remote:
        for block in iter(lambda: remote.read(1 << 20), b""):
            copy.write(block)
        copy.flush()
        yield Path(copy.name)
