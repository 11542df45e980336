"""The documents behind a chatbot's sources, for visitors: `/api/documents/<token>`.

Off unless staff tick the chatbot's "Let visitors open the cited documents". Then every citation an
answer gives (widget, iframe page, chat API, a conversation loaded again) carries a link to the
cited file. A link must open in a new tab, as a plain navigation without the Origin header or any
key, so the link holds its own authority: a signed token naming the chatbot and the data source,
valid LINK_MAX_AGE, and made afresh whenever citations are sent. Each request checks again that the
chatbot is active and still shows its documents and that the data source is still its own; else 404.

Only PDFs open in the browser (at the cited page); any other file is a download, so no uploaded
HTML or SVG ever renders as a page of Docent's origin.
"""

import datetime
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, JsonResponse
from django.urls import reverse
from django.views.decorators.http import require_safe
from django_ratelimit.core import get_usage

from chatbots.models import Chatbot
from chatbots.selectors import dangerously_shown_document
from config.errors import ApiError

SALT = "integrations.documents.link"
LINK_MAX_AGE = datetime.timedelta(hours=24)
RATE_GROUP = "integrations.documents"


@dataclass(frozen=True)
class DocumentLinks:
    """Makes the links to one chatbot's cited documents, on Docent's origin as the asker reached it."""

    chatbot_id: uuid.UUID
    origin: str

    def url(self, data_source_id, page_number: int | None = None) -> str:
        token = signing.dumps([str(self.chatbot_id), str(data_source_id)], salt=SALT)
        page = f"#page={page_number}" if page_number else ""
        return f"{self.origin}{reverse('source-document', args=[token])}{page}"


def document_links(chatbot: Chatbot, origin: str) -> DocumentLinks | None:
    """Links for the chatbot's citations, or None while it does not let visitors open its documents."""
    return DocumentLinks(chatbot.id, origin) if chatbot.show_source_documents and origin else None


def _linked_pair(token: str) -> tuple[str, str]:
    try:
        chatbot_id, data_source_id = signing.loads(token, salt=SALT, max_age=LINK_MAX_AGE)
        return str(uuid.UUID(chatbot_id)), str(uuid.UUID(data_source_id))
    except (signing.BadSignature, ValueError, TypeError):  # tampered, expired or malformed alike
        raise Http404 from None


@require_safe
def source_document(request, token: str):
    refused = _rate_refusal(request)
    if refused is not None:
        return refused
    chatbot_id, data_source_id = _linked_pair(token)
    data_source = dangerously_shown_document(chatbot_id=chatbot_id, data_source_id=data_source_id)
    if data_source is None or not data_source.storage_path or not default_storage.exists(data_source.storage_path):
        raise Http404
    is_pdf = data_source.type == "pdf"
    response = FileResponse(default_storage.open(data_source.storage_path, "rb"), as_attachment=not is_pdf,
                             filename=data_source.name,
                             content_type="application/pdf" if is_pdf else "application/octet-stream")
    response["X-Content-Type-Options"] = "nosniff"
    response["Referrer-Policy"] = "no-referrer"  # the link's token stays out of whatever the document links to
    response["Cache-Control"] = "private, no-store"  # each opening checks the chatbot and the data source again
    # A browser's PDF viewer does not run under a sandbox (Chromium shows a blank page), so PDFs get the
    # default policy (no framing); any other file, served as a download, is sandboxed as well.
    if not is_pdf:
        response["Content-Security-Policy"] = "sandbox; default-src 'none'; frame-ancestors 'none'"
    return response


def _rate_refusal(request) -> JsonResponse | None:
    usage = get_usage(request, group=RATE_GROUP, key="ip", rate=settings.DOCUMENT_RATE_PER_IP, increment=True)
    if usage is None or not usage["should_limit"]:
        return None
    retry_after = max(1, usage["time_left"])
    refusal = ApiError(f"Too many documents opened from your network address; try again in {retry_after} seconds.",
                       code="rate_limited", status_code=429, details={"retry_after": retry_after})
    response = JsonResponse(refusal.body(), status=429)
    response["Retry-After"] = str(retry_after)
    return response
