"""JSON request bodies: read within API_MAX_JSON_BODY_BYTES and checked (config.jsontext) once per request.

`config.middleware.RequestTextMiddleware` reads an API request's JSON body before any view runs;
`JSONParser`, the API's parser, hands DRF that same result instead of parsing the body again.
A refusal is an ApiError. This module must not import config.error_handlers: DRF imports the parser
while config.error_handlers imports DRF's views.
"""

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from rest_framework import parsers
from rest_framework.utils.mediatypes import media_type_matches

from config import jsontext
from config.errors import ApiError


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        return json_body(parser_context["request"]._request)


def json_body(request):
    """The request's body as checked JSON, parsed on the first call; ApiError if refused."""
    if not hasattr(request, "checked_json"):
        request.checked_json = jsontext.loads(_body_within_limit(request))
    return request.checked_json


def is_json(request) -> bool:
    """What DRF reads with JSONParser (by DRF's own test, so `*/*` counts as JSON here as there)."""
    return media_type_matches(JSONParser.media_type, request.content_type or "")


def declared_length(request) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


def _body_within_limit(request) -> bytes:
    """The body, refused unread when its declared length is over the limit, and after reading when it
    turns out longer (over ASGI a client may understate it: Django reads what was sent)."""
    limit = settings.API_MAX_JSON_BODY_BYTES
    if declared_length(request) > limit:
        raise _too_large()
    try:
        body = request.body
    except RequestDataTooBig:
        raise _too_large() from None
    if len(body) > limit:
        raise _too_large()
    return body


def _too_large() -> ApiError:
    return ApiError(f"Send JSON bodies of at most {settings.API_MAX_JSON_BODY_BYTES} bytes.", code="too_large",
                    status_code=413)
