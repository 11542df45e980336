import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

from accounts.models import Company


class DataSource(models.Model):
    class Status(models.TextChoices):
        PROCESSING = "processing", "Processing"
        READY = "ready", "Ready"
        ERROR = "error", "Error"

    # Columns of the spec's `data_sources` table.
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.TextField()
    type = models.TextField()  # pdf, xlsx, csv, docx, html, txt, md, image, website
    size = models.BigIntegerField(null=True, blank=True)
    status = models.TextField(choices=Status.choices, default=Status.PROCESSING)
    storage_path = models.TextField(null=True, blank=True)
    pinecone_namespace = models.TextField(null=True, blank=True)
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="data_sources")
    created_at = models.DateTimeField(default=timezone.now)

    # Added by Docent: provenance, live progress, outcome.
    sha256 = models.CharField(max_length=64, blank=True, default="")
    version = models.PositiveIntegerField(default=1)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    stage = models.TextField(blank=True, default="queued")
    progress = models.PositiveSmallIntegerField(default=0)
    page_count = models.PositiveIntegerField(null=True, blank=True)
    row_count = models.PositiveIntegerField(null=True, blank=True)
    chunk_count = models.PositiveIntegerField(default=0)
    embedding_model = models.TextField(blank=True, default="")
    embedding_dimension = models.PositiveIntegerField(null=True, blank=True)
    error_message = models.TextField(blank=True, default="")
    timings = models.JSONField(default=dict, blank=True)  # seconds per stage
    attempts = models.PositiveSmallIntegerField(default=0)
    task_id = models.TextField(blank=True, default="")  # the queued processing task
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    processing_started_at = models.DateTimeField(null=True, blank=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    # A website (type "website"): where its crawl starts, and whether it follows links from there.
    source_url = models.TextField(blank=True, default="")
    crawl_site = models.BooleanField(default=False)
    crawl_report = models.JSONField(default=dict, blank=True)  # pages kept, skipped and why, of the last crawl

    WEBSITE = "website"

    class Meta:
        db_table = "data_sources"
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["company", "created_at"], name="data_sources_company_created"),
            models.Index(fields=["company", "sha256"], name="data_sources_company_sha256"),
            models.Index(fields=["status", "heartbeat_at"], name="data_sources_status_heartbeat"),
        ]

    def __str__(self):
        return self.name


class Chunk(models.Model):
    """A passage of a data source: the source of truth for search and for rebuilding any index."""

    id = models.TextField(primary_key=True)  # chunk_format.chunk_id(data source id, position)
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+")
    data_source = models.ForeignKey(DataSource, on_delete=models.CASCADE, related_name="chunks")
    position = models.PositiveIntegerField()
    text = models.TextField()
    # file_name, page_number or sheet + row_start/row_end, title, heading
    metadata = models.JSONField(default=dict)
    token_count = models.PositiveIntegerField(default=0)
    # float32 vector for the local index (ARCHITECTURE: vectors stored with the chunks)
    embedding = models.BinaryField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "chunks"
        ordering = ["data_source", "position"]
        indexes = [models.Index(fields=["company", "data_source"], name="chunks_company_data_source")]
        constraints = [
            models.UniqueConstraint(fields=["data_source", "position"], name="chunks_data_source_position")
        ]

    def __str__(self):
        return self.id


class WebPage(models.Model):
    """One page of a website data source, as its last crawl found it; its chunks carry its URL."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    data_source = models.ForeignKey(DataSource, on_delete=models.CASCADE, related_name="web_pages")
    url = models.TextField()
    title = models.TextField(blank=True, default="")
    text = models.TextField()  # the main text, as extracted
    content_hash = models.CharField(max_length=64)  # sha256 of `text`: a re-crawl re-embeds a page when it moves
    fetched_at = models.DateTimeField(default=timezone.now)
    changed_at = models.DateTimeField(default=timezone.now)  # when its text last changed (and was embedded)

    class Meta:
        db_table = "web_pages"
        ordering = ["data_source", "url"]
        constraints = [models.UniqueConstraint(fields=["data_source", "url"], name="web_pages_data_source_url")]

    def __str__(self):
        return self.url


class LexicalIndex(models.Model):
    """A data source's lexical (BM25) index, built by the pipeline from its chunks and stored beside them,
    so that each web process loads it rather than tokenizing every chunk (datasources/indexes/lexical.py)."""

    data_source = models.OneToOneField(DataSource, on_delete=models.CASCADE, primary_key=True,
                                       related_name="lexical_index")
    data = models.BinaryField()  # SourceIndex.to_bytes()

    class Meta:
        db_table = "lexical_indexes"

    def __str__(self):
        return f"lexical index of data source {self.data_source_id}"


class VectorIndexVersion(models.Model):
    """A company's counter, bumped in the same transaction as any change to its chunk vectors.

    Each process of the local vector index caches every company's vectors in memory; the web
    process and the worker are different processes, so comparing this counter (one indexed read
    per query) is how one learns that the other changed them.
    """

    company = models.OneToOneField(Company, on_delete=models.CASCADE, primary_key=True, related_name="+")
    version = models.PositiveBigIntegerField(default=0)

    class Meta:
        db_table = "vector_index_versions"

    def __str__(self):
        return f"vectors of company {self.company_id}, version {self.version}"


class VectorIndexChange(models.Model):
    """The company version at which a data source's vectors last changed, written with the bump.

    A process whose copy of a company is older re-reads only the data sources changed since its own
    version. `data_source_id` is not a foreign key: the record must outlive a deleted data source, so
    that every process learns its rows are gone.
    """

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+")
    data_source_id = models.UUIDField()
    version = models.PositiveBigIntegerField()

    class Meta:
        db_table = "vector_index_changes"
        constraints = [
            models.UniqueConstraint(fields=["company", "data_source_id"], name="vector_index_changes_source")
        ]

    def __str__(self):
        return f"vectors of data source {self.data_source_id}, changed at version {self.version}"
