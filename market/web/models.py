"""What the web site itself keeps: how often the listing pages are read, for the home page's "most viewed"."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class ViewedKind(models.TextChoices):
    """The listing pages whose reads are counted (an expert profile is not a listing on the market)."""

    PATENT = "patent", _("Patent")
    ACHIEVEMENT = "achievement", _("Achievement")
    DEMAND = "demand", _("Technical demand")


class ListingDailyViews(models.Model):
    """Reads of one listing's page on one day. One row per listing and day, incremented in the database
    (`F("views") + 1`), so concurrent readers never lose a count and the table grows with listings read per
    day, not with reads."""

    kind = models.CharField(_("kind"), max_length=20, choices=ViewedKind.choices)
    listing_id = models.PositiveBigIntegerField(_("listing"))
    day = models.DateField(_("day"))
    views = models.PositiveIntegerField(_("views"), default=0)

    class Meta:
        verbose_name = _("listing views of a day")
        verbose_name_plural = _("listing views per day")
        constraints = [
            models.UniqueConstraint(fields=["kind", "listing_id", "day"], name="listing_views_once_a_day")
        ]
        # the home page sums a kind's recent days
        indexes = [models.Index(fields=["kind", "day"], name="listing_views_kind_day_idx")]

    def __str__(self) -> str:
        return f"{self.kind}:{self.listing_id} {self.day} ×{self.views}"
