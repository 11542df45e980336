"""Middleware of Docent's own that every app relies on."""

from django.http import JsonResponse
from django.urls import Resolver404, resolve
from django.utils.deprecation import MiddlewareMixin

from config import error_handlers, jsonbody, rls
from config.errors import ApiError


class RequestTextMiddleware(MiddlewareMixin):
    """Refuses, before DRF authenticates anyone and before a view counts a question against the rate
    limits: a NUL in the path or query (400; PostgreSQL cannot look such text up), and an API request's
    JSON body that is too large (413), not JSON, nested too deep or holding text that is not valid
    Unicode (400). API requests get the error shape, pages the error page.

    Other text needs no check here: Django decodes paths, queries and form fields with replacement
    characters, so they hold no lone surrogates; form fields refuse NUL themselves (Django's text fields,
    and config.jsontext's validator on the JSON fields that forms fill)."""

    def process_request(self, request):
        if _holds_nul(request):
            return _refusal(request, ApiError("Addresses must not contain NUL characters (%00).", code="invalid_text"))
        if (error_handlers.is_api_request(request) and jsonbody.is_json(request)
                and jsonbody.declared_length(request) > 0):
            try:
                jsonbody.json_body(request)  # DRF parses a body only when its length is declared
            except ApiError as refused:
                return _refusal(request, refused)
        return None


def _holds_nul(request) -> bool:
    return "\x00" in request.path or any("\x00" in text for name, values in request.GET.lists()
                                         for text in (name, *values))


def _refusal(request, error: ApiError):
    if error_handlers.is_api_request(request):
        return JsonResponse(error.body(), status=error.status_code)
    return error_handlers.bad_request(request)


class CompanyTransactionMiddleware:
    """With row-level security (config.rls): each request runs in one transaction that admits no company's
    rows until the scoping names the caller's company (accounts.scoping.request_company). A streamed response
    (the CSV export) is read after the view returns, so it reads in a transaction of its own that admits the
    same company."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not rls.enforced() or _outside_transaction(request):
            return self.get_response(request)
        with rls.company_transaction():
            response = self.get_response(request)
            company_id = rls.current_company()
        if response.streaming and not response.is_async:
            response.streaming_content = _read_for(company_id, response.streaming_content)
        return response


def outside_company_transaction(view):
    """A view that reads no company's rows and must answer when the database does not (the health probes):
    no transaction is opened for it."""
    view.outside_company_transaction = True
    return view


def _outside_transaction(request) -> bool:
    return view_marked(request, "outside_company_transaction")


def view_marked(request, mark: str) -> bool:
    """Whether the view the request's path resolves to carries `mark` (set by a decorator such as
    `outside_company_transaction`); the path is resolved once per request, for every middleware that asks."""
    if not hasattr(request, "_resolved_view"):
        try:
            request._resolved_view = resolve(request.path_info, getattr(request, "urlconf", None)).func
        except Resolver404:
            request._resolved_view = None
    return getattr(request._resolved_view, mark, False)


def _read_for(company_id: str, chunks):
    with rls.company_transaction(company_id or None):
        yield from chunks
