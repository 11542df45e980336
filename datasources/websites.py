"""A website as a data source: its pages crawled (datasources/crawler.py), each page's main text read in
the sandbox, and each page chunked as a document of its own whose chunks carry its URL.

A re-crawl (on demand, or when WEBSITE_RECRAWL_HOURS have passed) fetches the pages again, keeps the
vectors of the pages whose text did not change, embeds only the pages that changed or are new, and
drops the pages that are gone; the data source answers from its current chunks meanwhile.
"""

import hashlib
import tempfile
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path

import numpy as np
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from datasources.chunking import ChunkDraft, chunk_document
from datasources.crawler import CrawlFailed, CrawlLimits, CrawlReport, Page, crawl
from datasources.embedders import get_embedder
from datasources.extractors import Extraction
from datasources.filetypes import FileKind, RejectedFile
from datasources.indexes import index_chunks
from datasources.models import Chunk, DataSource, WebPage
from datasources.pipeline import CHUNKED, EMBEDDED, EXTRACTED, STARTED, ProcessingFailed, Run
from datasources.sandbox import extract_in_sandbox


@dataclass(frozen=True)
class PageText:
    url: str
    title: str
    extraction: Extraction

    @property
    def text(self) -> str:
        return "\n\n".join(section.text for section in self.extraction.sections)

    @property
    def content_hash(self) -> str:
        return hashlib.sha256(f"{self.title}\n{self.text}".encode()).hexdigest()


class WebsiteRun(Run):
    def execute(self) -> None:
        source = self.data_source
        with self.timed("crawl"):
            pages, report = self.fetch_pages()
        self.report("chunking", EXTRACTED)
        embedder = get_embedder()
        known = {page.url: page for page in WebPage.objects.filter(data_source=source)}
        with self.timed("chunk"):
            drafts, vectors, changed = self.chunk(pages, embedder, known)
        if not drafts:
            raise ProcessingFailed(f"No text found on the pages fetched from {source.source_url}.")
        self.report("embedding", CHUNKED)
        with self.timed("embed"):
            vectors = self.embed_changed(embedder, drafts, vectors)
        self.report("indexing", EMBEDDED)
        with self.timed("index"):
            with transaction.atomic():
                chunks, dropped_ids = self.store(drafts, vectors)
                self.store_pages(pages, changed)
            index_chunks(source, chunks, dropped_ids=dropped_ids)
        source.crawl_report = report.as_json()
        self.finish(Extraction(title=source.name, page_count=len(pages)), embedder, len(chunks))

    def fetch_pages(self) -> tuple[list[PageText], CrawlReport]:
        """The pages with text, each read in the sandbox as soon as it is fetched, and the crawl's report."""
        source = self.data_source
        limits = CrawlLimits.for_plan(source.company.limits)
        pages: list[PageText] = []

        def read(page: Page) -> None:
            text = self.read(page)
            if text is not None:
                pages.append(text)
            self.report("crawling", STARTED + (EXTRACTED - STARTED) * len(pages) // limits.max_pages)

        try:
            report = crawl(source.source_url, follow_links=source.crawl_site, limits=limits, on_page=read)
        except CrawlFailed as exc:
            raise ProcessingFailed(str(exc)) from None
        return pages, report

    def read(self, page: Page) -> PageText | None:
        """The page's main text, read in the sandbox; None for a page without any."""
        with tempfile.NamedTemporaryFile(suffix=".html") as copy:
            copy.write(page.html)
            copy.flush()
            try:
                extraction = extract_in_sandbox(Path(copy.name), FileKind.WEBPAGE, file_name=page.url)
            except RejectedFile:
                return None
        if not extraction.sections:
            return None
        return PageText(url=page.url, title=extraction.title, extraction=extraction)

    def chunk(self, pages: list[PageText], embedder, known: dict[str, WebPage]):
        """Every page's drafts in order, beside the vectors kept from the last crawl (None where the page
        changed or is new, to embed), and the URLs of the pages that changed."""
        reusable = self.reusable_chunks(embedder, known)
        drafts, vectors, changed = [], [], set()
        for page in pages:
            earlier = known.get(page.url)
            kept = reusable.get(page.url) if earlier and earlier.content_hash == page.content_hash else None
            if kept:
                drafts += [ChunkDraft(text=c.text, metadata=c.metadata, token_count=c.token_count) for c in kept]
                vectors += [c.embedding for c in kept]
                continue
            changed.add(page.url)
            for draft in chunk_document(page.extraction, file_name=self.data_source.name,
                                        count_tokens=embedder.count_tokens, max_tokens=embedder.max_tokens):
                drafts.append(replace(draft, metadata={**draft.metadata, "url": page.url}))
                vectors.append(None)
        return drafts, vectors, changed

    def reusable_chunks(self, embedder, known: dict[str, WebPage]) -> dict[str, list[Chunk]]:
        """The stored chunks of each known page, when their vectors come from the embedder in use."""
        source = self.data_source
        if not known or (embedder.enabled and source.embedding_model != embedder.model):
            return {}
        by_url: dict[str, list[Chunk]] = {}
        for chunk in Chunk.objects.filter(data_source=source).order_by("position"):
            if embedder.enabled and chunk.embedding is None:
                return {}
            by_url.setdefault(chunk.metadata.get("url"), []).append(chunk)
        return by_url

    def embed_changed(self, embedder, drafts: list[ChunkDraft], vectors: list) -> np.ndarray | None:
        """Vectors for every draft: the kept ones as they were, the new ones embedded now."""
        if not embedder.enabled:
            return None
        fresh = [n for n, vector in enumerate(vectors) if vector is None]
        embedded = self.embed(embedder, [drafts[n] for n in fresh]) if fresh else None
        rows = [None if vector is None else np.frombuffer(vector, dtype=np.float32) for vector in vectors]
        for row, n in enumerate(fresh):
            rows[n] = embedded[row]
        return np.vstack(rows).astype(np.float32)

    def store_pages(self, pages: list[PageText], changed: set[str]) -> None:
        """Record the pages as this crawl found them; forget those it did not find."""
        now = timezone.now()
        source = self.data_source
        WebPage.objects.filter(data_source=source).exclude(url__in=[page.url for page in pages]).delete()
        for page in pages:
            fields = {"title": page.title, "text": page.text, "content_hash": page.content_hash, "fetched_at": now}
            if page.url in changed:
                fields["changed_at"] = now
            WebPage.objects.update_or_create(data_source=source, url=page.url, defaults=fields)


def websites_due(now=None):
    """Ready websites whose last crawl is older than WEBSITE_RECRAWL_HOURS (none when it is 0)."""
    if not settings.WEBSITE_RECRAWL_HOURS:
        return DataSource.objects.none()
    before = (now or timezone.now()) - timedelta(hours=settings.WEBSITE_RECRAWL_HOURS)
    return DataSource.objects.filter(type=DataSource.WEBSITE, status=DataSource.Status.READY, processed_at__lt=before)
