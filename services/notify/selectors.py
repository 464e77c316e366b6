"""Reads of the notification service: a user's subscriptions, inbox and deliveries, and what a user may follow
or hear about (the catalog's and accounts' own visibility selectors, the ones their detail endpoints use)."""

from collections.abc import Callable

from django.db.models import Model, QuerySet

from market.accounts.models import User
from market.accounts.selectors import organization_list
from market.catalog.selectors import achievement_list, demand_list, expert_list, patent_list
from services.notify.models import Channel, Notification, Subscription, WebhookEndpoint

#: listing kind -> the selector of its list and detail endpoints (what a given user may read)
LISTING_SELECTORS: dict[str, Callable[..., QuerySet]] = {
    "patent": patent_list,
    "achievement": achievement_list,
    "demand": demand_list,
    "expert": expert_list,
}
#: the listing kinds a user may follow
FOLLOWABLE_KINDS = ("achievement", "demand", "patent")


def subscriptions_of(user: User) -> QuerySet[Subscription]:
    return Subscription.objects.filter(user=user)


def listing_as_seen_by(*, user: User, kind: str, listing_id: int | None) -> Model | None:
    """The listing as its detail endpoint would show it to `user` right now, or None when it would answer
    404 (missing, or hidden from this user)."""
    if listing_id is None:
        return None
    return LISTING_SELECTORS[kind](user=user).filter(pk=listing_id).first()


def organization_visible(*, user: User, organization_id: int | None) -> bool:
    """Whether the organization's detail endpoint would show it to `user`."""
    return organization_id is not None and organization_list(user=user).filter(pk=organization_id).exists()


def inbox_of(user: User, *, unread_only: bool = False) -> QuerySet[Notification]:
    queryset = Notification.objects.filter(user=user, channel=Channel.IN_APP)
    return queryset.filter(read_at__isnull=True) if unread_only else queryset


def unread_count(user: User) -> int:
    return inbox_of(user, unread_only=True).count()


def deliveries_of(user: User) -> QuerySet[Notification]:
    """E-mail and webhook notifications with their attempt log."""
    return (
        Notification.objects.filter(user=user).exclude(channel=Channel.IN_APP).prefetch_related("attempt_log")
    )


def webhook_endpoint_of(user: User) -> WebhookEndpoint | None:
    """The user's webhook endpoint, or None when they never set one."""
    return WebhookEndpoint.objects.filter(user=user).first()
