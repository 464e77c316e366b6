"""Reads of the notification service: a user's subscriptions, inbox and deliveries."""

from django.db.models import QuerySet

from market.accounts.models import User
from services.notify.models import Channel, Notification, Subscription


def subscriptions_of(user: User) -> QuerySet[Subscription]:
    return Subscription.objects.filter(user=user)


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
