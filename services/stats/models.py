"""What the stats consumer keeps: each deal's contribution (the figures it adds, as of its latest version),
the rollups those add up to, the lead-time histogram, once-only activity counts, the consumer's position, and
the plan's targets. The rollups are the only thing the API reads for deal figures: it never scans deals."""

from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

MONEY: dict[str, Any] = {"max_digits": 18, "decimal_places": 2, "default": 0}


class DealContribution(models.Model):
    """One deal's figures as of `version`: its classification (the dimensions) and the day each of its counts
    falls on (a day left empty: it does not count there). The next version's figures minus these is what the
    consumer adds to the rollups; `stats_recompute` rebuilds the table from the deal rows."""

    deal_id = models.BigIntegerField(primary_key=True)
    version = models.PositiveIntegerField()
    contract_type = models.CharField(max_length=20, blank=True)
    source = models.CharField(max_length=20, blank=True)
    field = models.CharField(max_length=100, blank=True)
    ipc = models.CharField(max_length=1, blank=True)
    seller_type = models.CharField(max_length=20, blank=True)
    seller_region = models.CharField(max_length=6, blank=True)
    buyer_region = models.CharField(max_length=6, blank=True)
    broker = models.CharField(max_length=20, blank=True)
    opened_on = models.DateField()
    amount = models.DecimalField(**MONEY)
    registered_on = models.DateField(null=True)
    contract_value = models.DecimalField(**MONEY)
    technology_value = models.DecimalField(**MONEY)
    closed_on = models.DateField(null=True)
    completed = models.BooleanField(default=False)
    invention = models.BooleanField(default=False)
    cancelled = models.BooleanField(default=False)
    lead_days = models.IntegerField(null=True)

    class Meta:
        verbose_name = _("deal contribution")
        verbose_name_plural = _("deal contributions")

    def __str__(self) -> str:
        return f"deal {self.deal_id} v{self.version}"


class Rollup(models.Model):
    """Sums of the deal figures over one period (`grain` d: a day, m: a month starting on `period`) for one
    slice: all deals (no dimension), one dimension's value, or (monthly only) a pair of dimensions' values."""

    grain = models.CharField(max_length=1)
    period = models.DateField()
    dim_a = models.CharField(max_length=20, blank=True)
    value_a = models.CharField(max_length=100, blank=True)
    dim_b = models.CharField(max_length=20, blank=True)
    value_b = models.CharField(max_length=100, blank=True)
    deals = models.BigIntegerField(default=0)
    amount = models.DecimalField(**MONEY)
    contracts = models.BigIntegerField(default=0)
    contract_value = models.DecimalField(**MONEY)
    technology_value = models.DecimalField(**MONEY)
    completed = models.BigIntegerField(default=0)
    inventions = models.BigIntegerField(default=0)
    cancelled = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = _("rollup")
        verbose_name_plural = _("rollups")
        constraints = [
            models.UniqueConstraint(
                fields=["grain", "dim_a", "dim_b", "period", "value_a", "value_b"], name="stats_rollup_slice"
            )
        ]

    def __str__(self) -> str:
        return f"{self.grain} {self.period} {self.dim_a}={self.value_a} {self.dim_b}={self.value_b}"


class LeadTime(models.Model):
    """How many deals opened in `month` came `days` days after their listing was published (a histogram,
    from which medians are read without the deals)."""

    month = models.DateField()
    days = models.IntegerField()
    deals = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = _("lead time")
        verbose_name_plural = _("lead times")
        constraints = [models.UniqueConstraint(fields=["month", "days"], name="stats_lead_time_bucket")]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} +{self.days}d: {self.deals}"


class Activity(models.TextChoices):
    PATENT_PUBLISHED = "patent_published", _("Patents published")
    ACHIEVEMENT_PUBLISHED = "achievement_published", _("Achievements published")
    DEMAND_PUBLISHED = "demand_published", _("Demands published")
    EXPERT_PUBLISHED = "expert_published", _("Experts published")
    PROPOSAL_SUBMITTED = "proposal_submitted", _("Proposals submitted")
    AUCTION_WON = "auction_won", _("Auctions closed with a winner")
    AUCTION_FAILED = "auction_failed", _("Auctions closed without a winner")


class ActivityCount(models.Model):
    """How many listings, proposals or auction outcomes of a kind a day saw, by the organization type of
    their owner (blank where there is none to tell)."""

    day = models.DateField()
    activity = models.CharField(max_length=30, choices=Activity.choices)
    org_type = models.CharField(max_length=20, blank=True)
    count = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = _("activity count")
        verbose_name_plural = _("activity counts")
        constraints = [
            models.UniqueConstraint(fields=["activity", "day", "org_type"], name="stats_activity_slice")
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.activity} {self.org_type}: {self.count}"


class Counted(models.Model):
    """That an object was counted under an activity: a listing published again, or a replayed event, is not
    counted twice."""

    activity = models.CharField(max_length=30, choices=Activity.choices)
    object_id = models.BigIntegerField()

    class Meta:
        verbose_name = _("counted object")
        verbose_name_plural = _("counted objects")
        constraints = [models.UniqueConstraint(fields=["activity", "object_id"], name="stats_counted_once")]

    def __str__(self) -> str:
        return f"{self.activity} {self.object_id}"


class Position(models.Model):
    """How far the consumer has read: the time of the newest event it applied. Answers carry it so that lag
    is not mistaken for fact."""

    consumer = models.CharField(max_length=60, primary_key=True)
    current_to = models.DateTimeField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("consumer position")
        verbose_name_plural = _("consumer positions")

    def __str__(self) -> str:
        return f"{self.consumer}: {self.current_to}"


class Indicator(models.TextChoices):
    """The plan's indicators the market counts itself."""

    INVENTIONS_INDUSTRIALISED = "inventions_industrialised", _("Invention patents industrialised")
    TECHNOLOGY_TRANSACTION_VALUE = "technology_transaction_value", _("Technology-transaction value (yuan)")
    CONTRACTS_REGISTERED = "contracts_registered", _("Technology contracts registered")
    SUPPLIER_LISTINGS = "supplier_listings", _("Listings by universities and institutes")
    DEMANDS_COLLECTED = "demands_collected", _("Technical demands collected")


class PlanTarget(models.Model):
    """A target an administrator set for an indicator over a period (e.g. 44 invention patents industrialised
    from 2021-01-01 to 2025-12-31)."""

    indicator = models.CharField(_("indicator"), max_length=40, choices=Indicator.choices)
    starts_on = models.DateField(_("from"))
    ends_on = models.DateField(_("to"))
    target = models.DecimalField(_("target"), max_digits=18, decimal_places=2)
    note = models.CharField(_("note"), max_length=200, blank=True)
    set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("set by"), on_delete=models.PROTECT, related_name="+"
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("plan target")
        verbose_name_plural = _("plan targets")
        ordering = ("indicator", "starts_on")
        constraints = [
            models.UniqueConstraint(
                fields=["indicator", "starts_on", "ends_on"], name="stats_one_target_per_indicator_period"
            ),
            models.CheckConstraint(
                condition=models.Q(ends_on__gte=models.F("starts_on")), name="stats_target_period"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.indicator} {self.starts_on}–{self.ends_on}: {self.target}"
