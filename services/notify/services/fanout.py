"""The fan-out of one event: a notification per (event, user, channel), in-app rows being the inbox, e-mail
and webhook rows queued deliveries."""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from market.accounts.models import User
from services.notify.conf import setting
from services.notify.models import (
    Channel,
    DeliveryStatus,
    Frequency,
    Notification,
    Preference,
    Subscription,
    WebhookEndpoint,
)
from services.notify.rendering import render_message
from services.notify.services.deliveries import DELIVERED_CHANNELS, deliveries_enqueue
from services.notify.services.subscriptions import quiet_hours_end


@dataclass
class Recipient:
    """A user to tell. With a subscription, its channels and frequency decide; otherwise the user's
    preference does."""

    user: User
    subscription: Subscription | None = None
    context: dict[str, Any] = field(default_factory=dict)


def notifications_create(
    *,
    event_id: str,
    event_type: str,
    kind: str,
    recipients: Iterable[Recipient],
    context: dict[str, Any],
    now: datetime | None = None,
) -> int:
    """One notification per (event, user, channel) for the recipients, in the caller's transaction: in-app
    rows are the inbox, e-mail and webhook rows are queued deliveries handed to Celery after commit. The first
    recipient entry of a user wins; the unique constraint makes a repeated event a no-op."""
    now = now or timezone.now()
    chosen: dict[int, Recipient] = {}
    for recipient in recipients:
        if recipient.user.is_active:
            chosen.setdefault(recipient.user.pk, recipient)
    if not chosen:
        return 0
    preferences = {pref.user_id: pref for pref in Preference.objects.filter(user_id__in=chosen)}
    endpoints = set(
        WebhookEndpoint.objects.filter(user_id__in=chosen, is_active=True).values_list("user_id", flat=True)
    )
    rows: list[Notification] = []
    for user_id, recipient in chosen.items():
        preference = preferences.get(user_id) or Preference(
            user_id=user_id, channels=list(setting("NOTIFY_DEFAULT_CHANNELS"))
        )
        if kind in preference.muted_kinds:
            continue
        subscription = recipient.subscription
        channels = subscription.channels if subscription is not None else preference.channels
        quiet_until = quiet_hours_end(preference, now)
        full_context = {**context, **recipient.context}
        subject, body = render_message(kind, preference.language, full_context)
        for channel in channels:
            if channel == Channel.EMAIL and not recipient.user.email:
                continue
            if channel == Channel.WEBHOOK and user_id not in endpoints:
                continue
            digest = (
                channel == Channel.EMAIL
                and subscription is not None
                and subscription.frequency == Frequency.DIGEST
            )
            rows.append(
                Notification(
                    event_id=event_id,
                    event_type=event_type,
                    kind=kind,
                    user_id=user_id,
                    channel=channel,
                    subscription=subscription,
                    language=preference.language,
                    subject=subject,
                    body=body,
                    link=context.get("link", ""),
                    data=context,
                    status=(
                        DeliveryStatus.SENT
                        if channel == Channel.IN_APP
                        else DeliveryStatus.DIGEST
                        if digest
                        else DeliveryStatus.PENDING
                    ),
                    sent_at=now if channel == Channel.IN_APP else None,
                    next_attempt_at=None if channel == Channel.IN_APP else (quiet_until or now),
                )
            )
    Notification.objects.bulk_create(rows, ignore_conflicts=True)
    queued = list(
        Notification.objects.filter(
            event_id=event_id, channel__in=DELIVERED_CHANNELS, status=DeliveryStatus.PENDING, attempts=0
        ).values_list("pk", "channel", "next_attempt_at")
    )
    if queued:
        transaction.on_commit(lambda: deliveries_enqueue(queued, now))
    return len(rows)
