"""What a chatbot's visitors load: the widget script (`/api/widget/<id>`) and the iframe page (`/api/embed/<id>`).

Both show one chat UI, static/widget/docent-widget.js: the script as a launcher and panel on the
customer's page, the iframe page by loading the same script in its full-page ("inline") mode.
"""

import hashlib
import json
from functools import lru_cache
from pathlib import Path

from django.conf import settings
from django.http import HttpResponse
from django.shortcuts import render
from django.utils.cache import get_conditional_response, patch_cache_control
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.gzip import gzip_page
from django.views.decorators.http import require_safe

from chatbots.models import Chatbot
from config import rls
from config.errors import ApiError
from config.public import public
from integrations import access

WIDGET_SOURCE = Path(settings.BASE_DIR) / "static" / "widget" / "docent-widget.js"
CONFIG_PLACEHOLDER = "/*DOCENT_CONFIG*/null"
JAVASCRIPT = "application/javascript; charset=utf-8"
SCRIPT_MAX_AGE = 300  # seconds a browser or CDN reuses the script before asking again (then mostly a 304)
UNKNOWN_MAX_AGE = 60
UNAVAILABLE_SCRIPT = 'console.warn("Docent: chatbot unavailable");\n'
# Characters that could end a script element or confuse an HTML parser, escaped inside the JSON.
_JSON_ESCAPES = str.maketrans({"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028",
                               "\u2029": "\\u2029"})


def public_config(chatbot: Chatbot) -> dict:
    """What every visitor of the chatbot may see, and all the widget needs to draw itself."""
    theme = chatbot.theme_with_defaults
    return {
        "chatbot_id": str(chatbot.id),
        "title": theme["title"] or chatbot.name,
        "theme": {key: theme[key] for key in ("primary_color", "primary_text_color", "background_color",
                                              "text_color", "position", "avatar_url")},
        "welcome_message": chatbot.welcome_message or "",
        "suggested_questions": list(chatbot.suggested_questions),
        "is_active": chatbot.is_active,
    }


@lru_cache(maxsize=1)
def _widget_source(modified_ns: int) -> str:
    """The widget's code, read again only when the file changes (keyed by its modification time)."""
    source = WIDGET_SOURCE.read_text(encoding="utf-8")
    if CONFIG_PLACEHOLDER not in source:
        raise RuntimeError(f"{WIDGET_SOURCE} lost its {CONFIG_PLACEHOLDER} placeholder.")
    return source


def widget_source() -> str:
    return _widget_source(WIDGET_SOURCE.stat().st_mtime_ns)


def _script_response(request, body: str, *, status: int, max_age: int) -> HttpResponse:
    etag = '"' + hashlib.sha256(body.encode()).hexdigest()[:32] + '"'
    response = HttpResponse(body, content_type=JAVASCRIPT, status=status)
    response["ETag"] = etag
    response["Cross-Origin-Resource-Policy"] = "cross-origin"  # loadable by sites that require it (COEP)
    patch_cache_control(response, public=True, max_age=max_age)
    return get_conditional_response(request, etag=etag, response=response) if status == 200 else response


@public("the widget script carries only what the chatbot shows every visitor: its name, theme and welcome")
@require_safe
@gzip_page  # ~7.5 KB instead of ~22 KB on the wire; the ETag becomes weak, which If-None-Match accepts
def widget_script(request, chatbot_id):
    with rls.dangerously_all_companies(rls.WayAround.WIDGET_SCRIPT):
        chatbot = Chatbot.objects.filter(pk=chatbot_id).first()
    if chatbot is None:
        return _script_response(request, UNAVAILABLE_SCRIPT, status=404, max_age=UNKNOWN_MAX_AGE)
    config = json.dumps(public_config(chatbot), separators=(",", ":")).translate(_JSON_ESCAPES)
    body = widget_source().replace(CONFIG_PLACEHOLDER, config)
    return _script_response(request, body, status=200, max_age=SCRIPT_MAX_AGE)


def embed_policy(request, allowed_origins: list[str]) -> str:
    """Framed only by the integration's sites and Docent's own pages; the page itself loads only from Docent."""
    ancestors = ["'self'", *filter(None, map(access.normalize_origin, allowed_origins))]
    socket = ("wss://" if request.is_secure() else "ws://") + request.get_host()
    return (f"frame-ancestors {' '.join(ancestors)}; default-src 'self'; connect-src 'self' {socket}; "
            "img-src 'self' https:; style-src 'self' 'unsafe-inline'; object-src 'none'; base-uri 'none'; "
            "form-action 'none'")


# The unavailable page holds no data and nothing to click, so any site may frame it: the visitor
# of a site whose key was revoked reads "unavailable" instead of the browser's "refused to connect".
UNAVAILABLE_POLICY = "frame-ancestors *; default-src 'none'; style-src 'unsafe-inline'"


@public("the iframe page opens only with the chatbot's publishable key and shows what its visitors see")
@require_safe
@xframe_options_exempt
def embed_page(request, chatbot_id):
    key = request.GET.get("key", "")
    # The page is a document of Docent's own origin, and so are the chat requests it makes; which
    # sites may frame it, the browser enforces from the frame-ancestors policy below.
    origin = access.site_origin(request)
    try:
        visitor = access.authorize_visitor(chatbot_id=chatbot_id, key=key, origin=origin, own_origin=origin)
    except ApiError as denied:
        status = 404 if denied.code == "invalid_key" else denied.status_code
        response = render(request, "integrations/embed.html", {"message": denied.message}, status=status)
        response["Content-Security-Policy"] = UNAVAILABLE_POLICY
        return response
    config = public_config(visitor.chatbot)
    response = render(request, "integrations/embed.html", {"chatbot_id": config["chatbot_id"],
                                                           "title": config["title"], "key": key})
    response["Content-Security-Policy"] = embed_policy(request, visitor.integration.allowed_origins)
    return response
