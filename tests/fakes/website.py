"""A company's website on 127.0.0.1, for the crawler: a help centre under /docs/ with a sitemap (an index
naming a gzipped sitemap) and a robots.txt that forbids /docs/private/, plus the hostile pages a crawler
meets (a redirect loop, a redirect to the cloud metadata address, a huge page, a gzip bomb, a slow page, a
sitemap of expanding entities) and a page outside /docs/.

    site.pages["/docs/returns"] = page("Returns", "…")   # change a page between two crawls
"""

import gzip
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from tests.fakes.http import Reply, Request, serve

NAVIGATION = "Home | Products | Pricing | Careers | Contact us"
FOOTER = "Copyright 2026 Acme Outdoor Ltd. All rights reserved. Privacy policy. Cookie settings."
HUGE_BYTES = 600 * 1024
BOMB_BYTES = 40 * 1024 * 1024  # inflated; about 40 KB on the wire
SLOW_SECONDS = 3


def page(title: str, body: str, *, links: tuple[str, ...] = ()) -> bytes:
    """An HTML page with navigation, a footer and `body` as its article."""
    anchors = "".join(f'<li><a href="{href}">{href}</a></li>' for href in links)
    paragraphs = "".join(f"<p>{paragraph}</p>" for paragraph in body.split("\n\n"))
    return (f"<!doctype html><html><head><title>{title}</title></head><body>"
            f"<header><nav><ul><li>{NAVIGATION}</li>{anchors}</ul></nav></header>"
            f"<main><article><h1>{title}</h1>{paragraphs}</article></main>"
            f"<footer><p>{FOOTER}</p></footer></body></html>").encode()


SHIPPING = ("Every order placed before 2 pm ships the same working day from our warehouse in Leeds. Standard "
            "delivery takes two to three working days and costs 4.95 pounds; orders over 60 pounds ship free.\n\n"
            "Express delivery arrives the next working day when ordered before noon, for 9.95 pounds. We ship "
            "tents, sleeping bags and stoves to every address in the United Kingdom, including the islands.")
RETURNS = ("Unused items may be returned within 30 days of delivery for a full refund. Print the prepaid label "
           "from your account page and drop the parcel at any post office.\n\n"
           "Refunds reach your card within five working days of the parcel arriving at our warehouse. Tents that "
           "have been pitched can be returned only if they are faulty.")
WELCOME = ("Welcome to the Acme Outdoor help centre. Here you find answers about delivery, returns and the care "
           "of your camping equipment, written by our customer service team.\n\n"
           "Choose a topic below or search for a question; our team answers emails within one working day.")


@dataclass
class FakeSite:
    url: str = ""
    requests: list[Request] = field(default_factory=list)
    times: list[tuple[float, str]] = field(default_factory=list)  # (when, path) of every request
    pages: dict[str, bytes] = field(default_factory=dict)

    def __post_init__(self):
        self.pages.update({
            "/docs/": page("Help centre", WELCOME, links=("/docs/shipping", "/about", "/docs/private/staff")),
            "/docs/shipping": page("Shipping", SHIPPING, links=("/docs/returns",)),
            "/docs/returns": page("Returns", RETURNS),
            "/docs/private/staff": page("Staff only", "The staff discount code is STAFF-ONLY-4471 for everyone."),
            "/about": page("About us", "Acme Outdoor was founded in 1987 in a garage in Leeds by two climbers."),
        })

    def __call__(self, request: Request) -> Reply:
        self.times.append((time.monotonic(), request.path))
        path = request.path
        if path == "/robots.txt":
            return text(f"User-agent: *\nDisallow: /docs/private/\n\nSitemap: {self.url}/sitemap.xml\n",
                        "text/plain")
        if path == "/sitemap.xml":
            return text(self.sitemap_index(), "application/xml")
        if path == "/sitemaps/docs.xml.gz":
            return Reply(200, gzip.compress(self.sitemap().encode()), {"Content-Type": "application/gzip"})
        if path == "/docs/laughs.xml":  # a billion laughs: entities that expand to gigabytes
            entities = "".join(f'<!ENTITY lol{n} "{f"&lol{n - 1};" * 10}">' for n in range(1, 10))
            return text(f'<?xml version="1.0"?><!DOCTYPE urlset [<!ENTITY lol0 "lol">{entities}]>'
                        "<urlset><url><loc>&lol9;</loc></url></urlset>", "application/xml")
        if path == "/help":  # the address on the company's business cards
            return Reply(301, b"", {"Location": "/docs/"})
        if path == "/docs/loop":
            return Reply(302, b"", {"Location": "/docs/loop-again"})
        if path == "/docs/loop-again":
            return Reply(301, b"", {"Location": f"{self.url}/docs/loop"})
        if path == "/docs/cloud":
            return Reply(302, b"", {"Location": "http://169.254.169.254/latest/meta-data/"})
        if path == "/docs/huge":
            return Reply(200, page("Huge", "word " * (HUGE_BYTES // 5)), {"Content-Type": "text/html"})
        if path == "/docs/bomb":
            return Reply(200, gzip.compress(b" " * BOMB_BYTES, compresslevel=9),
                         {"Content-Type": "text/html", "Content-Encoding": "gzip"})
        if path == "/docs/slow":
            time.sleep(SLOW_SECONDS)
            return Reply(200, page("Slow", "This page took its time."), {"Content-Type": "text/html"})
        if path in self.pages:
            return Reply(200, self.pages[path], {"Content-Type": "text/html; charset=utf-8"})
        return text("Not found", "text/plain", status=404)

    def sitemap(self) -> str:
        listed = ["/docs/", "/docs/shipping", "/docs/returns", "/docs/private/staff", "/about", "/docs/loop",
                  "/docs/cloud", "/docs/huge", "/docs/bomb", "/docs/slow"]
        urls = "".join(f"<url><loc>{self.url}{path}</loc></url>" for path in listed)
        return f'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>'

    def sitemap_index(self) -> str:
        return ('<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
                f"<sitemap><loc>{self.url}/sitemaps/docs.xml.gz</loc></sitemap></sitemapindex>")

    def fetched(self) -> list[str]:
        return [request.path for request in self.requests]


def text(body: str, content_type: str, *, status: int = 200) -> Reply:
    return Reply(status, body.encode(), {"Content-Type": content_type})


@contextmanager
def running_site() -> Iterator[FakeSite]:
    site = FakeSite()
    with serve(site) as server:
        site.url, site.requests = server.url, server.requests
        yield site
