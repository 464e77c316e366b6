"""A service's refusal that a page did not handle itself, shown as a page in the visitor's language with the
status the API would answer (a search engine that is down is a 503 page, never a 500)."""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.html import format_html

from market.common.errors import ApplicationError


class ApplicationErrorPageMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, ApplicationError) or request.path_info.startswith("/api/"):
            return None
        if getattr(request, "htmx", False):
            # a live part of a page: htmx swaps only successful answers, so the message replaces the part
            # and the page around it stays usable
            return HttpResponse(format_html('<p class="muted" role="status">{}</p>', exception.message))
        context = {"message": exception.message, "status": exception.status_code}
        return render(request, "web/errors/refused.html", context, status=exception.status_code)
