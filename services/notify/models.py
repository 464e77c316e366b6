"""Who wants to hear what (subscriptions and their match keys, preferences, webhook endpoints) and what was
said (one Notification per event, user and channel, plus the log of every delivery attempt)."""

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils.translation import gettext_lazy as _


class Channel(models.TextChoices):
    IN_APP = "in_app", _("In-app inbox")
    EMAIL = "email", _("E-mail")
    WEBHOOK = "webhook", _("Webhook")


class Frequency(models.TextChoices):
    INSTANT = "instant", _("Instant")
    DIGEST = "digest", _("Daily digest")


class NotificationKind(models.TextChoices):
    """What a notification is about: each has its templates (`templates/notify/<language>/<kind>.txt`), and a
    user may mute any of them in their preference."""

    LISTING_MATCHED = "listing_matched", _("New listing matching a subscription")
    LISTING_CHANGED = "listing_changed", _("Change of a followed listing")
    LISTING_REVIEWED = "listing_reviewed", _("Review result of your listing")
    REVIEW_PENDING = "review_pending", _("Listing waiting for review")
    AUCTION_OPENED = "auction_opened", _("Auction on a followed listing")
    AUCTION_RESULT = "auction_result", _("Auction result")
    BID_PLACED = "bid_placed", _("New bid")
    OUTBID = "outbid", _("Outbid")
    OFFER = "offer", _("Offer")
    PURCHASE = "purchase", _("Purchase at the listed price")
    PROPOSAL = "proposal", _("Proposal")
    DEAL = "deal", _("Deal")
    REGISTRATION_PENDING = "registration_pending", _("Contract waiting for registration")
    OBJECTION = "objection", _("Objection to a deal under public notice")


class SubscriptionKind(models.TextChoices):
    SEARCH = "search", _("Saved search")
    LISTING = "listing", _("Followed listing or demand")
    ORGANIZATION = "organization", _("Followed organization")
    IPC = "ipc", _("Followed IPC class")


class Subscription(models.Model):
    """A saved search (`params` = the query parameters of /api/v1/search/) or a followed listing,
    organization or IPC class."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="subscriptions")
    kind = models.CharField(_("kind"), max_length=20, choices=SubscriptionKind.choices)
    name = models.CharField(_("name"), max_length=100, blank=True)
    params = models.JSONField(_("search parameters"), default=dict, blank=True)
    target_kind = models.CharField(_("followed listing kind"), max_length=20, blank=True)
    target_id = models.BigIntegerField(_("followed object id"), null=True, blank=True)
    channels = ArrayField(
        models.CharField(max_length=10, choices=Channel.choices), verbose_name=_("channels"), default=list
    )
    frequency = models.CharField(
        _("frequency"), max_length=10, choices=Frequency.choices, default=Frequency.INSTANT
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("subscription")
        verbose_name_plural = _("subscriptions")

    def __str__(self) -> str:
        return f"{self.user_id}:{self.kind}:{self.name or self.pk}"


class SubscriptionKey(models.Model):
    """The inverted index: the required keys of each subscription (a query term, an IPC prefix, a field, a
    region, a document kind, a followed object, or `*`). A listing looks up the keys it has and verifies only
    the subscriptions found."""

    subscription = models.ForeignKey(Subscription, on_delete=models.CASCADE, related_name="keys")
    key = models.CharField(max_length=200)

    class Meta:
        indexes = [models.Index(fields=["key", "subscription"], name="notify_subkey_key_idx")]
        constraints = [models.UniqueConstraint(fields=["subscription", "key"], name="notify_subkey_unique")]

    def __str__(self) -> str:
        return self.key


class Preference(models.Model):
    """How a user wants to be told about things no subscription chose channels for (bids, offers, deals,
    reviews), in which language, and when not at all (quiet hours, in the market's time zone)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notify_preference"
    )
    language = models.CharField(_("language"), max_length=10, choices=settings.LANGUAGES, default="zh-hans")
    channels = ArrayField(
        models.CharField(max_length=10, choices=Channel.choices),
        verbose_name=_("channels"),
        default=list,
        blank=True,
    )
    muted_kinds = ArrayField(
        models.CharField(max_length=40), verbose_name=_("muted notification kinds"), default=list, blank=True
    )
    quiet_start = models.TimeField(_("quiet hours start"), null=True, blank=True)
    quiet_end = models.TimeField(_("quiet hours end"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification preference")
        verbose_name_plural = _("notification preferences")

    def __str__(self) -> str:
        return f"{self.user_id}"


class WebhookEndpoint(models.Model):
    """Where a user's webhook notifications go. Disabled after too many failures in a row; the user
    re-enables it (and re-sends what failed) through the API."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="webhook")
    url = models.URLField(_("URL"), max_length=500)
    secret = models.CharField(_("signing secret"), max_length=64)
    is_active = models.BooleanField(_("active"), default=True)
    consecutive_failures = models.PositiveIntegerField(_("failures in a row"), default=0)
    disabled_at = models.DateTimeField(_("disabled at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")

    def __str__(self) -> str:
        return self.url


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    #: claimed by a worker that is sending it now, until `lease_until` (a crashed worker's claim runs out)
    SENDING = "sending", _("Sending")
    DIGEST = "digest", _("Waiting for the daily digest")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")


class Outcome(models.TextChoices):
    """What a delivery attempt tells the user: coarse on purpose (never an OS error text, which would tell
    open ports from closed ones on the network the market runs in)."""

    DELIVERED = "delivered", _("Delivered")
    HTTP_ERROR = "http_error", _("The receiver answered with an error status")
    TIMEOUT = "timeout", _("No complete answer in time")
    CONNECTION_FAILED = "connection_failed", _("Could not connect")
    REFUSED_ADDRESS = "refused_address", _("Not a public internet address")
    ENDPOINT_DISABLED = "endpoint_disabled", _("No active webhook endpoint")
    MAIL_FAILED = "mail_failed", _("The mail server did not take the message")


class Notification(models.Model):
    """One message to one user on one channel for one event: the in-app row is the inbox item; an e-mail or
    webhook row is a delivery, queued in the same transaction that handled the event and sent by Celery.
    Unique per (event, user, channel), so no redelivery or second matching subscription repeats it."""

    event_id = models.CharField(max_length=64)
    event_type = models.CharField(max_length=120)
    kind = models.CharField(_("kind"), max_length=40)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    subscription = models.ForeignKey(
        Subscription, null=True, blank=True, on_delete=models.SET_NULL, related_name="notifications"
    )
    language = models.CharField(max_length=10, default="zh-hans")
    subject = models.CharField(_("subject"), max_length=300)
    body = models.TextField(_("body"))
    link = models.CharField(_("link"), max_length=300, blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt at"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    #: the worker's claim while sending: its token, and when it runs out if the worker never reports back
    claim = models.UUIDField(null=True, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        constraints = [
            models.UniqueConstraint(fields=["event_id", "user", "channel"], name="notify_once_per_channel")
        ]
        indexes = [
            models.Index(fields=["user", "channel", "-created_at"], name="notify_inbox_idx"),
            models.Index(
                fields=["next_attempt_at"],
                name="notify_due_idx",
                condition=models.Q(status="pending"),
            ),
            models.Index(
                fields=["lease_until"], name="notify_lease_idx", condition=models.Q(status="sending")
            ),
        ]

    def __str__(self) -> str:
        return f"{self.channel}:{self.user_id}:{self.subject}"


class DeliveryAttempt(models.Model):
    """Every try at sending an e-mail or webhook, kept for the user and for support."""

    notification = models.ForeignKey(Notification, on_delete=models.CASCADE, related_name="attempt_log")
    attempted_at = models.DateTimeField(auto_now_add=True)
    succeeded = models.BooleanField()
    outcome = models.CharField(max_length=20, choices=Outcome.choices, blank=True)
    status_code = models.PositiveIntegerField(null=True, blank=True)
    #: what went wrong in detail, for the admin and support only: users see `outcome`
    error = models.TextField(blank=True)
    duration_ms = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ("attempted_at", "id")

    def __str__(self) -> str:
        return f"{self.notification_id}:{'ok' if self.succeeded else self.error}"
