"""The inbox: which messages (by CloudEvents id) each consumer has already handled, so redelivery after a
crash or a replay has no second effect."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class HandledMessage(models.Model):
    consumer = models.CharField(_("consumer"), max_length=60)
    event_id = models.CharField(_("event id (ce_id)"), max_length=100)
    event_type = models.CharField(_("event type"), max_length=120)
    handled_at = models.DateTimeField(_("handled at"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("handled message")
        verbose_name_plural = _("handled messages")
        constraints = [
            models.UniqueConstraint(fields=["consumer", "event_id"], name="inbox_once_per_consumer")
        ]

    def __str__(self) -> str:
        return f"{self.consumer}: {self.event_id}"
