"""Writes of the notification service: subscriptions and their index keys, preferences, webhook endpoints, the
fan-out of one event into notifications, delivery attempts, digests, read marks and unsubscribes."""

import logging
import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.core import signing
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from market.accounts.models import User
from market.common.errors import ApplicationError
from services.notify.conf import setting
from services.notify.matching import subscription_keys
from services.notify.models import (
    Channel,
    DeliveryAttempt,
    DeliveryStatus,
    Notification,
    Outcome,
    Preference,
    Subscription,
    SubscriptionKey,
    SubscriptionKind,
    WebhookEndpoint,
)
from services.notify.rendering import public_link, render_message, render_text
from services.notify.selectors import listing_as_seen_by, organization_visible
from services.notify.webhooks import (
    DeliveryResult,
    ResolutionTimeout,
    UrlRefusal,
    WebhookUrlRefused,
    secret_generate,
    webhook_post,
    webhook_target,
)

logger = logging.getLogger(__name__)
UNSUBSCRIBE_SALT = "notify.unsubscribe"
DELIVERED_CHANNELS = (Channel.EMAIL, Channel.WEBHOOK)


# ---- subscriptions --------------------------------------------------------------------------------------


def _keys_replace(subscription: Subscription) -> None:
    SubscriptionKey.objects.filter(subscription=subscription).delete()
    keys = subscription_keys(
        kind=subscription.kind,
        params=subscription.params,
        target_kind=subscription.target_kind,
        target_id=subscription.target_id,
    )
    SubscriptionKey.objects.bulk_create(SubscriptionKey(subscription=subscription, key=key) for key in keys)


def _target_check(*, user: User, data: dict[str, Any]) -> None:
    """A user follows only what the target's own detail endpoint would show them (the same selectors). A
    hidden target answers exactly like a missing one, so ids of drafts cannot be found by trying them."""
    if data["kind"] == SubscriptionKind.LISTING:
        listing = listing_as_seen_by(user=user, kind=data["target_kind"], listing_id=data["target_id"])
        visible, message = listing is not None, _("No such listing.")
    elif data["kind"] == SubscriptionKind.ORGANIZATION:
        visible = organization_visible(user=user, organization_id=data["target_id"])
        message = _("No such organization.")
    else:
        return
    if not visible:
        raise ApplicationError(message, fields={"target_id": [message]})


@transaction.atomic
def subscription_create(*, user: User, data: dict[str, Any]) -> Subscription:
    _target_check(user=user, data=data)
    subscription = Subscription.objects.create(user=user, **data)
    _keys_replace(subscription)
    return subscription


@transaction.atomic
def subscription_update(*, subscription: Subscription, data: dict[str, Any]) -> Subscription:
    for name, value in data.items():
        setattr(subscription, name, value)
    subscription.save()
    _keys_replace(subscription)
    return subscription


@transaction.atomic
def subscription_delete(*, subscription: Subscription) -> None:
    subscription.delete()


# ---- preferences and webhook endpoint -------------------------------------------------------------------


def preference_of(user: User) -> Preference:
    """The user's preference, or the defaults (unsaved) when they never set one."""
    preference = Preference.objects.filter(user=user).first()
    return preference or Preference(user=user, channels=list(setting("NOTIFY_DEFAULT_CHANNELS")))


@transaction.atomic
def preference_update(*, user: User, data: dict[str, Any]) -> Preference:
    preference = preference_of(user)
    for name, value in data.items():
        setattr(preference, name, value)
    if (preference.quiet_start is None) != (preference.quiet_end is None):
        raise ApplicationError(
            _("Quiet hours need both a start and an end."), fields={"quiet_end": [_("Give both or neither.")]}
        )
    preference.save()
    return preference


def _webhook_url_check(url: str) -> None:
    """Refuse a URL the market must not send to (see webhooks.py): not http(s), credentials in it, an odd
    port, or a host that does not resolve to public addresses only. The last case has one message whether
    the host is private or does not resolve, so registration tells nothing about the internal network."""
    messages = {
        UrlRefusal.SCHEME: _("Use an http or https URL."),
        UrlRefusal.CREDENTIALS: _("Leave user name and password out of the URL: requests are signed."),
        UrlRefusal.PORT: _("Use port 80, 443 or a port from 1024 up."),
        UrlRefusal.ADDRESS: _(
            "Webhooks go to public internet addresses only: this host does not resolve to one."
        ),
    }
    try:
        webhook_target(url, timeout=float(setting("NOTIFY_WEBHOOK_TIMEOUT")))
        return
    except WebhookUrlRefused as refused:
        reason = refused.reason
    except (OSError, ResolutionTimeout):
        reason = UrlRefusal.ADDRESS
    raise ApplicationError(messages[reason], code="webhook_url_refused", fields={"url": [messages[reason]]})


def webhook_endpoint_set(*, user: User, url: str, rotate_secret: bool = False) -> WebhookEndpoint:
    """Create or change the user's endpoint; it is (re-)enabled with a clean failure count. The URL is checked
    first, outside the transaction (a name lookup is network I/O)."""
    _webhook_url_check(url)
    with transaction.atomic():
        endpoint = WebhookEndpoint.objects.select_for_update().filter(user=user).first()
        if endpoint is None:
            endpoint = WebhookEndpoint(user=user, secret=secret_generate())
        elif rotate_secret:
            endpoint.secret = secret_generate()
        endpoint.url = url
        endpoint.is_active = True
        endpoint.consecutive_failures = 0
        endpoint.disabled_at = None
        endpoint.save()
    return endpoint


@transaction.atomic
def webhook_endpoint_delete(*, user: User) -> None:
    WebhookEndpoint.objects.filter(user=user).delete()


# ---- fan-out --------------------------------------------------------------------------------------------


@dataclass
class Recipient:
    """A user to tell. With a subscription, its channels and frequency decide; otherwise the user's
    preference does."""

    user: User
    subscription: Subscription | None = None
    context: dict[str, Any] = field(default_factory=dict)


def _in_quiet_hours(preference: Preference, moment: datetime) -> datetime | None:
    """When the quiet window containing `moment` ends, or None outside quiet hours."""
    start, end = preference.quiet_start, preference.quiet_end
    if start is None or end is None or start == end:
        return None
    local = timezone.localtime(moment)
    now = local.time()
    inside = start <= now < end if start < end else (now >= start or now < end)
    if not inside:
        return None
    ends = local.replace(hour=end.hour, minute=end.minute, second=end.second, microsecond=0)
    return ends if ends > local else ends + timedelta(days=1)


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
        quiet_until = _in_quiet_hours(preference, now)
        full_context = {**context, **recipient.context}
        subject, body = render_message(kind, preference.language, full_context)
        for channel in channels:
            if channel == Channel.EMAIL and not recipient.user.email:
                continue
            if channel == Channel.WEBHOOK and user_id not in endpoints:
                continue
            digest = (
                channel == Channel.EMAIL and subscription is not None and subscription.frequency == "digest"
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
        transaction.on_commit(lambda: _enqueue(queued, now))
    return len(rows)


def _enqueue(queued: Sequence[tuple[int, str, datetime | None]], now: datetime) -> None:
    from services.notify.tasks import delivery_schedule

    for pk, channel, due in queued:
        delivery_schedule(
            pk, channel=channel, countdown=max(0.0, (due - now).total_seconds()) if due else 0.0
        )


# ---- delivery -------------------------------------------------------------------------------------------


def unsubscribe_token(*, user_id: int, subscription_id: int | None, digest: bool = False) -> str:
    """A signed, non-expiring claim: which user, and which subscription (or their digests, or, with neither,
    the mail no subscription asked for)."""
    claims = {"u": user_id, "s": subscription_id, "d": digest}
    return signing.dumps(claims, salt=UNSUBSCRIBE_SALT, compress=True)


def unsubscribe_url(notification: Notification) -> str:
    token = unsubscribe_token(user_id=notification.user_id, subscription_id=notification.subscription_id)
    return public_link(f"/api/v1/notifications/unsubscribe/{token}/")


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


def _email_attempt(*, user: User, language: str, subject: str, body: str, link: str) -> DeliveryResult:
    """Send one e-mail; a failure of the mail server is an outcome, not an exception."""
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


def _lease_end(now: datetime) -> datetime:
    """When a claim taken `now` runs out if its worker never reports back (it died while sending)."""
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
            lease_until=_lease_end(now),
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
        result = _email_attempt(
            user=notification.user,
            language=notification.language,
            subject=notification.subject,
            body=notification.body,
            link=unsubscribe_url(notification),
        )
    else:
        endpoint = WebhookEndpoint.objects.filter(user_id=notification.user_id).first()
        result = _webhook_attempt(notification, endpoint)
    if not result.ok:
        logger.info("delivery %s failed: %s %s", notification.pk, result.outcome, result.detail)
    return _delivery_record(notification, token, result, started)


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
    transaction.on_commit(lambda: _enqueue(queued, timezone.now()))
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
    _enqueue([(pk, channel, None) for pk, channel in queued], now)
    return len(queued)


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
            claim=token, lease_until=_lease_end(now)
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
        if _in_quiet_hours(preference, now):
            continue
        token, items = _digest_claim(user_id=user_id, now=now)
        if not items:
            continue
        subject, _blank, body = render_text("digest", preference.language, {"items": items}).partition("\n")
        link = public_link(
            "/api/v1/notifications/unsubscribe/"
            + unsubscribe_token(user_id=user_id, subscription_id=None, digest=True)
            + "/"
        )
        result = _email_attempt(
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


# ---- inbox and unsubscribe ------------------------------------------------------------------------------


def notifications_mark_read(*, user: User, ids: list[int] | None) -> int:
    """Mark the user's unread in-app notifications read (`ids`, or all when None); returns how many."""
    queryset = Notification.objects.filter(user=user, channel=Channel.IN_APP, read_at__isnull=True)
    if ids is not None:
        queryset = queryset.filter(pk__in=ids)
    return queryset.update(read_at=timezone.now())


@transaction.atomic
def unsubscribe_apply(*, token: str) -> User:
    """Turn e-mail off for the subscription the link was for (or, for other mail, in the user's
    preference). Idempotent: the same link can be followed again."""
    try:
        claims = signing.loads(token, salt=UNSUBSCRIBE_SALT)
        user = User.objects.get(pk=claims["u"])
    except (signing.BadSignature, User.DoesNotExist, KeyError, TypeError) as error:
        raise ApplicationError(_("This unsubscribe link is not valid."), code="invalid_token") from error
    if claims.get("s") or claims.get("d"):
        mine = Subscription.objects.select_for_update().filter(user=user)
        subscriptions = mine.filter(pk=claims["s"]) if claims.get("s") else mine.filter(frequency="digest")
        for subscription in subscriptions:
            subscription.channels = [channel for channel in subscription.channels if channel != Channel.EMAIL]
            subscription.save(update_fields=["channels", "updated_at"])
        pending = Notification.objects.filter(subscription__in=list(subscriptions))
    else:
        preference = preference_of(user)
        preference.channels = [channel for channel in preference.channels if channel != Channel.EMAIL]
        preference.save()
        pending = Notification.objects.filter(user=user, subscription__isnull=True)
    pending.filter(channel=Channel.EMAIL, status__in=[DeliveryStatus.PENDING, DeliveryStatus.DIGEST]).update(
        status=DeliveryStatus.FAILED, last_error="unsubscribed"
    )
    return user
