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


def test_a_website_is_added_from_the_files_page_and_a_refused_address_says_why(live_server, owner_a, chromium,
                                                                              settings):
    settings.OUTBOUND_ALLOW_PRIVATE_ADDRESSES = False
    cookie = staff_cookie(owner_a, live_server.url)
    with chromium() as browser:
        page = signed_in(browser, cookie).new_page()
        page.goto(f"{live_server.url}/files/")
        page.get_by_label("Address of a page or of your site").fill("http://10.0.0.1/help/")
        page.get_by_role("button", name="Add the website").click()
        expect(page.get_by_role("alert")).to_contain_text("10.0.0.1 is a private address")

        page.get_by_label("Address of a page or of your site").fill("https://help.example.com/docs/")
        page.get_by_label("The pages under it").check()
        page.get_by_role("button", name="Add the website").click()
        row = page.locator("#files-body tr", has_text="help.example.com/docs/")
        expect(row.locator(".badge")).to_have_text("processing")
        expect(row.get_by_role("button", name="Re-crawl")).to_be_visible()
        expect(page.get_by_role("alert")).to_be_hidden()
