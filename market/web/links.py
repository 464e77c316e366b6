"""Where a link the market sends leads on the web site. The notification service writes links to the API's
resources (`services/notify/links.py`), stored in each notification; a page shows them as the page that
shows the same thing, when the site has one, on the site the visitor is on."""

from urllib.parse import urlsplit

from django.urls import Resolver404, resolve, reverse

#: URL name of an API resource -> URL name of the page showing the same thing (same path arguments and query)
PAGE_OF = {
    "patent-detail": "web:patent",
    "search": "web:search",
}


def page_link(link: str) -> str | None:
    """The site-relative address of the page for `link` (an absolute or relative market URL): the page's when
    there is one, the API resource's otherwise; None for a link that is not the market's."""
    if not link:
        return None
    parts = urlsplit(link)
    try:
        match = resolve(parts.path)
    except Resolver404:
        return None
    query = f"?{parts.query}" if parts.query else ""
    page = PAGE_OF.get(match.view_name)
    if page is None:
        return parts.path + query
    return reverse(page, kwargs=match.kwargs) + query
