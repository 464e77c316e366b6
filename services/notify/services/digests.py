"""The daily digest: one e-mail per user gathering the notifications their digest subscriptions collected."""

import logging
import uuid
from datetime import datetime

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from market.accounts.models import User
from services.notify.models import DeliveryAttempt, DeliveryStatus, Notification
from services.notify.rendering import render_text
from services.notify.services.deliveries import email_attempt, lease_end
from services.notify.services.subscriptions import preference_of, quiet_hours_end, unsubscribe_url

logger = logging.getLogger(__name__)


def _digest_claim(*, user_id: int, now: datetime) -> tuple[uuid.UUID, list[Notification]]:
    """Claim a user's waiting digest items in a short transaction: one sender per item, and a crashed
    sender's claim runs out (`lease_until`), so the next run takes the items again."""
    token = uuid.uuid4()
    with transaction.atomic():
        items = list(
            Notification.objects.select_for_update(skip_locked=True)
            .filter(user_id=user_id, status=DeliveryStatus.DIGEST)
            .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
            .order_by("created_at", "pk")
        )
        Notification.objects.filter(pk__in=[item.pk for item in items]).update(
            claim=token, lease_until=lease_end(now)
        )
    return token, items


def digests_send(*, now: datetime | None = None) -> int:
    """One e-mail per user gathering their digest notifications; users in quiet hours get theirs next time.
    The items are claimed, the mail is sent with no transaction open (a slow mail server holds no row
    lock), then the outcome is recorded for the claimed items. Returns the number of digests sent."""
    now = now or timezone.now()
    sent = 0
    user_ids = (
        Notification.objects.filter(status=DeliveryStatus.DIGEST).values_list("user_id", flat=True).distinct()
    )
    for user_id in list(user_ids):
        user = User.objects.get(pk=user_id)
        preference = preference_of(user)
        if quiet_hours_end(preference, now):
            continue
        token, items = _digest_claim(user_id=user_id, now=now)
        if not items:
            continue
        subject, _blank, body = render_text("digest", preference.language, {"items": items}).partition("\n")
        link = unsubscribe_url(user_id=user_id, subscription_id=None, digest=True)
        result = email_attempt(
            user=user, language=preference.language, subject=subject.strip(), body=body.strip(), link=link
        )
        with transaction.atomic():
            claimed = Notification.objects.filter(
                pk__in=[item.pk for item in items], status=DeliveryStatus.DIGEST, claim=token
            )
            DeliveryAttempt.objects.bulk_create(
                DeliveryAttempt(
                    notification=item, succeeded=result.ok, outcome=result.outcome, error=result.detail
                )
                for item in items
            )
            if not result.ok:
                claimed.update(claim=None, lease_until=None)
                logger.warning("digest for user %s not sent: %s", user_id, result.detail)
                continue
            claimed.update(status=DeliveryStatus.SENT, sent_at=now, attempts=1, claim=None, lease_until=None)
        sent += 1
    return sent
