"""Middleware of Docent's own that every app relies on."""

from django.http import JsonResponse
from django.utils.deprecation import MiddlewareMixin

from config import errors, jsonbody, jsontext


class RequestTextMiddleware(MiddlewareMixin):
    """Refuses an API request's JSON body that is too large (413), not JSON, nested too deep or holding
    text that is not valid Unicode (400), in the error shape, before DRF authenticates anyone and
    before a view counts a question against the rate limits."""

    def process_request(self, request):
        if errors.is_api_request(request) and jsonbody.is_json(request) and jsonbody.declared_length(request) > 0:
            try:
                jsonbody.json_body(request)  # DRF parses a body only when its length is declared
            except jsontext.JSONTextError as refused:
                return JsonResponse(errors.error_body(refused.code, refused.message, refused.details),
                                    status=refused.status)
        return None
