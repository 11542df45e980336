"""The files page in a real Chromium: an upload's line follows its file's processing to the end."""

import pytest
from playwright.sync_api import expect

from tests.browser.sessions import signed_in, staff_cookie
from tests.ingestion import CORPUS
from tests.worker_processes import WorkerProcesses

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ENCRYPTED = CORPUS / "pdf" / "password-example.pdf"  # processing ends in error: a password-protected PDF


def test_a_file_that_fails_says_failed_not_uploaded(live_server, owner_a, chromium, tmp_path):
    cookie = staff_cookie(owner_a, live_server.url)
    with WorkerProcesses(tmp_path) as processes, chromium() as browser:
        processes.start()  # the db_worker
        page = signed_in(browser, cookie).new_page()
        page.goto(f"{live_server.url}/files/")
        page.locator("#file-input").set_input_files(str(ENCRYPTED))
        line = page.locator("#uploads li", has_text=ENCRYPTED.name)
        expect(line).to_contain_text("failed: ", timeout=120_000)
        expect(line).to_contain_text("password")
        expect(line).not_to_contain_text("uploaded")
        expect(page.locator("#files-body tr", has_text=ENCRYPTED.name).locator(".badge")).to_have_text("failed")
