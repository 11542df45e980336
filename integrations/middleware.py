"""Which other sites may use Docent in a browser: CORS on the visitor endpoints, framing on the embed page only.

CORS: the visitor endpoints (the views an app's URLconf marks `open_to_visitors`: chat's) answer
cross-origin calls only from origins that some widget or iframe integration, not revoked, allows.
That is the browser's gate; every call is still checked for its key and origin by
`access.authorize_visitor` in the chat views. Credentials are never allowed:
visitors are anonymous and present the publishable key. Staff endpoints get no CORS at all.

Framing: X-Frame-Options DENY is global (settings); every response without a Content-Security-Policy
of its own also gets `frame-ancestors 'none'`. The embed page sets its own (integrations.widget).
"""

from django.core.cache import cache
from django.http import HttpResponse
from django.utils.cache import patch_vary_headers
from django.utils.deprecation import MiddlewareMixin

from config import rls
from config.middleware import view_marked
from integrations.access import normalize_origin
from integrations.models import Integration

ALLOWED_METHODS = "GET, POST"
ALLOWED_HEADERS = "content-type, authorization, x-conversation-secret"
EXPOSED_HEADERS = "Retry-After"  # the widget says when to try again after a rate limit
PREFLIGHT_MAX_AGE = 600
NO_FRAMING = "frame-ancestors 'none'"
ORIGINS_CACHE_KEY = "integrations:cors-origins"
ORIGINS_CACHE_SECONDS = 60


def open_to_visitors(view):
    """Mark a view that visitors' browsers call from the sites embedding a chatbot, so CORS applies to it."""
    view.open_to_visitors = True
    return view


def cors_origins() -> frozenset[str]:
    """Every origin some active widget or iframe integration allows, cached for a minute."""
    origins = cache.get(ORIGINS_CACHE_KEY)
    if origins is None:
        integrations = Integration.objects.filter(type__in=Integration.PUBLISHABLE_TYPES, revoked_at__isnull=True)
        with rls.dangerously_all_companies(rls.WayAround.CORS_ORIGINS):
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
        # Decided by the path before any view runs, so a request refused early (a preflight, a bad body)
        # gets its CORS headers too.
        request.open_to_visitors = view_marked(request, "open_to_visitors")
        if _is_preflight(request) and request.open_to_visitors:
            return HttpResponse(status=204)  # answered here, whatever the view; headers added below
        return None

    def process_response(self, request, response):
        if request.open_to_visitors:
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
