"""The transactional outbox: one JSON row per event, written in the same transaction as the domain rows."""

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _

#: the PostgreSQL sequence that numbers outbox rows in the order they were written (migration events/0004)
SEQUENCE = "events_outboxevent_sequence_seq"


class NextValue(models.Func):
    """`nextval(sequence)`: a number from a PostgreSQL sequence, taken when the row is inserted."""

    function = "nextval"
    output_field = models.BigIntegerField()


class OutboxEvent(models.Model):
    id = models.UUIDField(_("event id (ce_id)"), primary_key=True, default=uuid.uuid4, editable=False)
    type = models.CharField(_("type"), max_length=120)
    topic = models.CharField(_("topic"), max_length=120)
    key = models.CharField(_("key"), max_length=120)
    source = models.CharField(_("source"), max_length=200)
    data = models.JSONField(_("data"))
    headers = models.JSONField(_("headers"), default=dict)
    aggregate_version = models.PositiveIntegerField(_("aggregate version"))
    #: the relay's order: numbered by the database at insert, one clock for every web process (see
    #: market/events/relay.py for what the order guarantees)
    sequence = models.BigIntegerField(
        _("sequence"), editable=False, db_default=NextValue(models.Value(SEQUENCE))
    )
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
            # the relay's claim: unsent rows in sequence order
            models.Index(
                fields=["sequence"],
                name="outbox_unsent_idx",
                condition=models.Q(sent_at__isnull=True),
            ),
            # the relay's per-key order check: is an earlier event of this key still unsent?
            models.Index(
                fields=["key", "sequence"],
                name="outbox_unsent_key_idx",
                condition=models.Q(sent_at__isnull=True),
            ),
            # the relay's hold check (an earlier row of this key set aside?), the set-aside gauge and listing
            models.Index(
                fields=["key", "sequence"],
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
