"""Who is asking: a request's user as the services take it — a `User`, or None for an anonymous reader —
instead of Django's `User | AnonymousUser`."""

from django.http import HttpRequest
from rest_framework.exceptions import NotAuthenticated
from rest_framework.request import Request

from market.accounts.models import User


def signed_in_user(request: Request | HttpRequest) -> User:
    """The user of a view behind `IsAuthenticated` (checked before the view); 401 should one slip through."""
    user = request.user
    if not isinstance(user, User) or not user.is_authenticated:
        raise NotAuthenticated()
    return user


def reader(request: Request | HttpRequest) -> User | None:
    """The signed-in user, or None for anonymous readers of public data."""
    user = request.user
    return user if isinstance(user, User) and user.is_authenticated else None
