"""One row per market event, as delivered: what happened, to which aggregate, at which version."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditEntry(models.Model):
    event_id = models.CharField(_("event id"), max_length=100, unique=True)
    event_type = models.CharField(_("event type"), max_length=120, db_index=True)
    aggregate_key = models.CharField(_("aggregate"), max_length=120, db_index=True)
    aggregate_version = models.PositiveIntegerField(_("aggregate version"))
    occurred_at = models.DateTimeField(_("occurred at"))
    data = models.JSONField(_("data"))
    topic = models.CharField(_("topic"), max_length=120)
    partition = models.PositiveIntegerField(_("partition"))
    offset = models.BigIntegerField(_("offset"))
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit entries")
        ordering = ("id",)

    def __str__(self) -> str:
        return f"{self.event_type} {self.aggregate_key} v{self.aggregate_version}"
