"""What the enterprise's pages and the auction room ask of a listing or a visitor, answered by the services'
own predicates (the page only decides what to offer; the services decide what happens)."""

from typing import Any

from django import template

from market.accounts.permissions import can_post_demand
from market.catalog.models import Achievement, Patent
from market.trading.services.offers import listing_takes_offers

register = template.Library()

#: badge colour of a status: settled well, waiting, or ended badly
_BADGE = {
    "published": "ok",
    "accepted": "ok",
    "shortlisted": "ok",
    "closed": "ok",
    "open": "ok",
    "pending": "warn",
    "submitted": "warn",
    "draft": "warn",
    "rejected": "bad",
    "withdrawn": "bad",
    "declined": "bad",
    "not_selected": "bad",
    "failed": "bad",
    "cancelled": "bad",
}


@register.filter
def badge(status: str) -> str:
    return _BADGE.get(str(status), "")


@register.filter
def makes_offers(user: Any) -> bool:
    """Members of approved enterprises negotiate for listings (the rule `offer_make` enforces)."""
    return can_post_demand(user)


@register.filter
def takes_offers(listing: Patent | Achievement) -> bool:
    return listing_takes_offers(listing)
