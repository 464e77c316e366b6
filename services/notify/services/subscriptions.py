"""What a user asked to hear and how: subscriptions and their index keys, the preference for everything no
subscription chose (channels, language, muted kinds, quiet hours), the webhook endpoint, and the one-click way
out of e-mail."""

from datetime import datetime, time, timedelta
from enum import Enum
from typing import Any

from django.core import signing
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from market.accounts.models import User
from market.common.errors import ApplicationError
from services.notify.conf import setting
from services.notify.links import unsubscribe_link
from services.notify.matching import subscription_keys
from services.notify.models import (
    Channel,
    DeliveryStatus,
    Frequency,
    Notification,
    Preference,
    Subscription,
    SubscriptionKey,
    SubscriptionKind,
    WebhookEndpoint,
)
from services.notify.selectors import listing_as_seen_by, organization_visible
from services.notify.webhooks import (
    ResolutionTimeout,
    UrlRefusal,
    WebhookUrlRefused,
    secret_generate,
    webhook_target,
)

UNSUBSCRIBE_SALT = "notify.unsubscribe"


class Keep(Enum):
    """The default of a partial update's arguments: the field keeps its value (None is a value for some)."""

    KEEP = "keep"


KEEP = Keep.KEEP


def _changes_apply(instance: Subscription | Preference, changes: dict[str, Any]) -> None:
    for name, value in changes.items():
        if value is not KEEP:
            setattr(instance, name, value)


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


def _target_check(*, user: User, kind: str, target_kind: str, target_id: int | None) -> None:
    """A user follows only what the target's own detail endpoint would show them (the same selectors). A
    hidden target answers exactly like a missing one, so ids of drafts cannot be found by trying them."""
    if kind == SubscriptionKind.LISTING:
        listing = listing_as_seen_by(user=user, kind=target_kind, listing_id=target_id)
        visible, message = listing is not None, _("No such listing.")
    elif kind == SubscriptionKind.ORGANIZATION:
        visible = organization_visible(user=user, organization_id=target_id)
        message = _("No such organization.")
    else:
        return
    if not visible:
        raise ApplicationError(message, fields={"target_id": [message]})


@transaction.atomic
def subscription_create(
    *,
    user: User,
    kind: str,
    channels: list[str],
    name: str = "",
    params: dict[str, Any] | None = None,
    target_kind: str = "",
    target_id: int | None = None,
    frequency: str = Frequency.INSTANT,
) -> Subscription:
    _target_check(user=user, kind=kind, target_kind=target_kind, target_id=target_id)
    subscription = Subscription.objects.create(
        user=user,
        kind=kind,
        name=name,
        params=params or {},
        target_kind=target_kind,
        target_id=target_id,
        channels=channels,
        frequency=frequency,
    )
    _keys_replace(subscription)
    return subscription


@transaction.atomic
def subscription_update(
    *,
    subscription: Subscription,
    name: str | Keep = KEEP,
    params: dict[str, Any] | Keep = KEEP,
    channels: list[str] | Keep = KEEP,
    frequency: str | Keep = KEEP,
    is_active: bool | Keep = KEEP,
) -> Subscription:
    _changes_apply(
        subscription,
        {
            "name": name,
            "params": params,
            "channels": channels,
            "frequency": frequency,
            "is_active": is_active,
        },
    )
    subscription.save()
    _keys_replace(subscription)
    return subscription


@transaction.atomic
def subscription_delete(*, subscription: Subscription) -> None:
    subscription.delete()


# ---- preference -----------------------------------------------------------------------------------------


def preference_of(user: User) -> Preference:
    """The user's preference, or the defaults (unsaved) when they never set one."""
    preference = Preference.objects.filter(user=user).first()
    return preference or Preference(user=user, channels=list(setting("NOTIFY_DEFAULT_CHANNELS")))


def quiet_hours_end(preference: Preference, moment: datetime) -> datetime | None:
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


@transaction.atomic
def preference_update(
    *,
    user: User,
    language: str | Keep = KEEP,
    channels: list[str] | Keep = KEEP,
    muted_kinds: list[str] | Keep = KEEP,
    quiet_start: time | Keep | None = KEEP,
    quiet_end: time | Keep | None = KEEP,
) -> Preference:
    preference = preference_of(user)
    _changes_apply(
        preference,
        {
            "language": language,
            "channels": channels,
            "muted_kinds": muted_kinds,
            "quiet_start": quiet_start,
            "quiet_end": quiet_end,
        },
    )
    if (preference.quiet_start is None) != (preference.quiet_end is None):
        raise ApplicationError(
            _("Quiet hours need both a start and an end."), fields={"quiet_end": [_("Give both or neither.")]}
        )
    preference.save()
    return preference


# ---- webhook endpoint -----------------------------------------------------------------------------------


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


# ---- unsubscribe ----------------------------------------------------------------------------------------


def unsubscribe_url(*, user_id: int, subscription_id: int | None, digest: bool = False) -> str:
    """The one-click link of a mail: a signed, non-expiring claim of which user, and which subscription (or
    their digests, or, with neither, the mail no subscription asked for)."""
    claims = {"u": user_id, "s": subscription_id, "d": digest}
    token = signing.dumps(claims, salt=UNSUBSCRIBE_SALT, compress=True)
    return unsubscribe_link(token)


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
        subscriptions = (
            mine.filter(pk=claims["s"]) if claims.get("s") else mine.filter(frequency=Frequency.DIGEST)
        )
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
