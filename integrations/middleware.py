"""Which other sites may use Docent in a browser: CORS on the visitor endpoints, framing on the embed page only.

CORS: the chat endpoints answer cross-origin calls only from origins that some widget or iframe
integration, not revoked, allows. That is the browser's gate; every call is still checked for its
key and origin by `access.authorize_visitor` in the chat views. Credentials are never allowed:
visitors are anonymous and present the publishable key. Staff endpoints get no CORS at all.

Framing: X-Frame-Options DENY is global (settings); every response without a Content-Security-Policy
of its own also gets `frame-ancestors 'none'`. The embed page sets its own (integrations.widget).
"""

import re

from django.core.cache import cache
from django.http import HttpResponse
from django.utils.cache import patch_vary_headers
from django.utils.deprecation import MiddlewareMixin

from integrations.access import normalize_origin
from integrations.models import Integration

VISITOR_PATHS = re.compile(r"/api/(?:chat|chat/stream|conversations/[^/]+(?:/feedback)?)/?")
ALLOWED_METHODS = "GET, POST"
ALLOWED_HEADERS = "content-type, authorization, x-conversation-secret"
EXPOSED_HEADERS = "Retry-After"  # the widget says when to try again after a rate limit
PREFLIGHT_MAX_AGE = 600
NO_FRAMING = "frame-ancestors 'none'"
ORIGINS_CACHE_KEY = "integrations:cors-origins"
ORIGINS_CACHE_SECONDS = 60


def cors_origins() -> frozenset[str]:
    """Every origin some active widget or iframe integration allows, cached for a minute."""
    origins = cache.get(ORIGINS_CACHE_KEY)
    if origins is None:
        integrations = Integration.objects.filter(type__in=Integration.PUBLISHABLE_TYPES, revoked_at__isnull=True)
        origins = frozenset(origin for integration in integrations.only("settings")
                            for origin in map(normalize_origin, integration.allowed_origins) if origin)
        cache.set(ORIGINS_CACHE_KEY, origins, ORIGINS_CACHE_SECONDS)
    return origins


def forget_cors_origins() -> None:
    """Call after an integration's origins change or it is revoked, so CORS follows at once."""
    cache.delete(ORIGINS_CACHE_KEY)


def _is_preflight(request) -> bool:
    return request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers


class EmbeddingPolicyMiddleware(MiddlewareMixin):
    def process_request(self, request):
        if _is_preflight(request) and VISITOR_PATHS.fullmatch(request.path):
            return HttpResponse(status=204)  # answered here, whatever the view; headers added below
        return None

    def process_response(self, request, response):
        if VISITOR_PATHS.fullmatch(request.path):
            _allow_cross_origin(request, response)
        if "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = NO_FRAMING
        return response


def _allow_cross_origin(request, response) -> None:
    patch_vary_headers(response, ["Origin"])
    origin = normalize_origin(request.headers.get("Origin", ""))
    if origin is None or origin not in cors_origins():
        return
    response["Access-Control-Allow-Origin"] = origin
    if _is_preflight(request):
        response["Access-Control-Allow-Methods"] = ALLOWED_METHODS
        response["Access-Control-Allow-Headers"] = ALLOWED_HEADERS
        response["Access-Control-Max-Age"] = str(PREFLIGHT_MAX_AGE)
    else:
        response["Access-Control-Expose-Headers"] = EXPOSED_HEADERS
