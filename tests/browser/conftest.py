"""A real Chromium (Debian's) driven by Playwright, and customer sites served from a second local origin.

Docent runs in pytest-django's live server at http://localhost:<port>; the customer's pages are
served from http://127.0.0.1:<another port>, so the browser treats them as another site.
"""

import shutil
import threading
from contextlib import contextmanager
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from string import Template

import pytest
from playwright.sync_api import sync_playwright

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
INSTALL_HINT = "apt-get update && apt-get install -y chromium (or: make test, which installs it)"
HOST_PAGE = Template((Path(__file__).parent / "host_page.html").read_text())


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        pass


class CustomerSite:
    """Pages of a customer's website, written to a folder and served from their own origin."""

    def __init__(self, folder: Path, server: ThreadingHTTPServer):
        self.folder = folder
        self.origin = f"http://127.0.0.1:{server.server_address[1]}"

    def page(self, name: str, embed: str) -> str:
        (self.folder / name).write_text(HOST_PAGE.substitute(embed=embed))
        return f"{self.origin}/{name}"


@contextmanager
def serve(folder: Path):
    folder.mkdir()
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(QuietHandler, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield CustomerSite(folder, server)
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture
def customer_site(tmp_path):
    with serve(tmp_path / "customer") as site:
        yield site


@pytest.fixture
def stranger_site(tmp_path):
    """A site no integration allows."""
    with serve(tmp_path / "stranger") as site:
        yield site


@pytest.fixture
def chromium():
    """Start Chromium inside the test, after its database rows exist.

    Playwright's sync API runs an event loop in this thread, and Django refuses database calls
    while one runs; so tests create their rows first and open the browser afterwards.
    """
    if shutil.which(CHROMIUM) is None:
        pytest.fail(f"{CHROMIUM} is missing; the browser tests drive Debian's Chromium. Install it: {INSTALL_HINT}")

    @contextmanager
    def launch():
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                yield browser
            finally:
                browser.close()

    return launch
