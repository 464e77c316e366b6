"""What every page's frame shows: the navigation for the visitor's role and the unread notification count."""

from typing import Any

from django.http import HttpRequest

from market.web.access import viewer
from services.notify.selectors import unread_count


def navigation(user: Any) -> list[tuple[str, str]]:
    """(label, url) of the pages this user works in, beyond the public ones."""
    if not (user and user.is_authenticated):
        return []
    items: list[tuple[str, str]] = []
    return items


def site(request: HttpRequest) -> dict[str, Any]:
    user = viewer(request) if hasattr(request, "user") else None
    return {
        "nav_items": navigation(user),
        "unread_notifications": unread_count(user) if user else 0,
    }
