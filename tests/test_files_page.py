import re

from django.test import Client

from datasources.models import DataSource


def test_the_files_page_lists_files_with_status_and_error_reason(owner_a):
    DataSource.objects.create(company=owner_a.company, name="q3-report.pdf", type="pdf", status="error",
                              error_message="This is a password-protected PDF; remove the password.")
    DataSource.objects.create(company=owner_a.company, name="prices.xlsx", type="xlsx", stage="embedding", progress=40)
    client = Client()
    client.force_login(owner_a)
    page = client.get("/files/").content.decode()
    assert "q3-report.pdf" in page and "password-protected PDF" in page
    assert "prices.xlsx" in page and "embedding · 40%" in page
    assert 'id="dropzone"' in page and "js/files.js" in page


def test_the_files_page_says_what_to_do_when_empty(owner_a):
    client = Client()
    client.force_login(owner_a)
    assert "No files yet" in client.get("/files/").content.decode()


def test_the_files_page_says_plainly_when_search_uses_keywords_only(owner_a, settings):
    client = Client()
    client.force_login(owner_a)
    settings.EMBEDDING_BACKEND = "none"
    assert "search uses keywords only" in client.get("/files/").content.decode()
    settings.EMBEDDING_BACKEND = "local"
    assert "search uses keywords only" not in client.get("/files/").content.decode()


def files_page(user) -> str:
    client = Client()
    client.force_login(user)
    return client.get("/files/").content.decode()


NEXT_STEP = re.compile(r'<p class="notice next-step" id="next-step" (hidden)?>')


def test_a_ready_file_prompts_to_create_a_chatbot(owner_a):
    DataSource.objects.create(company=owner_a.company, name="handbook.pdf", type="pdf", status="processing")
    assert NEXT_STEP.search(files_page(owner_a)).group(1) == "hidden"  # files.js shows it once one is ready
    DataSource.objects.create(company=owner_a.company, name="prices.xlsx", type="xlsx", status="ready")
    page = files_page(owner_a)
    assert NEXT_STEP.search(page).group(1) is None and 'href="/chatbots/new/">Create a chatbot</a>' in page


def test_the_files_page_needs_login(db):
    assert Client().get("/files/").status_code == 302
