"""The one error shape of the API: `{"error": {"code", "message", "fields"}}`.

Services raise only `ApplicationError` and its subclasses (`Invalid`, `Conflict`, `Forbidden`); views never
build error bodies themselves, so every failure reaches clients in the same form. A Django `ValidationError`
that escapes a model elsewhere answers exactly as `Invalid` does."""

from collections.abc import Callable
from http import HTTPStatus
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Model
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from market.common.parsers import RequestTooLarge


class ApplicationError(Exception):
    """A business rule said no. `status_code` is 400 unless the subclass says otherwise."""

    status_code: int = status.HTTP_400_BAD_REQUEST
    default_code = "invalid"

    def __init__(self, message: str, *, code: str | None = None, fields: dict[str, Any] | None = None):
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code
        self.fields = fields or {}


class Invalid(ApplicationError):
    """Submitted values break a rule: 400 `invalid`, `fields` naming each field with its messages."""

    def __init__(self, fields: dict[str, Any], *, message: str | None = None):
        super().__init__(message or gettext("The submitted data is not valid."), fields=fields)

    @classmethod
    def from_django(cls, error: DjangoValidationError) -> "Invalid":
        """A model's or validator's errors, fields and messages unchanged."""
        if hasattr(error, "error_dict"):
            return cls(
                {
                    field: [str(message) for e in errors for message in e.messages]
                    for field, errors in error.error_dict.items()
                }
            )
        return cls({"non_field_errors": [str(message) for message in error.messages]})


def full_clean(instance: Model, **options: Any) -> None:
    """`instance.full_clean(**options)` for a service: its errors raised as `Invalid`, fields unchanged."""
    try:
        instance.full_clean(**options)
    except DjangoValidationError as error:
        raise Invalid.from_django(error) from error


class Conflict(ApplicationError):
    """The request clashes with the current state (duplicate identifier, wrong workflow step)."""

    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"


class Forbidden(ApplicationError):
    status_code = status.HTTP_403_FORBIDDEN
    default_code = "permission_denied"


def _flatten(detail: Any) -> Any:
    """DRF error details as plain strings/lists/dicts."""
    if isinstance(detail, dict):
        return {str(key): _flatten(value) for key, value in detail.items()}
    if isinstance(detail, list):
        return [_flatten(item) for item in detail]
    return str(detail)


def _first_code(detail: Any) -> str | None:
    codes = detail.get_codes() if hasattr(detail, "get_codes") else None
    while isinstance(codes, dict | list) and codes:
        codes = next(iter(codes.values())) if isinstance(codes, dict) else codes[0]
    return codes if isinstance(codes, str) else None


def error_body(code: str, message: str, fields: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "fields": fields or {}}}


def error_response(code: str, message: str, status_code: int) -> JsonResponse:
    """The error format answered outside DRF's views (middleware, django-axes), Chinese left unescaped."""
    return JsonResponse(
        error_body(code, message), status=status_code, json_dumps_params={"ensure_ascii": False}
    )


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, DjangoValidationError):
        exc = Invalid.from_django(exc)
    if isinstance(exc, ApplicationError):
        return Response(error_body(exc.code, str(exc.message), _flatten(exc.fields)), status=exc.status_code)
    if isinstance(exc, RequestDataTooBig | TooManyFieldsSent | TooManyFilesSent):
        exc = RequestTooLarge()
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()

    response = drf_exception_handler(exc, context)
    if response is None or not isinstance(exc, exceptions.APIException):
        return response
    if isinstance(exc, exceptions.ValidationError):
        detail = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        code = "invalid"
        message = str(_("The submitted data is not valid."))
        fields = _flatten(detail)
    else:
        code = _first_code(exc) or exc.default_code
        message = _flatten(exc.detail) if not isinstance(exc.detail, dict | list) else str(exc.default_detail)
        fields = {}
    response.data = error_body(code, message, fields)
    return response


#: the code of an error response Django made itself (no view, or a failure before or around the view)
_STATUS_CODES = {
    400: "bad_request",
    403: "permission_denied",
    404: "not_found",
    405: "method_not_allowed",
    413: "request_too_large",
    500: "server_error",
}


class ApiErrorFormatMiddleware:
    """Everything under /api/ answers in the error format, also what Django answers without a view: an
    unrouted path (in debug, an HTML page listing every URL pattern), a body over the upload limits, a CSRF
    failure, a crash. Outermost, so it sees the response Django made from any exception further in."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            response.status_code < 400
            or not request.path_info.startswith("/api/")
            or response.get("Content-Type", "").startswith("application/json")
        ):
            return response
        status_code = response.status_code
        code = _STATUS_CODES.get(status_code, "error" if status_code < 500 else "server_error")
        message = _ERROR_MESSAGES.get(code) or HTTPStatus(status_code).phrase
        return error_response(code, str(message), status_code)


_ERROR_MESSAGES = {
    "bad_request": _("The request could not be understood."),
    "permission_denied": exceptions.PermissionDenied.default_detail,
    "not_found": exceptions.NotFound.default_detail,
    "method_not_allowed": _("This method is not allowed here."),
    "request_too_large": _("The request is too large."),
    "server_error": _("Something went wrong on our side; please try again later."),
}
