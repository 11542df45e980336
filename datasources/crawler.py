"""Fetching a company's website: one page, or the pages under a start URL found by links and sitemaps.

Every request goes through config.outbound (the address checked, the connection pinned to it, proxies
ignored). Redirects are followed here, at most MAX_REDIRECTS, each new URL checked again like the first
and a loop stopped. The crawl keeps to the start URL's host and path prefix, obeys robots.txt (its own
group, else `*`), waits CRAWLER_SECONDS_PER_REQUEST between two requests, and stops at the plan's page
count and time, CRAWLER_MAX_DEPTH links from the start, and CRAWLER_PAGE_MAX_BYTES per answer, counted
after inflating (a gzip bomb is stopped as it inflates, never held whole). Sitemaps are read with
defusedxml. What it fetches is hostile: pages are handed on as bytes, for the sandboxed extractor.
"""

import time
import urllib.robotparser
import zlib
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urldefrag, urljoin, urlsplit

from defusedxml import DefusedXmlException, ElementTree
from django.conf import settings

from config import outbound

MAX_REDIRECTS = 5
MAX_SITEMAPS = 20  # sitemap files read per crawl, nested indexes included
MAX_URLS_PER_PAGE = 20  # URLs queued per page the plan allows: a site of endless links cannot fill memory
PAGE_TYPES = ("text/html", "application/xhtml+xml")
SITEMAP_NAMESPACE = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


class CrawlFailed(Exception):
    """Not even the start URL could be fetched; the message says why, for the person who gave it."""


def user_agent() -> str:
    return f"DocentBot/1.0 (+{settings.CRAWLER_CONTACT_URL})"


@dataclass(frozen=True)
class CrawlLimits:
    max_pages: int
    seconds: float
    max_depth: int = 5
    max_bytes: int = 2 * 1024 * 1024
    page_timeout: float = 15
    pace: float = 1.0  # seconds between two requests to the site

    @classmethod
    def for_plan(cls, limits: dict) -> "CrawlLimits":
        return cls(max_pages=limits["website_pages"], seconds=limits["crawl_minutes"] * 60,
                   max_depth=settings.CRAWLER_MAX_DEPTH, max_bytes=settings.CRAWLER_PAGE_MAX_BYTES,
                   page_timeout=settings.CRAWLER_PAGE_TIMEOUT_SECONDS, pace=settings.CRAWLER_SECONDS_PER_REQUEST)


@dataclass(frozen=True)
class Page:
    url: str  # where the page was found, after redirects
    html: bytes


@dataclass
class CrawlReport:
    pages: list[str] = field(default_factory=list)  # the URLs of the pages fetched
    skipped: list[dict] = field(default_factory=list)  # {"url", "reason"}
    stopped: str = ""  # why the crawl ended before it ran out of pages, if it did

    def as_json(self) -> dict:
        return {"pages": self.pages, "skipped": self.skipped[:200], "stopped": self.stopped}


class Skip(Exception):
    """This URL gives no page; the message says why."""


def check_start_url(url: str) -> str:
    """The URL as it will be crawled (no fragment), or outbound.Refused."""
    url = urldefrag(url.strip())[0]
    outbound.parse_target(url)
    return url


def crawl(start_url: str, *, follow_links: bool, limits: CrawlLimits, on_page: Callable[[Page], None]) -> CrawlReport:
    """Fetch the website at `start_url` (just that page unless `follow_links`), handing each page to
    `on_page` as it arrives (so that no more than one is held at a time); what was fetched and skipped."""
    return _Crawl(check_start_url(start_url), limits, on_page).run(follow_links)


class _Crawl:
    def __init__(self, start_url: str, limits: CrawlLimits, on_page: Callable[[Page], None]):
        self.start_url = start_url
        self.limits = limits
        self.on_page = on_page
        self.deadline = time.monotonic() + limits.seconds
        self.last_request = 0.0
        self.report = CrawlReport()
        self.most_urls = MAX_URLS_PER_PAGE * limits.max_pages
        self.queue: deque[tuple[str, int]] = deque()
        self.seen: set[str] = set()
        self.fetched: set[str] = set()
        self.origin = ""
        self.scope_on(start_url)

    def scope_on(self, url: str) -> None:
        """Keep the crawl to this URL's host and folder, as its robots.txt allows."""
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        self.prefix = parts.path[:parts.path.rfind("/") + 1] or "/"
        if origin != self.origin:
            self.origin = origin
            self.robots = self.read_robots()

    def run(self, follow_links: bool) -> CrawlReport:
        if follow_links and self.is_sitemap(self.start_url):
            self.enqueue(self.sitemap_pages([self.start_url]), depth=0)
        else:
            # The start page first: where its redirects lead (http to https, the bare host to www), the
            # crawl's scope moves with them, before the sitemaps are read.
            self.visit(self.start_url, 0, follow_links=follow_links, start=True)
            if follow_links:
                self.enqueue(self.sitemap_pages(self.robots.site_maps() or [f"{self.origin}/sitemap.xml"]), depth=1)
        while self.queue and not self.must_stop():
            url, depth = self.queue.popleft()
            self.visit(url, depth, follow_links=follow_links)
        if not self.report.pages:
            reason = self.report.skipped[0]["reason"] if self.report.skipped else "no page was found"
            raise CrawlFailed(f"Nothing could be read from {self.start_url}: {reason}")
        return self.report

    def visit(self, url: str, depth: int, *, follow_links: bool, start: bool = False) -> None:
        """Fetch the page, hand it on, and queue the links it holds within the site."""
        self.seen.add(url)
        try:
            final_url, html = self.fetch_page(url, start=start)
        except Skip as exc:
            self.report.skipped.append({"url": url, "reason": str(exc)})
            return
        if final_url in self.fetched:
            return  # another URL redirected here
        self.fetched.add(final_url)
        self.report.pages.append(final_url)
        self.on_page(Page(url=final_url, html=html))
        if follow_links and depth < self.limits.max_depth:
            self.enqueue((link for link in links_in(html, final_url) if self.in_scope(link)), depth=depth + 1)

    def enqueue(self, urls, *, depth: int) -> None:
        for url in urls:
            if url not in self.seen and len(self.seen) < self.most_urls:
                self.seen.add(url)
                self.queue.append((url, depth))

    def must_stop(self) -> bool:
        """The plan's page count or crawl time is reached (said in the report)."""
        if len(self.report.pages) >= self.limits.max_pages:
            self.report.stopped = f"Stopped at your plan's limit of {self.limits.max_pages} pages."
        elif time.monotonic() > self.deadline:
            self.report.stopped = f"Stopped after {self.limits.seconds / 60:g} minutes, your plan's crawl time."
        return bool(self.report.stopped)

    def in_scope(self, url: str) -> bool:
        parts = urlsplit(url)
        return f"{parts.scheme}://{parts.netloc}" == self.origin and parts.path.startswith(self.prefix)

    def is_sitemap(self, url: str) -> bool:
        return urlsplit(url).path.endswith((".xml", ".xml.gz"))

    def fetch_page(self, url: str, *, start: bool = False) -> tuple[str, bytes]:
        final_url, answer, body = self.fetch(url, start=start)
        content_type = answer.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type not in PAGE_TYPES:
            raise Skip(f"not a web page ({content_type or 'no content type'})")
        return final_url, body

    def fetch(self, url: str, *, start: bool = False) -> tuple[str, outbound.Answer, bytes]:
        """(the URL after redirects, its answer, its body inflated) of a 200 answer, or Skip. The start page's
        redirects may leave the site: the crawl then moves to where they lead."""
        visited = []
        while True:
            if url in visited:
                raise Skip("the redirects go round in a loop")
            if len(visited) > MAX_REDIRECTS:
                raise Skip(f"more than {MAX_REDIRECTS} redirects")
            if visited:
                self.check_redirect(url)
            if visited and start:
                self.scope_on(url)
            elif visited and not self.in_scope(url) and not self.is_sitemap(url):
                raise Skip(f"redirected outside the site, to {url}")
            if not self.robots.can_fetch(user_agent(), url):
                raise Skip("robots.txt asks crawlers not to fetch it")
            visited.append(url)
            answer = self.get(url)
            if 300 <= answer.status < 400 and answer.location:
                url = urldefrag(urljoin(url, answer.location))[0]
                continue
            if answer.status != 200:
                raise Skip(f"the site answered {answer.status}")
            return url, answer, self.inflated(answer, url)

    def check_redirect(self, url: str) -> None:
        """A redirect's target is checked like the start URL (its address is checked again on connecting)."""
        try:
            outbound.parse_target(url)
        except outbound.Refused as exc:
            raise Skip(f"redirected to {url}, refused: {str(exc).rstrip('.')}") from None

    def get(self, url: str) -> outbound.Answer:
        self.wait_turn()
        timeout = min(self.limits.page_timeout, max(1.0, self.deadline - time.monotonic()))
        headers = {"User-Agent": user_agent(), "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9",
                   "Accept-Encoding": "gzip"}
        try:
            answer = outbound.get(url, headers=headers, timeout=timeout, max_body=self.limits.max_bytes)
        except (outbound.Refused, outbound.SendFailed) as exc:
            raise Skip(str(exc).rstrip(".")) from None
        finally:
            self.last_request = time.monotonic()
        if answer.truncated:
            raise Skip(self.too_large())
        return answer

    def wait_turn(self) -> None:
        wait = self.last_request + self.limits.pace - time.monotonic()
        if wait > 0:
            time.sleep(wait)

    def inflated(self, answer: outbound.Answer, url: str) -> bytes:
        encoding = answer.headers.get("content-encoding", "").strip().lower()
        gzipped_file = urlsplit(url).path.endswith(".gz") and answer.body[:2] == b"\x1f\x8b"
        if encoding in ("", "identity") and not gzipped_file:
            return answer.body
        if encoding not in ("gzip", "x-gzip", "deflate", "", "identity"):
            raise Skip(f"the answer is compressed as {encoding}, which Docent did not ask for")
        window = zlib.MAX_WBITS if encoding == "deflate" else zlib.MAX_WBITS | 16
        inflater = zlib.decompressobj(window)
        try:
            body = inflater.decompress(answer.body, self.limits.max_bytes + 1)
        except zlib.error:
            raise Skip("the compressed answer is damaged") from None
        if len(body) > self.limits.max_bytes or inflater.unconsumed_tail:
            raise Skip(self.too_large())
        return body

    def too_large(self) -> str:
        return f"larger than {self.limits.max_bytes // 1024} KB"

    def read_robots(self) -> urllib.robotparser.RobotFileParser:
        robots = urllib.robotparser.RobotFileParser()
        try:
            answer = self.get(f"{self.origin}/robots.txt")
        except Skip:
            answer = None
        if answer is not None and answer.status >= 500:
            robots.disallow_all = True  # a site in trouble: come back later, as the robots rules ask
        elif answer is not None and answer.status == 200:
            try:
                body = self.inflated(answer, f"{self.origin}/robots.txt")
            except Skip:
                body = b""
            robots.parse(body.decode("utf-8", errors="replace").splitlines())
        else:
            robots.allow_all = True  # none (4xx), or unreachable: nothing is forbidden
        return robots

    def sitemap_pages(self, sitemaps: list[str]) -> list[str]:
        """The page URLs the sitemaps list within the site, nested sitemap indexes followed."""
        pages, queue, read = [], deque(sitemaps), 0
        while queue and read < MAX_SITEMAPS:
            sitemap = queue.popleft()
            read += 1
            try:
                _, _, body = self.fetch(sitemap)
                root = ElementTree.fromstring(body)
            except Skip as exc:
                self.report.skipped.append({"url": sitemap, "reason": f"sitemap not read: {exc}"})
                continue
            except DefusedXmlException:
                self.report.skipped.append({"url": sitemap, "reason": "sitemap not read: it declares entities "
                                                                      "or a DTD, which sitemaps never need"})
                continue
            except ElementTree.ParseError:
                self.report.skipped.append({"url": sitemap, "reason": "sitemap not read: not valid XML"})
                continue
            for loc in root.iter(f"{SITEMAP_NAMESPACE}loc"):
                url = urldefrag((loc.text or "").strip())[0]
                if root.tag == f"{SITEMAP_NAMESPACE}sitemapindex":
                    queue.append(url)
                elif self.in_scope(url) and len(pages) < self.most_urls:
                    pages.append(url)
        return list(dict.fromkeys(pages))


def links_in(html: bytes, base_url: str) -> Iterator[str]:
    """The http(s) URLs the page's <a href> point to, without fragments."""
    reader = _LinkReader()
    reader.feed(html.decode("utf-8", errors="replace"))
    for href in reader.hrefs:
        url = urldefrag(urljoin(base_url, href.strip()))[0]
        if urlsplit(url).scheme in ("http", "https"):
            yield url


class _LinkReader(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.hrefs: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            href = dict(attrs).get("href")
            if href:
                self.hrefs.append(href)
