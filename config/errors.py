"""The one application error, and the one JSON shape it takes: {"error": {"code", "message", "details"}}.

Raise `ApiError` wherever a client must be told no: services, views, consumers, the request
middleware, the JSON text checks. The API answers it with its HTTP status (config.error_handlers),
WebSocket consumers send the same code, message and details in an `error` frame (config.sockets),
dashboard pages show its message. This module imports nothing but DRF's exception base, so models
and the API's JSON parser may raise it too.
"""

from rest_framework import exceptions, status


class ApiError(exceptions.APIException):
    """An error a client can act on: `code` for programs, `message` for people, the HTTP `status_code`,
    and `details` (the fields at fault, a limit; `retry_after` seconds is also sent as Retry-After)."""

    status_code = status.HTTP_400_BAD_REQUEST
    default_code = "bad_request"
    default_detail = "The request could not be processed."

    def __init__(self, message: str, *, code: str | None = None, status_code: int | None = None,
                 details: dict | list | None = None):
        super().__init__(detail=message, code=code or self.default_code)
        if status_code is not None:
            self.status_code = status_code
        self.code = code or self.default_code
        self.message = message
        self.details = details or {}

    @property
    def wait(self) -> int | None:
        """Seconds before trying again, when the error says: DRF's exception handler sends it as Retry-After."""
        return self.details.get("retry_after") if isinstance(self.details, dict) else None

    def body(self) -> dict:
        return error_body(self.code, self.message, self.details)


def error_body(code: str, message: str, details=None) -> dict:
    return {"error": {"code": code, "message": message, "details": details or {}}}
