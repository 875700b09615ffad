"""The bank's one error shape, and the one place that renders it.

Every refusal is a `BankError` subclass with its own `code` and HTTP status. The API's
exception handler turns those, DRF's own exceptions and Django's 404/405/500 under `/api/`
into the envelope of API.md: `{"error": {"code", "message", "details"}}`.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import set_rollback


class BankError(Exception):
    """A refusal the caller can act on. Subclasses set `code`, `http_status` and `message`."""

    code = "bank_error"
    http_status = status.HTTP_422_UNPROCESSABLE_ENTITY
    message = "The request was refused."

    def __init__(self, message: str | None = None, *, details: dict[str, Any] | None = None):
        self.message = message or self.message
        self.details = details or {}
        super().__init__(self.message)

    @property
    def headers(self) -> dict[str, str]:
        return {}


class ValidationFailed(BankError):
    """Input that is well formed JSON but wrong; `details` maps field -> list of messages."""

    code = "validation_error"
    http_status = status.HTTP_400_BAD_REQUEST
    message = "The request has invalid fields."

    def __init__(self, details: dict[str, list[str]], message: str | None = None):
        super().__init__(message, details=details)


class NotFound(BankError):
    """Unknown, or not yours: the two are indistinguishable on purpose."""

    code = "not_found"
    http_status = status.HTTP_404_NOT_FOUND
    message = "Not found."


class RequestTooLarge(BankError):
    code = "request_too_large"
    http_status = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    message = "The request body is larger than 1 MiB."


class Replay(Exception):
    """An idempotent request that already ran: answer with its stored response. Raised, so
    that the open database transaction rolls back having written nothing."""

    def __init__(self, status_code: int, body: Any):
        self.status_code = status_code
        self.body = body
        super().__init__("replay")


def envelope(code: str, message: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details or {}}}


# DRF exception class -> (code, default message). Ordered: subclasses before their bases.
_DRF_CODES: list[tuple[type[exceptions.APIException], str, str]] = [
    (
        exceptions.NotAuthenticated,
        "not_authenticated",
        "Authentication credentials were not provided.",
    ),
    (exceptions.AuthenticationFailed, "authentication_failed", "The credentials are not valid."),
    (exceptions.PermissionDenied, "permission_denied", "You may not perform this action."),
    (exceptions.NotFound, "not_found", "Not found."),
    (exceptions.MethodNotAllowed, "method_not_allowed", "This method is not allowed here."),
    (exceptions.NotAcceptable, "not_acceptable", "The requested format cannot be served."),
    (
        exceptions.UnsupportedMediaType,
        "unsupported_media_type",
        "Send the body as application/json.",
    ),
    (exceptions.Throttled, "throttled", "Too many requests; retry later."),
    (exceptions.ParseError, "validation_error", "The body is not valid JSON."),
    (exceptions.ValidationError, "validation_error", "The request has invalid fields."),
]


def _validation_details(detail: Any) -> dict[str, Any]:
    if isinstance(detail, dict):
        return {field: _as_messages(messages) for field, messages in detail.items()}
    return {"non_field_errors": _as_messages(detail)}


def _as_messages(value: Any) -> Any:
    if isinstance(value, dict):  # nested serializer
        return _validation_details(value)
    if isinstance(value, list):
        return [_as_messages(v) if isinstance(v, dict) else str(v) for v in value]
    return [str(value)]


class LockedOutError(BankError):
    """Too many failed sign-ins for one email from one address (django-axes)."""

    code = "throttled"
    http_status = status.HTTP_429_TOO_MANY_REQUESTS

    def __init__(self):
        self.seconds = int(settings.AXES_COOLOFF_TIME.total_seconds())
        super().__init__(
            f"Too many failed sign-in attempts. Try again in {self.seconds // 60} minutes."
        )

    @property
    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.seconds)}


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's EXCEPTION_HANDLER: every error from an API view leaves as the envelope."""
    headers: dict[str, str] = {}
    if isinstance(exc, Replay):
        return Response(exc.body, status=exc.status_code, headers={"Idempotent-Replayed": "true"})
    if isinstance(exc, BankError):
        set_rollback()
        return Response(
            envelope(exc.code, exc.message, exc.details),
            status=exc.http_status,
            headers=exc.headers,
        )
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    if not isinstance(exc, exceptions.APIException):
        return None  # a bug: Django's handler500 answers with the envelope and logs it

    code, message = "error", str(exc.detail)
    for cls, cls_code, default_message in _DRF_CODES:
        if isinstance(exc, cls):
            code, message = cls_code, default_message
            break
    details: dict[str, Any] = {}
    if isinstance(exc, exceptions.ValidationError):
        details = _validation_details(exc.detail)
    elif isinstance(exc, exceptions.Throttled):
        message = f"Too many requests; retry in {exc.wait:.0f} seconds." if exc.wait else message
        if exc.wait is not None:
            headers["Retry-After"] = str(int(exc.wait) + 1)
    elif isinstance(exc, exceptions.ParseError):
        message = str(exc.detail)
    elif isinstance(exc, exceptions.MethodNotAllowed | exceptions.AuthenticationFailed):
        message = str(exc.detail) if isinstance(exc.detail, str) else message
    if isinstance(exc, exceptions.AuthenticationFailed) and isinstance(exc.detail, dict):
        message = str(exc.detail.get("detail", message))  # SimpleJWT's InvalidToken
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header
    set_rollback()
    return Response(envelope(code, message, details), status=exc.status_code, headers=headers)


# --- Django's own error views: the envelope under /api/, a page in the portal's design elsewhere


def is_api(request: HttpRequest) -> bool:
    """Whether a request is to the API (its errors in the envelope, no portal page, no
    message storage, no slash redirect): every path under /api/."""
    return request.path_info.startswith("/api/")


def _error_page(request: HttpRequest, status_code: int, code: str, message: str) -> HttpResponse:
    if is_api(request):
        return JsonResponse(envelope(code, message), status=status_code)
    return render(
        request,
        "errors/error.html",
        {"status": status_code, "message": message},
        status=status_code,
    )


def handler400(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error_page(request, 400, "validation_error", "The request could not be understood.")


def handler403(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error_page(request, 403, "permission_denied", "You may not see this page.")


def handler404(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error_page(request, 404, "not_found", "There is nothing at this address.")


@csrf_exempt
def api_not_found(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    """Mounted last under /api/: any other path, in any verb, is the JSON 404. CSRF-exempt, as
    it changes nothing: a POST there is not a form that expired (the 403 page) but a wrong
    address, and the API's real views check CSRF themselves for session callers (DRF)."""
    return JsonResponse(
        envelope("not_found", "There is nothing at this address."), status=status.HTTP_404_NOT_FOUND
    )


def handler500(request: HttpRequest) -> HttpResponse:
    return _error_page(
        request, 500, "server_error", "Something went wrong on our side. Nothing was changed."
    )


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    return _error_page(
        request, 403, "permission_denied", "This form expired. Go back, reload and try again."
    )


def error_response(request: HttpRequest, error: BankError) -> HttpResponse:
    """A refusal outside DRF (a middleware, a portal page): the envelope under /api/, the
    error page elsewhere, with the error's headers (Retry-After) either way."""
    if is_api(request):
        response: HttpResponse = JsonResponse(
            envelope(error.code, error.message, error.details), status=error.http_status
        )
    else:
        context = {"status": error.http_status, "message": error.message}
        response = render(request, "errors/error.html", context, status=error.http_status)
    for name, value in error.headers.items():  # ResponseHeaders has no update()
        response[name] = value
    return response


def lockout_response(request: HttpRequest, credentials: dict | None = None, *args, **kwargs):
    """django-axes: a locked-out sign-in is a 429 with Retry-After, never a 401."""
    return error_response(request, LockedOutError())
