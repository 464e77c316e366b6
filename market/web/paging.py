"""Lists shown a page at a time: the page a request asks for, and the links to the others. A page that shows
two lists names each list's page parameter, so paging one keeps the other where it is."""

from typing import Any

from django.core.paginator import Page, Paginator
from django.http import HttpRequest


def page_of(request: HttpRequest, items: Any, *, size: int, param: str = "page") -> Page:
    """The page `?<param>=` asks for (the first for a missing or bad number, the last beyond the end)."""
    return Paginator(items, size).get_page(request.GET.get(param))


def query_without(request: HttpRequest, param: str = "page") -> str:
    """The page's query string without one list's page number, for that list's pager links
    (`web/partials/pager.html`)."""
    query = request.GET.copy()
    query.pop(param, None)
    return query.urlencode()
