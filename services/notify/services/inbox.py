"""The in-app inbox: read marks (its rows are written by the fan-out)."""

from django.utils import timezone

from market.accounts.models import User
from services.notify.models import Channel, Notification


def notifications_mark_read(*, user: User, ids: list[int] | None) -> int:
    """Mark the user's unread in-app notifications read (`ids`, or all when None); returns how many."""
    queryset = Notification.objects.filter(user=user, channel=Channel.IN_APP, read_at__isnull=True)
    if ids is not None:
        queryset = queryset.filter(pk__in=ids)
    return queryset.update(read_at=timezone.now())
