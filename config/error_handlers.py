"""Every error answered in the one shape (config.errors): the API's exception handler, and Django's error
views (400, 403, 404, 500, CSRF failure), which answer API paths in JSON and pages with the error page."""

import logging

from django.core.exceptions import PermissionDenied, RequestDataTooBig, SuspiciousOperation
from django.http import Http404, JsonResponse
from django.shortcuts import render
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from config.errors import ApiError, error_body

logger = logging.getLogger(__name__)


def _code_and_message(exc: exceptions.APIException) -> tuple[str, str, dict | list]:
    if isinstance(exc, ApiError):
        return exc.code, exc.message, exc.details
    if isinstance(exc, exceptions.ValidationError):
        return "invalid", "Some fields are invalid; see details.", exc.detail
    detail = exc.detail
    code = exc.get_codes()
    if isinstance(code, str):
        return code, str(detail), {}
    return exc.default_code, str(exc.default_detail), detail


def api_exception_handler(exc, context):
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, SuspiciousOperation):
        exc = _suspicious_operation(exc)
    if not isinstance(exc, exceptions.APIException):
        logger.exception("Unhandled error in %s", context.get("view").__class__.__name__, exc_info=exc)
        return Response(error_body("server_error", "Something went wrong on our side."), status=500)
    response = drf_exception_handler(exc, context)
    code, message, details = _code_and_message(exc)
    response.data = error_body(code, message, details)
    return response


def _suspicious_operation(exc: SuspiciousOperation) -> ApiError:
    """As Django answers it outside DRF (logged, 400), but too much form data is 413, as for JSON."""
    logging.getLogger(f"django.security.{exc.__class__.__name__}").error(str(exc))
    if isinstance(exc, RequestDataTooBig):
        return ApiError("The request body is too large.", code="too_large", status_code=413)
    return ApiError("The request could not be understood.", code="bad_request")


def is_api_request(request) -> bool:
    return request.path.startswith("/api/")


def _error_view(status_code: int, code: str, message: str, template: str):
    def view(request, exception=None):
        if is_api_request(request):
            return JsonResponse(error_body(code, message), status=status_code)
        return render(request, template, {"status": status_code, "message": message}, status=status_code)

    return view


bad_request = _error_view(400, "bad_request", "The request could not be understood.", "error.html")
permission_denied = _error_view(403, "permission_denied", "You do not have permission to do that.", "error.html")
not_found = _error_view(404, "not_found", "Not found.", "error.html")
server_error = _error_view(500, "server_error", "Something went wrong on our side.", "error.html")


def csrf_failure(request, reason=""):
    message = "CSRF check failed: reload the page and try again, or authenticate with a token."
    if is_api_request(request):
        return JsonResponse(error_body("csrf_failed", message), status=403)
    return render(request, "error.html", {"status": 403, "message": message}, status=403)
