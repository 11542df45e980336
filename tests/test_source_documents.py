"""Sources that open their documents: the chatbot's opt-in setting, the links citations carry, and
GET /api/documents/<token>, which serves the cited file to whoever holds a fresh link."""

import datetime
import json
import re

import pytest
import time_machine
from asgiref.sync import sync_to_async
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.test import Client

from chatbots.models import Chatbot
from datasources.naming import storage_path
from integrations.documents import DocumentLinks
from tests.chatting import (
    LICENCE_QUESTION,
    WAREHOUSE,
    add_source,
    ask,
    bot,
    chat_socket,
    server_sent_events,
    socket_answer,
    widget_key,
)
from tests.isolation import assert_foreign_404

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("local_models")]

PDF_BYTES = b"%PDF-1.4\n% the handbook, as uploaded\n%%EOF\n"


def _stored(source, content: bytes):
    """The data source with its original file in storage, as an upload leaves it."""
    source.storage_path = default_storage.save(
        storage_path(company_id=source.company_id, data_source_id=source.id, name=source.name), ContentFile(content))
    source.save()
    return source


@pytest.fixture
def handbook(company_a):
    return _stored(add_source(company_a, "handbook.pdf", WAREHOUSE), PDF_BYTES)


@pytest.fixture
def shown(company_a, handbook):
    """A chatbot that lets its visitors open the documents it cites."""
    return bot(company_a, handbook, show_source_documents=True)


def _visitor_answer(chatbot) -> dict:
    response = ask(Client(), chatbot, LICENCE_QUESTION, key=widget_key(chatbot))
    assert response.status_code == 200, response.content
    return response.json()


def _cited_url(chatbot) -> str:
    body = _visitor_answer(chatbot)
    [cited] = [citation for citation in body["citations"] if citation["cited"]]
    return cited["url"]


def _open(url: str):
    """The link as a new tab opens it: no Origin, no key, no cookie."""
    return Client().get(url.removeprefix("http://testserver").split("#")[0])


def _assert_not_found(response):
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_citations_carry_no_link_while_the_setting_is_off(company_a, handbook):
    body = _visitor_answer(bot(company_a, handbook))
    assert body["sources"] == ["handbook.pdf page 2"]
    assert body["source_urls"] == [None]
    assert all(citation["url"] is None for citation in body["citations"])


def test_each_citation_links_to_its_document_at_the_cited_page_when_on(shown):
    body = _visitor_answer(shown)
    [cited] = [citation for citation in body["citations"] if citation["cited"]]
    assert cited["url"].startswith("http://testserver/api/documents/")
    assert cited["url"].endswith("#page=2")
    assert body["source_urls"] == [cited["url"]]


def test_the_link_serves_the_pdf_inline_to_a_plain_new_tab(shown):
    response = _open(_cited_url(shown))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF_BYTES
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'inline; filename="handbook.pdf"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cache-Control"] == "private, no-store"


def test_the_streamed_answer_carries_the_links_too(shown):
    response = ask(Client(), shown, LICENCE_QUESTION, path="/api/chat/stream", key=widget_key(shown))
    [sources] = [event for event in server_sent_events(response) if event["type"] == "sources"]
    assert sources["source_urls"][0].startswith("http://testserver/api/documents/")
    assert _open(sources["source_urls"][0]).status_code == 200


@pytest.mark.asyncio
async def test_the_widgets_socket_and_the_staff_console_carry_the_links_too(shown, owner_a):
    visitor = chat_socket(shown, key=await sync_to_async(widget_key)(shown))
    staff = await sync_to_async(chat_socket)(shown, user=owner_a, origin="http://testserver")
    for socket in (visitor, staff):
        connected, code = await socket.connect()
        assert connected, code
        [sources] = [frame for frame in await socket_answer(socket, LICENCE_QUESTION) if frame["type"] == "sources"]
        assert sources["source_urls"][0].startswith("http://testserver/api/documents/")
        assert [citation["url"] for citation in sources["citations"] if citation["cited"]] == sources["source_urls"]
        await socket.disconnect()


def test_a_file_other_than_a_pdf_is_only_ever_a_download(company_a):
    page = "<html><script>alert(document.cookie)</script></html>"
    notes = _stored(add_source(company_a, "notes.html", [page]), page.encode())
    notes.type = "html"
    notes.save()
    link = DocumentLinks(bot(company_a, notes, show_source_documents=True).id, "http://testserver")
    response = _open(link.url(notes.id))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"] == 'attachment; filename="notes.html"'
    assert response["Content-Security-Policy"].startswith("sandbox")
    assert response["X-Content-Type-Options"] == "nosniff"


def test_a_link_stops_working_once_the_data_source_is_detached(shown, handbook):
    url = _cited_url(shown)
    shown.data_sources.remove(handbook)
    _assert_not_found(_open(url))


def test_a_link_stops_working_once_the_setting_is_turned_off(shown):
    url = _cited_url(shown)
    Chatbot.objects.filter(pk=shown.pk).update(show_source_documents=False)
    _assert_not_found(_open(url))


def test_a_link_stops_working_while_the_chatbot_is_paused(shown):
    url = _cited_url(shown)
    Chatbot.objects.filter(pk=shown.pk).update(is_active=False)
    _assert_not_found(_open(url))


def test_a_link_whose_file_is_gone_answers_404(shown, handbook):
    url = _cited_url(shown)
    default_storage.delete(handbook.storage_path)
    _assert_not_found(_open(url))


def test_a_tampered_link_answers_404(shown, handbook, company_a):
    url = _cited_url(shown)
    token = url.split("/api/documents/")[1].split("#")[0]
    other = add_source(company_a, "other.pdf", ["Another document."])
    payload, rest = token.split(":", 1)
    forged = DocumentLinks(shown.id, "").url(other.id).split("/api/documents/")[1].split(":", 1)[0] + ":" + rest
    _assert_not_found(_open(f"/api/documents/{forged}"))
    _assert_not_found(_open(f"/api/documents/{token[:-2]}xx"))
    _assert_not_found(_open("/api/documents/not-a-token"))


def test_a_link_expires_after_a_day(shown):
    url = _cited_url(shown)
    with time_machine.travel(datetime.datetime.now(datetime.UTC) + datetime.timedelta(hours=23)):
        assert _open(url).status_code == 200
    with time_machine.travel(datetime.datetime.now(datetime.UTC) + datetime.timedelta(hours=25)):
        _assert_not_found(_open(url))


def test_a_link_never_opens_another_companys_document(company_a, company_b, handbook):
    """Company B's chatbot, even one linked to company A's data source behind the checks' back, and a
    correctly signed link naming the pair, opens nothing."""
    theirs = bot(company_b, show_source_documents=True)
    theirs.data_sources.add(handbook)
    link = DocumentLinks(theirs.id, "http://testserver").url(handbook.id)
    assert_foreign_404(Client(), "get", link.removeprefix("http://testserver").split("#")[0])
    # A's own chatbot's link does not open B's document through B's chatbot either.
    own = bot(company_a, handbook, show_source_documents=True)
    theirs_source = _stored(add_source(company_b, "bolt.pdf", ["Bolt's recipe."]), PDF_BYTES)
    theirs.data_sources.add(theirs_source)
    _assert_not_found(_open(DocumentLinks(own.id, "http://testserver").url(theirs_source.id)))


def test_opening_documents_is_rate_limited_per_address(settings, shown, one_window):
    settings.DOCUMENT_RATE_PER_IP = "2/m"
    url = _cited_url(shown)
    assert [_open(url).status_code for _ in range(2)] == [200, 200]
    refused = _open(url)
    assert refused.status_code == 429 and refused.json()["error"]["code"] == "rate_limited"
    assert int(refused["Retry-After"]) >= 1


def test_a_visitors_history_gives_fresh_links(shown):
    key = widget_key(shown)
    body = ask(Client(), shown, LICENCE_QUESTION, key=key).json()
    history = Client().get(f"/api/conversations/{body['session_id']}", HTTP_AUTHORIZATION=f"Bearer {key}",
                           HTTP_ORIGIN="https://shop.example",
                           HTTP_X_CONVERSATION_SECRET=body["conversation_secret"]).json()
    answer = history["messages"][1]
    assert answer["sources"] == ["handbook.pdf page 2"]
    assert answer["source_urls"][0].endswith("#page=2")
    assert _open(answer["source_urls"][0]).status_code == 200


def test_the_setting_is_off_by_default_and_set_through_the_api(api_client, owner_a, company_a):
    staff = api_client(owner_a)
    created = staff.post("/api/chatbots", {"name": "Helper"}, format="json").json()
    assert created["show_source_documents"] is False
    changed = staff.patch(f"/api/chatbots/{created['id']}", json.dumps({"show_source_documents": True}),
                          content_type="application/json")
    assert changed.status_code == 200 and changed.json()["show_source_documents"] is True


def test_the_chatbot_form_offers_the_setting_and_says_what_it_shares(api_client, owner_a, company_a, handbook):
    staff = api_client(owner_a)
    page = staff.get("/chatbots/new/").content.decode()
    checkbox = re.search(r'<input[^>]*id="show_source_documents"[^>]*>', page).group(0)
    assert "checked" not in checkbox
    assert "visitors can open the whole file of any data source the chatbot cites" in page
    posted = staff.post("/chatbots/new/", {
        "name": "Helper", "personality": "friendly", "fallback_message": "Ask us.", "top_k": "6",
        "temperature": "0.2", "is_active": "on", "data_source_ids": [str(handbook.id)], "show_source_documents": "on"})
    assert posted.status_code == 302, posted.context["errors"]
    chatbot = Chatbot.objects.get(company=company_a, name="Helper")
    assert chatbot.show_source_documents is True
    page = staff.get(f"/chatbots/{chatbot.id}/").content.decode()
    assert "checked" in re.search(r'<input[^>]*id="show_source_documents"[^>]*>', page).group(0)
    embed_page = staff.get(f"/chatbots/{chatbot.id}/integrations/").content.decode()
    assert "visitors can open the whole file of any data source this chatbot cites" in embed_page
