"""Who the client is, and the answer to a sign-in on a locked account (django-axes calls both)."""

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from rest_framework import status
from rest_framework.throttling import BaseThrottle

from market.common.errors import ApplicationError, error_response


def client_address(request: HttpRequest) -> str:
    """The client's address as the trusted proxies saw it. DRF's throttle rule (its `NUM_PROXIES` is
    `TRUSTED_PROXY_COUNT`), so that the throttles and the lockout log agree on who the client is."""
    return BaseThrottle().get_ident(request)  # type: ignore[arg-type]  # it reads only META, as Django's has


class AccountLocked(ApplicationError):
    status_code = status.HTTP_403_FORBIDDEN
    default_code = "account_locked"


def account_locked() -> AccountLocked:
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    return AccountLocked(
        _(
            "This account is locked after too many failed sign-ins. Try again in %(minutes)d minutes, or ask "
            "a platform administrator to unlock it."
        )
        % {"minutes": minutes}
    )


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None, credentials: dict[str, Any] | None
) -> HttpResponse:
    """What django-axes answers instead of the view's response when the sign-in hit a locked account: the
    error format under /api/, the web site's page with the message everywhere else (the admin included)."""
    error = account_locked()
    if request.path.startswith("/api/"):
        return error_response(error.code, error.message, error.status_code)
    return render(request, "web/errors/locked.html", {"message": error.message}, status=error.status_code)
