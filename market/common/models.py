"""Shared model bases."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class TimestampedModel(models.Model):
    """Creation and update times on every row, for audits and `ordering=`."""

    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        abstract = True


class VersionedModel(TimestampedModel):
    """A row whose `version` grows by one with every state change: events carry it, and consumers use it
    as an external version so a replayed or late event never overwrites newer data."""

    version = models.PositiveIntegerField(_("version"), default=1)

    class Meta:
        abstract = True

    def bump_version(self) -> None:
        self.version += 1
