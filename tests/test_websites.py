"""A company's website as a data source: one page or a crawl within the start URL's host and path prefix, as
robots.txt allows, with limits; the chatbot answers from a page citing its URL; a re-crawl re-embeds only
the pages that changed. The crawler goes only where the network guard lets it (the local site needs
OUTBOUND_ALLOW_PRIVATE_ADDRESSES; with it off, the same URL is refused)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from datasources.models import Chunk, DataSource, WebPage
from tests.chatting import add_source, ask, bot
from tests.fakes.website import FOOTER, NAVIGATION, page, running_site
from tests.ingestion import run_worker
from tests.isolation import assert_foreign_404, record

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def site(settings, local_models):
    settings.OUTBOUND_ALLOW_PRIVATE_ADDRESSES = True
    settings.CRAWLER_SECONDS_PER_REQUEST = 0
    settings.CRAWLER_PAGE_TIMEOUT_SECONDS = 1
    settings.CRAWLER_PAGE_MAX_BYTES = 256 * 1024
    settings.CRAWLER_CONTACT_URL = "https://docent.example/crawler"
    with running_site() as site:
        yield site


def add_website(client, url: str, *, crawl: bool) -> DataSource:
    response = client.post("/api/websites", {"url": url, "crawl": crawl}, format="json")
    assert response.status_code == 201, response.content
    run_worker()
    return DataSource.objects.get(pk=response.json()["id"])


def page_urls(source: DataSource) -> set[str]:
    return set(WebPage.objects.filter(data_source=source).values_list("url", flat=True))


def test_one_page_becomes_a_data_source_the_chatbot_answers_from_citing_its_url(api_client, owner_a, site):
    client = api_client(owner_a)
    url = f"{site.url}/docs/shipping"
    source = add_website(client, url, crawl=False)
    assert source.status == DataSource.Status.READY, source.error_message
    assert source.type == "website" and page_urls(source) == {url}
    stored = " ".join(Chunk.objects.filter(data_source=source).values_list("text", flat=True))
    assert "ships the same working day" in stored
    assert NAVIGATION not in stored and FOOTER not in stored  # boilerplate dropped
    assert all(chunk.metadata["url"] == url for chunk in Chunk.objects.filter(data_source=source))
    assert site.fetched() == ["/robots.txt", "/docs/shipping"]

    body = ask(client, bot(owner_a.company, source), "How much does express delivery cost?").json()
    assert "9.95" in body["response"]
    cited = [c for c in body["citations"] if c["cited"]]
    assert cited[0]["page_url"] == url and body["sources"][0] == url and body["source_urls"][0] == url


def test_a_crawl_keeps_to_the_site_under_the_start_url_as_robots_txt_allows(api_client, owner_a, site):
    source = add_website(api_client(owner_a), f"{site.url}/docs/", crawl=True)
    assert source.status == DataSource.Status.READY, source.error_message
    assert page_urls(source) == {f"{site.url}/docs/", f"{site.url}/docs/shipping", f"{site.url}/docs/returns"}
    fetched = site.fetched()
    assert "/about" not in fetched  # outside /docs/, though linked and in the sitemap
    assert "/docs/private/staff" not in fetched  # robots.txt forbids it
    assert "/sitemaps/docs.xml.gz" in fetched  # named by the sitemap index robots.txt names
    skipped = {item["url"].removeprefix(site.url): item["reason"] for item in source.crawl_report["skipped"]}
    assert "robots.txt" in skipped["/docs/private/staff"]
    assert "loop" in skipped["/docs/loop"]
    assert "a cloud metadata address" in skipped["/docs/cloud"]  # refused even with private addresses allowed
    assert "larger than 256 KB" in skipped["/docs/huge"]
    assert "larger than 256 KB" in skipped["/docs/bomb"]  # stopped while inflating
    assert "timed out" in skipped["/docs/slow"]
    assert not Chunk.objects.filter(text__contains="STAFF-ONLY").exists()


def test_a_crawl_moves_with_the_start_pages_redirect(api_client, owner_a, site):
    source = add_website(api_client(owner_a), f"{site.url}/help", crawl=True)
    assert page_urls(source) == {f"{site.url}/docs/", f"{site.url}/docs/shipping", f"{site.url}/docs/returns"}


def test_a_crawl_may_start_from_a_sitemap_whose_folder_bounds_it(api_client, owner_a, site):
    source = add_website(api_client(owner_a), f"{site.url}/sitemap.xml", crawl=True)
    paths = ("/docs/", "/docs/shipping", "/docs/returns", "/about")
    assert page_urls(source) == {f"{site.url}{path}" for path in paths}


def test_a_sitemap_of_entities_that_expand_is_refused_unread(api_client, owner_a, site):
    source = add_website(api_client(owner_a), f"{site.url}/docs/laughs.xml", crawl=True)
    assert source.status == DataSource.Status.ERROR
    assert "sitemap not read: it declares entities" in source.error_message


def test_the_crawler_names_itself_and_waits_between_requests(api_client, owner_a, site, settings):
    settings.CRAWLER_SECONDS_PER_REQUEST = 0.3
    add_website(api_client(owner_a), f"{site.url}/docs/shipping", crawl=True)
    agents = {request.headers["user-agent"] for request in site.requests}
    assert agents == {"DocentBot/1.0 (+https://docent.example/crawler)"}
    times = [when for when, _ in site.times]
    assert len(times) >= 3 and min(b - a for a, b in zip(times, times[1:], strict=False)) >= 0.29


def test_the_plan_limits_the_pages_crawled(api_client, owner_a, site, settings):
    settings.PLANS = {**settings.PLANS, "free": {**settings.PLANS["free"], "website_pages": 2}}
    source = add_website(api_client(owner_a), f"{site.url}/docs/", crawl=True)
    assert len(page_urls(source)) == 2
    assert "limit of 2 pages" in source.crawl_report["stopped"]


def test_a_recrawl_re_embeds_only_the_changed_page_and_drops_a_page_gone(api_client, owner_a, site):
    client = api_client(owner_a)
    source = add_website(client, f"{site.url}/docs/", crawl=True)
    before = {p.url: p for p in WebPage.objects.filter(data_source=source)}
    site.pages["/docs/returns"] = page("Returns", "Unused items may be returned within 90 days of delivery for a "
                                       "full refund, and the return label is free for every customer.")
    del site.pages["/docs/shipping"]  # gone: the site answers 404

    response = client.post(f"/api/files/{source.id}/recrawl")
    assert response.status_code == 202, response.content
    run_worker()
    source.refresh_from_db()
    after = {p.url: p for p in WebPage.objects.filter(data_source=source)}
    assert source.status == DataSource.Status.READY
    assert set(after) == {f"{site.url}/docs/", f"{site.url}/docs/returns"}
    welcome, returns = f"{site.url}/docs/", f"{site.url}/docs/returns"
    assert after[welcome].changed_at == before[welcome].changed_at  # unchanged: its vectors kept
    assert after[welcome].fetched_at > before[welcome].fetched_at
    assert after[returns].changed_at > before[returns].changed_at  # changed: embedded again
    assert not Chunk.objects.filter(data_source=source, text__contains="same working day").exists()
    body = ask(client, bot(owner_a.company, source), "Within how many days can unused items be returned?").json()
    assert "90 days" in body["response"]


def test_websites_crawled_long_ago_are_crawled_again_when_the_worker_runs(api_client, owner_a, site, settings):
    settings.WEBSITE_RECRAWL_HOURS = 24
    source = add_website(api_client(owner_a), f"{site.url}/docs/returns", crawl=False)
    first = WebPage.objects.get(data_source=source).fetched_at
    run_worker()
    assert WebPage.objects.get(data_source=source).fetched_at == first  # not due yet
    DataSource.objects.filter(pk=source.pk).update(processed_at=timezone.now() - timedelta(hours=25))
    run_worker()  # queues the re-crawl as it starts
    run_worker()  # … and runs it
    assert WebPage.objects.get(data_source=source).fetched_at > first


def test_a_local_address_is_refused_unless_the_setting_allows_it(api_client, owner_a, site, settings):
    settings.OUTBOUND_ALLOW_PRIVATE_ADDRESSES = False
    response = api_client(owner_a).post("/api/websites", {"url": f"{site.url}/docs/"}, format="json")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid_url" and "loopback" in error["message"]
    assert not DataSource.objects.exists() and site.requests == []


@pytest.mark.parametrize("url", ["http://169.254.169.254/latest/meta-data/", "http://10.0.0.1/", "ftp://example.com/",
                                 "javascript:alert(1)", "http://user:secret@example.com/", "not a url"])
def test_urls_docent_will_not_crawl_are_refused_with_a_reason(api_client, owner_a, settings, url):
    settings.OUTBOUND_ALLOW_PRIVATE_ADDRESSES = url == "http://169.254.169.254/latest/meta-data/"
    response = api_client(owner_a).post("/api/websites", {"url": url, "crawl": True}, format="json")
    assert response.status_code == 400, response.content
    assert response.json()["error"]["code"] == "invalid_url" and response.json()["error"]["message"]


def test_a_site_that_redirects_its_start_page_into_the_network_ends_in_error(api_client, owner_a, site):
    source = add_website(api_client(owner_a), f"{site.url}/docs/cloud", crawl=False)
    assert source.status == DataSource.Status.ERROR
    assert "169.254.169.254 is a cloud metadata address" in source.error_message


def test_another_company_cannot_recrawl_or_see_a_website(api_client, owner_a, outsider, site):
    source = add_website(api_client(owner_a), f"{site.url}/docs/returns", crawl=False)
    assert_foreign_404(outsider, "post", f"/api/files/{source.id}/recrawl")
    assert_foreign_404(outsider, "get", f"/api/files/{source.id}")


def test_a_website_lands_in_the_company_of_who_added_it(outsider, owner_b, company_a, site):
    response = outsider.post("/api/websites", {"url": f"{site.url}/docs/returns"}, format="json")
    assert response.status_code == 201
    record("/api/websites")
    assert not DataSource.objects.filter(company=company_a).exists()
    assert DataSource.objects.get().company_id == owner_b.company_id


def test_a_file_cannot_be_recrawled(api_client, owner_a, handbook_bot):
    source = handbook_bot.data_sources.get()
    response = api_client(owner_a).post(f"/api/files/{source.id}/recrawl")
    assert response.status_code == 409 and response.json()["error"]["code"] == "not_a_website"


def test_the_files_page_offers_to_add_a_website_and_to_crawl_one_again(client, owner_a, site):
    client.force_login(owner_a)
    DataSource.objects.create(company=owner_a.company, name="127.0.0.1/docs/", type="website",
                              status=DataSource.Status.READY, source_url=f"{site.url}/docs/")
    add_source(owner_a.company, "handbook.pdf", ["Pallets are checked on arrival."])
    html = client.get("/files/").content.decode()
    assert 'id="website-form"' in html and "up to 50 pages on your plan" in html
    assert html.count('data-action="recrawl"') == 1 and html.count('data-action="reprocess"') == 1
