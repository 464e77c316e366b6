"""The transactional outbox: one JSON row per event, written in the same transaction as the domain rows."""

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _


class OutboxEvent(models.Model):
    id = models.UUIDField(_("event id (ce_id)"), primary_key=True, default=uuid.uuid4, editable=False)
    type = models.CharField(_("type"), max_length=120)
    topic = models.CharField(_("topic"), max_length=120)
    key = models.CharField(_("key"), max_length=120)
    source = models.CharField(_("source"), max_length=200)
    data = models.JSONField(_("data"))
    headers = models.JSONField(_("headers"), default=dict)
    aggregate_version = models.PositiveIntegerField(_("aggregate version"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    #: the relay could not send this row for a reason of its own (too large for the broker, not encodable):
    #: it is skipped, and later rows of its key wait behind it, until an operator retries or discards it
    set_aside_at = models.DateTimeField(_("set aside at"), null=True, blank=True)
    set_aside_reason = models.TextField(_("why it was set aside"), blank=True, default="")

    class Meta:
        verbose_name = _("outbox event")
        verbose_name_plural = _("outbox events")
        indexes = [
            # the relay's claim: oldest unsent first
            models.Index(
                fields=["created_at", "id"],
                name="outbox_unsent_idx",
                condition=models.Q(sent_at__isnull=True),
            ),
            # the relay's per-key order check: is an older event of this key still unsent?
            models.Index(
                fields=["key", "created_at"],
                name="outbox_unsent_key_idx",
                condition=models.Q(sent_at__isnull=True),
            ),
            # the relay's hold check (is an older row of this key set aside?), the set-aside gauge and listing
            models.Index(
                fields=["key", "created_at"],
                name="outbox_set_aside_key_idx",
                condition=models.Q(set_aside_at__isnull=False, sent_at__isnull=True),
            ),
            # purging delivered rows
            models.Index(
                fields=["sent_at"], name="outbox_sent_idx", condition=models.Q(sent_at__isnull=False)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.key}"
