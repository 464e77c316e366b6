"""E-mail and webhook deliveries: queueing them on Celery, one attempt at a time under a lease, retries with
back-off, sending again on request, and the sweep that re-queues what was lost."""

import logging
import time
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from celery import current_app
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from market.accounts.models import User
from market.common.errors import ApplicationError
from services.notify.conf import setting
from services.notify.models import (
    Channel,
    DeliveryAttempt,
    DeliveryStatus,
    Notification,
    Outcome,
    WebhookEndpoint,
)
from services.notify.rendering import render_text
from services.notify.services.subscriptions import unsubscribe_url
from services.notify.webhooks import DeliveryResult, webhook_post

logger = logging.getLogger(__name__)
DELIVERED_CHANNELS = (Channel.EMAIL, Channel.WEBHOOK)
#: the Celery task that makes one attempt (services/notify/tasks.py), named here and found in Celery's
#: registry: the task calls these services, so importing it back would make the two modules import each other
DELIVER_TASK = "notify.deliver"


# ---- queueing -------------------------------------------------------------------------------------------


def delivery_schedule(notification_id: int, *, channel: str, countdown: float = 0.0) -> None:
    """Queue one delivery attempt: webhooks on their own queue, e-mail on the default one."""
    routing = {"queue": setting("NOTIFY_WEBHOOK_QUEUE")} if channel == Channel.WEBHOOK else {}
    current_app.tasks[DELIVER_TASK].apply_async((notification_id, channel), countdown=countdown, **routing)


def deliveries_enqueue(queued: Sequence[tuple[int, str, datetime | None]], now: datetime) -> None:
    """Hand deliveries to Celery, each to run when it is due (after quiet hours, say)."""
    for pk, channel, due in queued:
        delivery_schedule(
            pk, channel=channel, countdown=max(0.0, (due - now).total_seconds()) if due else 0.0
        )


# ---- one attempt ----------------------------------------------------------------------------------------


def _email_send(*, user: User, language: str, subject: str, body: str, link: str) -> None:
    message = EmailMessage(
        subject=subject,
        body=body + "\n" + render_text("_email_footer", language, {"unsubscribe_url": link}),
        to=[user.email],
        headers={"List-Unsubscribe": f"<{link}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"},
    )
    message.send(fail_silently=False)


def _webhook_payload(notification: Notification) -> dict[str, Any]:
    return {
        "id": str(notification.pk),
        "event_id": notification.event_id,
        "event_type": notification.event_type,
        "kind": notification.kind,
        "subject": notification.subject,
        "body": notification.body,
        "link": notification.link,
        "data": notification.data,
        "created_at": notification.created_at.isoformat(),
    }


def email_attempt(*, user: User, language: str, subject: str, body: str, link: str) -> DeliveryResult:
    """Send one e-mail (a delivery or a digest); a failure of the mail server is an outcome, not an
    exception."""
    try:
        _email_send(user=user, language=language, subject=subject, body=body, link=link)
    except OSError as error:  # smtplib.SMTPException is an OSError
        return DeliveryResult(Outcome.MAIL_FAILED, detail=str(error)[:500])
    return DeliveryResult(Outcome.DELIVERED)


def _webhook_attempt(notification: Notification, endpoint: WebhookEndpoint | None) -> DeliveryResult:
    if endpoint is None or not endpoint.is_active:
        return DeliveryResult(Outcome.ENDPOINT_DISABLED)
    return webhook_post(
        url=endpoint.url,
        secret=endpoint.secret,
        payload=_webhook_payload(notification),
        delivery_id=str(notification.pk),
        event_id=notification.event_id,
        timeout=float(setting("NOTIFY_WEBHOOK_TIMEOUT")),
    )


def retry_delay(attempts: int) -> float:
    """Exponential backoff after the `attempts`-th failure."""
    base = float(setting("NOTIFY_RETRY_BASE_SECONDS"))
    return min(base * 2 ** (attempts - 1), float(setting("NOTIFY_RETRY_MAX_SECONDS")))


def lease_end(now: datetime) -> datetime:
    """When a claim taken `now` (of a delivery or of digest items) runs out if its worker never reports back
    (it died while sending)."""
    return now + timedelta(seconds=float(setting("NOTIFY_DELIVERY_LEASE_SECONDS")))


def _delivery_claim(notification_id: int) -> tuple[Notification, uuid.UUID] | None:
    """Claim a due delivery for this worker with one conditional UPDATE (its own short transaction): a pending
    delivery that is due, or one whose previous claim ran out (that worker died). Two workers given the same
    delivery never both win, and no lock outlives the statement."""
    now = timezone.now()
    token = uuid.uuid4()
    due = Q(status=DeliveryStatus.PENDING) & (Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
    lapsed = Q(status=DeliveryStatus.SENDING, lease_until__lt=now)
    claimed = (
        Notification.objects.filter(due | lapsed, pk=notification_id)
        .exclude(channel=Channel.IN_APP)
        .update(
            status=DeliveryStatus.SENDING,
            claim=token,
            lease_until=lease_end(now),
        )
    )
    if not claimed:
        return None
    return Notification.objects.select_related("user").get(pk=notification_id), token


def _delivery_record(
    notification: Notification, token: uuid.UUID, result: DeliveryResult, started: float
) -> float | None:
    """Log the attempt and settle the delivery, in one short transaction after the network is done. Only the
    claim's holder settles it: if the lease ran out and another worker took over, that worker decides."""
    now = timezone.now()
    with transaction.atomic():
        DeliveryAttempt.objects.create(
            notification=notification,
            succeeded=result.ok,
            outcome=result.outcome,
            status_code=result.status_code,
            error=result.detail,
            duration_ms=int((time.monotonic() - started) * 1000),
        )
        endpoint_active = True
        if notification.channel == Channel.WEBHOOK and result.outcome != Outcome.ENDPOINT_DISABLED:
            endpoint_active = _endpoint_count(notification.user_id, ok=result.ok, now=now)
        attempts = notification.attempts + 1
        changes: dict[str, Any] = {"attempts": attempts, "last_error": "" if result.ok else result.outcome}
        delay = None
        if result.ok:
            changes.update(status=DeliveryStatus.SENT, sent_at=now)
        elif (
            attempts >= setting("NOTIFY_MAX_ATTEMPTS")
            or result.outcome == Outcome.ENDPOINT_DISABLED
            or not endpoint_active  # this failure disabled the endpoint
        ):
            changes.update(status=DeliveryStatus.FAILED)
        else:
            delay = retry_delay(attempts)
            changes.update(status=DeliveryStatus.PENDING, next_attempt_at=now + timedelta(seconds=delay))
        settled = Notification.objects.filter(
            pk=notification.pk, status=DeliveryStatus.SENDING, claim=token
        ).update(claim=None, lease_until=None, **changes)
    return delay if settled else None


def _endpoint_count(user_id: int, *, ok: bool, now: datetime) -> bool:
    """Count a webhook success or failure on the user's endpoint, disabling it after too many failures in a
    row; returns whether it is still active. Atomic updates: no read-modify-write across the network."""
    endpoints = WebhookEndpoint.objects.filter(user_id=user_id)
    if ok:
        endpoints.update(consecutive_failures=0)
        return True
    endpoints.update(consecutive_failures=F("consecutive_failures") + 1)
    endpoints.filter(
        is_active=True, consecutive_failures__gte=setting("NOTIFY_WEBHOOK_DISABLE_AFTER")
    ).update(is_active=False, disabled_at=now)
    return endpoints.filter(is_active=True).exists()


def notification_deliver(*, notification_id: int) -> float | None:
    """One attempt at a due e-mail or webhook delivery, logged. Returns the delay before the next attempt when
    it failed and may be retried, else None.

    No database lock or transaction is held while talking to the network (a slow receiver would hold them
    for its whole deadline): the delivery is claimed with a lease in one statement, sent outside any
    transaction within a total deadline, and its outcome recorded in a second short transaction."""
    claim = _delivery_claim(notification_id)
    if claim is None:
        return None
    notification, token = claim
    started = time.monotonic()
    if notification.channel == Channel.EMAIL:
        result = email_attempt(
            user=notification.user,
            language=notification.language,
            subject=notification.subject,
            body=notification.body,
            link=unsubscribe_url(user_id=notification.user_id, subscription_id=notification.subscription_id),
        )
    else:
        endpoint = WebhookEndpoint.objects.filter(user_id=notification.user_id).first()
        result = _webhook_attempt(notification, endpoint)
    if not result.ok:
        logger.info("delivery %s failed: %s %s", notification.pk, result.outcome, result.detail)
    return _delivery_record(notification, token, result, started)


# ---- again ----------------------------------------------------------------------------------------------


@transaction.atomic
def notification_resend(*, notification: Notification) -> Notification:
    """Queue an e-mail or webhook notification again (after a failure, or because the receiver lost it)."""
    if notification.channel not in DELIVERED_CHANNELS:
        raise ApplicationError(
            _("Only e-mail and webhook notifications are sent again."), code="not_resendable"
        )
    notification.status = DeliveryStatus.PENDING
    notification.attempts = 0
    notification.next_attempt_at = timezone.now()
    notification.save(update_fields=["status", "attempts", "next_attempt_at"])
    queued = [(notification.pk, notification.channel, None)]
    transaction.on_commit(lambda: deliveries_enqueue(queued, timezone.now()))
    return notification


def deliveries_requeue() -> int:
    """Hand Celery again every pending delivery long overdue (its task was lost: a crash between commit and
    enqueue, a purged queue) and every delivery whose worker's claim ran out (it died while sending). Repeats
    are harmless: a delivery is claimed only while due, by one worker at a time."""
    now = timezone.now()
    overdue = now - timedelta(seconds=float(setting("NOTIFY_SWEEP_GRACE_SECONDS")))
    lost = Q(status=DeliveryStatus.PENDING, next_attempt_at__lte=overdue) | Q(
        status=DeliveryStatus.SENDING, lease_until__lt=now
    )
    queued = list(
        Notification.objects.filter(lost).order_by("next_attempt_at").values_list("pk", "channel")[:1000]
    )
    deliveries_enqueue([(pk, channel, None) for pk, channel in queued], now)
    return len(queued)
