"""Where a link the market sends leads on the web site. The notification service writes links to the API's
resources (`services/notify/links.py`), stored in each notification; a page shows them as the page that
shows the same thing, when the site has one, on the site the visitor is on."""

from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import parse_qs, urlsplit

from django.urls import Resolver404, resolve, reverse

#: a page found from the link's path arguments and parsed query: its site-relative address, or None when the
#: link does not name one (the API resource's address is used then)
PageFinder = Callable[[Mapping[str, Any], Mapping[str, list[str]]], str | None]


def _review_queue(kwargs: Mapping[str, Any], query: Mapping[str, list[str]]) -> str:
    """The review page holds every kind's queue, each in its own section."""
    return f"{reverse('web:review')}#queue-{kwargs['kind']}"


def _objections(kwargs: Mapping[str, Any], query: Mapping[str, list[str]]) -> str | None:
    """The objections to one deal (`?deal=`) are in its deal room's public-notice section."""
    deal = query.get("deal", [""])[0]
    return f"{reverse('web:deal', kwargs={'pk': int(deal)})}#deal-notice" if deal.isdigit() else None


def _proposal(kwargs: Mapping[str, Any], query: Mapping[str, list[str]]) -> str:
    """A proposal is linked to its proposer only once not selected, when its demand has closed: the
    university's own list of proposals shows it with its status."""
    return f"{reverse('web:my-listings')}#proposals-heading"


def _demand_proposals(kwargs: Mapping[str, Any], query: Mapping[str, list[str]]) -> str:
    return f"{reverse('web:my-demand', kwargs={'pk': kwargs['demand_id']})}#proposals-heading"


#: URL name of an API resource -> URL name of the page showing the same thing (same path arguments and
#: query), or the function finding that page when the arguments differ
PAGE_OF: dict[str, str | PageFinder] = {
    "patent-detail": "web:patent",
    "achievement-detail": "web:achievement",
    "demand-detail": "web:demand",
    "expert-detail": "web:expert",
    "search": "web:search",
    "notice-list": "web:notices",
    "review-queue": _review_queue,
    "deal-list": "web:deals",
    "deal-detail": "web:deal",
    "registration-list": "web:registrations",
    "objection-list": _objections,
    "auction-list": "web:auctions",
    "auction-detail": "web:auction",
    "offer-list": "web:my-offers",
    "offer-detail": "web:offer",
    "proposal-detail": _proposal,
    "demand-proposals": _demand_proposals,
    "notification-list": "web:inbox",
    "subscription-list": "web:subscriptions",
    "notification-preferences": "web:notification-settings",
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
    if isinstance(page, str):
        return reverse(page, kwargs=match.kwargs) + query
    found = page(match.kwargs, parse_qs(parts.query)) if page is not None else None
    return found if found is not None else parts.path + query
