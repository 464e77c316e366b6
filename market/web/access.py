"""Who is looking at a page, in the terms the selectors and services take."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest

from market.accounts.models import User

__all__ = ["login_required", "signed_in_user", "viewer"]


def viewer(request: HttpRequest) -> User | None:
    """The signed-in user, or None for an anonymous visitor (what every selector's `user=` expects)."""
    user = request.user
    return user if isinstance(user, User) and user.is_authenticated else None


def signed_in_user(request: HttpRequest) -> User:
    """The user of a view behind `login_required`."""
    user = viewer(request)
    if user is None:
        raise PermissionError("signed_in_user() outside a login_required view")
    return user
