"""What every page's frame shows: the navigation for the visitor's role and the unread notification count."""

from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext as _

from market.accounts.permissions import can_list_supply, can_post_demand, is_government_member, is_reviewer
from market.web.access import viewer
from services.notify.selectors import unread_count


def navigation(user: Any) -> list[tuple[str, str]]:
    """(label, url) of the pages this user works in, beyond the public ones."""
    if not (user and user.is_authenticated):
        return []
    items: list[tuple[str, str]] = []
    if can_list_supply(user):
        items.append((_("My listings"), reverse("web:my-listings")))
    if can_post_demand(user):
        items.append((_("My demands"), reverse("web:my-demands")))
    if can_post_demand(user) or can_list_supply(user):
        items.append((_("My offers"), reverse("web:my-offers")))
    if user.organization_id or is_reviewer(user):
        items.append((_("Deals"), reverse("web:deals")))
    if is_reviewer(user):
        items.append((_("Review"), reverse("web:review")))
    if is_reviewer(user) or is_government_member(user):
        items.append((_("Statistics"), reverse("web:dashboard")))
    return items


def site(request: HttpRequest) -> dict[str, Any]:
    user = viewer(request) if hasattr(request, "user") else None
    return {
        "nav_items": navigation(user),
        "unread_notifications": unread_count(user) if user else 0,
    }
