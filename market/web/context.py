"""What every page's frame shows: the navigation for the visitor's role and the unread notification count."""

from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext as _

from market.accounts.permissions import can_list_supply, can_post_demand
from market.web.access import viewer
from services.notify.selectors import unread_count


def navigation(user: Any) -> list[tuple[str, str]]:
    """(label, url) of the pages this user works in, beyond the public ones."""
    if not (user and user.is_authenticated):
        return [(_("Auctions"), reverse("web:auctions"))]
    items: list[tuple[str, str]] = []
    # web-demand: an enterprise's demands, both sides' offers, the auction room (everyone)
    if can_post_demand(user):
        items.append((_("My demands"), reverse("web:my-demands")))
    if can_post_demand(user) or can_list_supply(user):
        items.append((_("My offers"), reverse("web:my-offers")))
    items.append((_("Auctions"), reverse("web:auctions")))
    return items


def site(request: HttpRequest) -> dict[str, Any]:
    user = viewer(request) if hasattr(request, "user") else None
    return {
        "nav_items": navigation(user),
        "unread_notifications": unread_count(user) if user else 0,
    }
