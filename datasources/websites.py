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
from datasources.crawler import CrawlFailed, CrawlLimits, crawl
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
    content_hash: str


class WebsiteRun(Run):
    def execute(self) -> None:
        source = self.data_source
        limits = CrawlLimits.for_plan(source.company.limits)
        with self.timed("crawl"):
            try:
                report = crawl(source.source_url, follow_links=source.crawl_site, limits=limits,
                               progress=lambda done, most: self.report("crawling", STARTED + 5 * done // most))
            except CrawlFailed as exc:
                raise ProcessingFailed(str(exc)) from None
        with self.timed("extract"):
            pages = [page for page in map(self.read, report.pages) if page is not None]
        if not pages:
            raise ProcessingFailed(f"No text found on the pages fetched from {source.source_url}.")
        self.report("chunking", EXTRACTED)
        embedder = get_embedder()
        known = {page.url: page for page in WebPage.objects.filter(data_source=source)}
        reusable = self.reusable_chunks(embedder, known)
        drafts, vectors, changed = [], [], []
        with self.timed("chunk"):
            for page in pages:
                earlier = reusable.get(page.url) if page.content_hash == getattr(known.get(page.url), "content_hash",
                                                                                 None) else None
                if earlier:
                    drafts += [ChunkDraft(text=c.text, metadata=c.metadata, token_count=c.token_count) for c in earlier]
                    vectors += [c.embedding for c in earlier]
                    continue
                changed.append(page)
                for draft in chunk_document(page.extraction, file_name=source.name, count_tokens=embedder.count_tokens,
                                            max_tokens=embedder.max_tokens):
                    drafts.append(replace(draft, metadata={**draft.metadata, "url": page.url}))
                    vectors.append(None)
        if not drafts:
            raise ProcessingFailed(f"No text found on the pages fetched from {source.source_url}.")
        self.report("embedding", CHUNKED)
        with self.timed("embed"):
            vectors = self.embed_changed(embedder, drafts, vectors)
        self.report("indexing", EMBEDDED)
        with self.timed("index"), transaction.atomic():
            chunks, dropped_ids = self.store(drafts, vectors)
            self.store_pages(pages, {page.url for page in changed}, known)
        index_chunks(source, chunks, dropped_ids=dropped_ids)
        source.crawl_report = report.as_json()
        self.finish(Extraction(title=source.name, page_count=len(pages)), embedder, len(chunks))

    def read(self, page) -> PageText | None:
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
        text = "\n\n".join(section.text for section in extraction.sections)
        return PageText(url=page.url, title=extraction.title, extraction=extraction,
                        content_hash=hashlib.sha256(f"{extraction.title}\n{text}".encode()).hexdigest())

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

    def store_pages(self, pages: list[PageText], changed: set[str], known: dict[str, WebPage]) -> None:
        now = timezone.now()
        source = self.data_source
        WebPage.objects.filter(data_source=source).exclude(url__in=[page.url for page in pages]).delete()
        for page in pages:
            fields = {"title": page.title, "text": "\n\n".join(s.text for s in page.extraction.sections),
                      "content_hash": page.content_hash, "fetched_at": now}
            if page.url in changed:
                fields["changed_at"] = now
            WebPage.objects.update_or_create(data_source=source, url=page.url, defaults=fields)


def websites_due(now=None):
    """Ready websites whose last crawl is older than WEBSITE_RECRAWL_HOURS (none when it is 0)."""
    if not settings.WEBSITE_RECRAWL_HOURS:
        return DataSource.objects.none()
    before = (now or timezone.now()) - timedelta(hours=settings.WEBSITE_RECRAWL_HOURS)
    return DataSource.objects.filter(type=DataSource.WEBSITE, status=DataSource.Status.READY, processed_at__lt=before)
