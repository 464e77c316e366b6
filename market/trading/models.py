"""Trading: auctions and bids, negotiated offers, demand proposals (揭榜) and the deals they open.

Money is exact (14 digits, 2 decimals). Rows that must exist at most once are also guarded by database
constraints (one deal per auction, offer, proposal or purchase; one deal under way per listing; one accepted
proposal per demand; one bid per amount), so a race the row locks missed still cannot produce a second
winner."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from market.accounts.models import Organization
from market.accounts.permissions import belongs_to, is_registrar, is_reviewer, jurisdiction
from market.catalog.models import TRADEABLE, Achievement, Availability, Demand, Patent
from market.common.models import TimestampedModel, VersionedModel
from market.common.validators import region_level, validate_calendar_date
from market.events.catalogue import DealProfile, money

#: every amount column; the API's amount fields take the same digits
MONEY: dict[str, Any] = {"max_digits": 14, "decimal_places": 2}


class ListingKind(models.TextChoices):
    PATENT = "patent", _("Patent")
    ACHIEVEMENT = "achievement", _("Achievement")


def _one_listing(prefix: str) -> models.CheckConstraint:
    """Exactly one of the patent/achievement columns is set, and it matches `listing_kind`."""
    return models.CheckConstraint(
        condition=(Q(listing_kind="patent", patent__isnull=False, achievement__isnull=True))
        | Q(listing_kind="achievement", patent__isnull=True, achievement__isnull=False),
        name=f"{prefix}_one_listing",
    )


class ListingRef(models.Model):
    """A patent or an achievement being sold."""

    listing_kind = models.CharField(_("listing kind"), max_length=20, choices=ListingKind.choices)
    patent = models.ForeignKey(
        Patent, verbose_name=_("patent"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    achievement = models.ForeignKey(
        Achievement,
        verbose_name=_("achievement"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        abstract = True

    @property
    def listing(self) -> Patent | Achievement:
        listing = self.patent if self.listing_kind == ListingKind.PATENT else self.achievement
        if listing is None:
            raise ValueError(f"{type(self).__name__} {self.pk} has no {self.listing_kind}")
        return listing

    @property
    def listing_id(self) -> int:
        listing_id = self.patent_id if self.listing_kind == ListingKind.PATENT else self.achievement_id
        if listing_id is None:
            raise ValueError(f"{type(self).__name__} {self.pk} has no {self.listing_kind}")
        return listing_id


class TransactionMode(models.TextChoices):
    TRANSFER = "transfer", _("Transfer")
    LICENCE_EXCLUSIVE = "licence_exclusive", _("Exclusive licence")
    LICENCE_NON_EXCLUSIVE = "licence_non_exclusive", _("Non-exclusive licence")
    INVESTMENT = "investment", _("Investment at valuation")
    JOINT_DEVELOPMENT = "joint_development", _("Joint development")
    SERVICE = "service", _("Technical service")
    CONSULTING = "consulting", _("Consulting")


#: what a completed deal leaves of the listing it traded. A transfer, or an investment at valuation (作价入股,
#: the rights go into the company), sells it; a licence keeps the rights with the owner, and an exclusive one
#: bars any further trade. Development, service and consulting deals leave the listing as it was.
AFTER_COMPLETION: dict[str, Availability] = {
    TransactionMode.TRANSFER: Availability.SOLD,
    TransactionMode.INVESTMENT: Availability.SOLD,
    TransactionMode.LICENCE_EXCLUSIVE: Availability.EXCLUSIVELY_LICENSED,
    TransactionMode.LICENCE_NON_EXCLUSIVE: Availability.LICENSED,
}
#: settled availabilities, weakest first: a listing is what its strongest completed deal left
_SETTLED_ORDER = (
    Availability.AVAILABLE,
    Availability.LICENSED,
    Availability.EXCLUSIVELY_LICENSED,
    Availability.SOLD,
)


def availability_after(completed_modes: Iterable[str], *, committed: bool) -> Availability:
    """A listing's availability from the transaction modes of its completed deals and whether a deal or an
    auction on it is under way (`committed`): reserved while one is, unless it can no longer be traded."""
    settled = max(
        (AFTER_COMPLETION.get(mode, Availability.AVAILABLE) for mode in completed_modes),
        key=_SETTLED_ORDER.index,
        default=Availability.AVAILABLE,
    )
    return Availability.RESERVED if committed and settled in TRADEABLE else settled


# ---- auctions ----------------------------------------------------------------------------------------------


class AuctionStatus(models.TextChoices):
    OPEN = "open", _("Open")
    CLOSED = "closed", _("Closed with a winner")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled")


class FailureReason(models.TextChoices):
    NO_BIDS = "no_bids", _("No bids")
    RESERVE_NOT_MET = "reserve_not_met", _("Reserve price not met")


class Auction(ListingRef, VersionedModel):
    """竞价: bids are placed under a row lock of this auction, so they are strictly ordered."""

    owner = models.ForeignKey(
        Organization, verbose_name=_("owner organization"), on_delete=models.PROTECT, related_name="auctions"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("created by"), on_delete=models.PROTECT, related_name="+"
    )
    title = models.CharField(_("title"), max_length=300)
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"), db_index=True)
    scheduled_end = models.DateTimeField(_("end before any extension"))
    starting_price = models.DecimalField(_("starting price"), **MONEY, validators=[MinValueValidator(0)])
    reserve_price = models.DecimalField(_("reserve price (hidden)"), **MONEY, null=True, blank=True)
    bid_increment = models.DecimalField(
        _("bid increment"), **MONEY, validators=[MinValueValidator(Decimal("0.01"))]
    )
    deposit_amount = models.DecimalField(_("deposit"), **MONEY, default=0)
    transaction_mode = models.CharField(
        _("transaction mode"), max_length=30, choices=TransactionMode.choices, default="transfer"
    )
    snipe_window_minutes = models.PositiveIntegerField(_("anti-sniping window (minutes)"), default=5)
    extension_minutes = models.PositiveIntegerField(_("extension (minutes)"), default=5)
    status = models.CharField(
        _("status"), max_length=10, choices=AuctionStatus.choices, default=AuctionStatus.OPEN
    )
    current_price = models.DecimalField(_("current price"), **MONEY, null=True, blank=True)
    leading_bid = models.ForeignKey(
        "Bid",
        verbose_name=_("leading bid"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    bid_count = models.PositiveIntegerField(_("bids"), default=0)
    failure_reason = models.CharField(
        _("failure reason"), max_length=20, choices=FailureReason.choices, blank=True
    )
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    cancel_reason = models.TextField(_("cancellation reason"), blank=True)

    class Meta:
        verbose_name = _("auction")
        verbose_name_plural = _("auctions")
        indexes = [
            models.Index(fields=["ends_at"], name="auction_due_idx", condition=Q(status="open")),
        ]
        constraints = [
            _one_listing("auction"),
            models.CheckConstraint(condition=Q(ends_at__gt=models.F("starts_at")), name="auction_ends_after"),
            models.UniqueConstraint(
                fields=["patent"], condition=Q(status="open"), name="auction_one_open_per_patent"
            ),
            models.UniqueConstraint(
                fields=["achievement"], condition=Q(status="open"), name="auction_one_open_per_achievement"
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def minimum_next_bid(self) -> Decimal:
        """The starting price until someone bids, then the current price plus the increment."""
        if self.current_price is None:
            return self.starting_price
        return self.current_price + self.bid_increment

    @property
    def reserve_met(self) -> bool | None:
        """Whether the top bid reaches the hidden reserve price; None when the auction has no reserve."""
        if self.reserve_price is None:
            return None
        return self.current_price is not None and self.current_price >= self.reserve_price


class DepositStatus(models.TextChoices):
    NOT_REQUIRED = "not_required", _("Not required")
    PENDING = "pending", _("Awaiting confirmation")
    CONFIRMED = "confirmed", _("Confirmed")
    RELEASED = "released", _("Released")


class AuctionRegistration(TimestampedModel):
    """An enterprise signed up to bid (竞买报名): NDA accepted, deposit confirmed by the owner if required."""

    auction = models.ForeignKey(
        Auction, verbose_name=_("auction"), on_delete=models.CASCADE, related_name="registrations"
    )
    organization = models.ForeignKey(
        Organization, verbose_name=_("organization"), on_delete=models.PROTECT, related_name="+"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.PROTECT, related_name="+"
    )
    paddle_number = models.PositiveIntegerField(_("bidder number"))
    deposit_status = models.CharField(_("deposit"), max_length=20, choices=DepositStatus.choices)

    class Meta:
        verbose_name = _("auction registration")
        verbose_name_plural = _("auction registrations")
        constraints = [
            models.UniqueConstraint(fields=["auction", "organization"], name="registration_once_per_org"),
            models.UniqueConstraint(fields=["auction", "paddle_number"], name="registration_paddle_unique"),
        ]

    @property
    def may_bid(self) -> bool:
        return self.deposit_status in (DepositStatus.NOT_REQUIRED, DepositStatus.CONFIRMED)

    def __str__(self) -> str:
        return f"{self.auction_id}/{self.paddle_number}"


class Bid(models.Model):
    """An accepted bid at its place (`sequence`) in the auction's strict order; rejected bids leave no row."""

    auction = models.ForeignKey(
        Auction, verbose_name=_("auction"), on_delete=models.CASCADE, related_name="bids"
    )
    registration = models.ForeignKey(
        AuctionRegistration,
        verbose_name=_("auction registration"),
        on_delete=models.PROTECT,
        related_name="bids",
    )
    organization = models.ForeignKey(
        Organization, verbose_name=_("organization"), on_delete=models.PROTECT, related_name="+"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.PROTECT, related_name="+"
    )
    amount = models.DecimalField(_("amount"), **MONEY)
    sequence = models.PositiveIntegerField(_("sequence"))
    placed_at = models.DateTimeField(_("placed at"))

    class Meta:
        verbose_name = _("bid")
        verbose_name_plural = _("bids")
        constraints = [
            models.UniqueConstraint(fields=["auction", "sequence"], name="bid_sequence_unique"),
            models.UniqueConstraint(fields=["auction", "amount"], name="bid_amount_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.auction_id}#{self.sequence} {self.amount}"


# ---- offers ------------------------------------------------------------------------------------------------


class OfferStatus(models.TextChoices):
    OPEN = "open", _("Open")
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Declined")


class OfferSide(models.TextChoices):
    BUYER = "buyer", _("Buyer")
    OWNER = "owner", _("Owner")


class DeclineReason(models.TextChoices):
    TOO_EARLY = "too_early", _("Technology too early-stage")
    BENEFIT_UNCLEAR = "benefit_unclear", _("Benefit unclear")
    ROUTE_UNCLEAR = "route_to_market_unclear", _("Route to market unclear")
    PRICE = "price", _("Price")
    OTHER = "other", _("Other")


class Offer(ListingRef, VersionedModel):
    """A negotiation on a listing priced "negotiated" or "open to offers"; `awaiting` names whose turn."""

    owner = models.ForeignKey(
        Organization,
        verbose_name=_("owner organization"),
        on_delete=models.PROTECT,
        related_name="offers_received",
    )
    buyer = models.ForeignKey(
        Organization, verbose_name=_("buyer"), on_delete=models.PROTECT, related_name="offers_made"
    )
    buyer_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("offered by"), on_delete=models.PROTECT, related_name="+"
    )
    title = models.CharField(_("listing title"), max_length=300)
    amount = models.DecimalField(_("amount on the table"), **MONEY)
    transaction_mode = models.CharField(_("transaction mode"), max_length=30, choices=TransactionMode.choices)
    status = models.CharField(_("status"), max_length=10, choices=OfferStatus.choices, default="open")
    awaiting = models.CharField(_("awaiting"), max_length=10, choices=OfferSide.choices, default="owner")
    decline_reason = models.CharField(
        _("decline reason"), max_length=30, choices=DeclineReason.choices, blank=True
    )
    decline_text = models.TextField(_("decline explanation"), blank=True)
    declined_by = models.CharField(_("declined by"), max_length=10, choices=OfferSide.choices, blank=True)

    class Meta:
        verbose_name = _("offer")
        verbose_name_plural = _("offers")
        constraints = [
            _one_listing("offer"),
            models.UniqueConstraint(
                fields=["buyer", "patent"], condition=Q(status="open"), name="offer_one_open_per_patent"
            ),
            models.UniqueConstraint(
                fields=["buyer", "achievement"],
                condition=Q(status="open"),
                name="offer_one_open_per_achievement",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.amount})"


class OfferRound(models.Model):
    """One amount put on the table: the opening offer and every counter-offer."""

    offer = models.ForeignKey(Offer, on_delete=models.CASCADE, related_name="rounds")
    side = models.CharField(max_length=10, choices=OfferSide.choices)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    amount = models.DecimalField(**MONEY)
    message = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("created_at", "id")

    def __str__(self) -> str:
        return f"{self.side} {self.amount}"


# ---- proposals (揭榜) --------------------------------------------------------------------------------------


class ProposalStatus(models.TextChoices):
    SUBMITTED = "submitted", _("Submitted")
    SHORTLISTED = "shortlisted", _("Shortlisted")
    ACCEPTED = "accepted", _("Accepted")
    #: another proposal for the same demand was accepted
    NOT_SELECTED = "not_selected", _("Not selected")


#: the proposals still in the running, which the acceptance of another one settles
UNDECIDED_PROPOSALS = (ProposalStatus.SUBMITTED, ProposalStatus.SHORTLISTED)


class Proposal(VersionedModel):
    """A university or institute offers to solve an enterprise's demand."""

    demand = models.ForeignKey(
        Demand, verbose_name=_("demand"), on_delete=models.PROTECT, related_name="proposals"
    )
    proposer = models.ForeignKey(
        Organization, verbose_name=_("proposer"), on_delete=models.PROTECT, related_name="proposals"
    )
    proposer_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("proposed by"), on_delete=models.PROTECT, related_name="+"
    )
    summary = models.CharField(_("summary"), max_length=300)
    approach = models.TextField(_("technical approach"))
    amount = models.DecimalField(_("quoted amount"), **MONEY)
    transaction_mode = models.CharField(_("transaction mode"), max_length=30, choices=TransactionMode.choices)
    status = models.CharField(
        _("status"), max_length=12, choices=ProposalStatus.choices, default=ProposalStatus.SUBMITTED
    )
    #: what the enterprise told the proposers it did not select, when it accepted another proposal
    not_selected_reason = models.TextField(_("reason for not selecting"), blank=True)

    class Meta:
        verbose_name = _("proposal")
        verbose_name_plural = _("proposals")
        constraints = [
            models.UniqueConstraint(fields=["demand", "proposer"], name="proposal_once_per_org"),
            models.UniqueConstraint(
                fields=["demand"], condition=Q(status="accepted"), name="proposal_one_accepted_per_demand"
            ),
        ]

    def __str__(self) -> str:
        return self.summary


# ---- purchases at the listed price (挂牌) ------------------------------------------------------------------


class Purchase(ListingRef, VersionedModel):
    """An enterprise accepted a listing's listed price (挂牌交易); the deal it opened reserves the listing."""

    owner = models.ForeignKey(
        Organization, verbose_name=_("owner organization"), on_delete=models.PROTECT, related_name="sales"
    )
    buyer = models.ForeignKey(
        Organization, verbose_name=_("buyer"), on_delete=models.PROTECT, related_name="purchases"
    )
    buyer_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("bought by"), on_delete=models.PROTECT, related_name="+"
    )
    title = models.CharField(_("listing title"), max_length=300)
    amount = models.DecimalField(_("listed price accepted"), **MONEY)
    transaction_mode = models.CharField(_("transaction mode"), max_length=30, choices=TransactionMode.choices)

    class Meta:
        verbose_name = _("purchase")
        verbose_name_plural = _("purchases")
        constraints = [_one_listing("purchase")]

    def __str__(self) -> str:
        return f"{self.title} ({self.amount})"


# ---- deals -------------------------------------------------------------------------------------------------


class DealStage(models.TextChoices):
    NEGOTIATING = "negotiating", _("Negotiating")
    CONTRACT_SIGNED = "contract_signed", _("Contract signed")
    CONTRACT_REGISTERED = "contract_registered", _("Contract registered")
    PAID = "paid", _("Paid")
    COMPLETED = "completed", _("Completed")
    CANCELLED = "cancelled", _("Cancelled")


TERMINAL_STAGES = frozenset({DealStage.COMPLETED, DealStage.CANCELLED})
ACTIVE_STAGES = frozenset(DealStage) - TERMINAL_STAGES
#: a deal under way: it reserves the listing it trades
DEAL_UNDER_WAY = ~Q(stage__in=sorted(TERMINAL_STAGES))


def notice_running_at(moment: datetime) -> Q:
    """Deals whose public notice (公示) runs at `moment`, when anyone may object: the notice has not ended
    and the deal is still under way. `Deal.notice_running` is the same rule for one deal in hand."""
    return Q(notice_ends_at__gt=moment) & DEAL_UNDER_WAY


class DealParty(models.TextChoices):
    SELLER = "seller", _("Seller")
    BUYER = "buyer", _("Buyer")


BOTH_SIDES = frozenset({DealParty.SELLER, DealParty.BUYER})


@dataclass(frozen=True)
class DealStep:
    """Who may take one step of a deal, and from which stages.

    `sides`: the parties whose members take it. `brokers`: a broker mandated by one of those sides may take it
    for them; never for what binds the party itself (signing, cancelling, waiving a milestone, mandating a
    broker). `registrar`: registrars over the seller's region and platform administrators take it (the
    registration office's decision). `to`: the stage it moves to (None: the stage stays); signing moves the
    deal only once every side in `sides` has taken it (each party confirms)."""

    from_stages: frozenset[str]
    to: str | None = None
    sides: frozenset[str] = frozenset()
    brokers: bool = False
    registrar: bool = False


#: every step of a deal by name (its audit action): the one place that says who may take which step. The
#: seller confirms the money arrived, the buyer accepts the delivery once every milestone is done or waived;
#: contract registration (技术合同认定登记) is submitted by a party and decided by a registrar.
DEAL_STEPS: dict[str, DealStep] = {
    "sign": DealStep(frozenset({DealStage.NEGOTIATING}), DealStage.CONTRACT_SIGNED, BOTH_SIDES),
    "submit_registration": DealStep(frozenset({DealStage.CONTRACT_SIGNED}), None, BOTH_SIDES, brokers=True),
    "approve_registration": DealStep(
        frozenset({DealStage.CONTRACT_SIGNED}), DealStage.CONTRACT_REGISTERED, registrar=True
    ),
    "return_registration": DealStep(frozenset({DealStage.CONTRACT_SIGNED}), registrar=True),
    "confirm_payment": DealStep(
        frozenset({DealStage.CONTRACT_REGISTERED}),
        DealStage.PAID,
        frozenset({DealParty.SELLER}),
        brokers=True,
    ),
    "complete": DealStep(
        frozenset({DealStage.PAID}), DealStage.COMPLETED, frozenset({DealParty.BUYER}), brokers=True
    ),
    # before the contract is registered either party may walk away
    "cancel": DealStep(
        frozenset({DealStage.NEGOTIATING, DealStage.CONTRACT_SIGNED}), DealStage.CANCELLED, BOTH_SIDES
    ),
    "mandate_broker": DealStep(ACTIVE_STAGES, None, BOTH_SIDES),
    "add_milestone": DealStep(ACTIVE_STAGES, None, BOTH_SIDES, brokers=True),
    "milestone_done": DealStep(ACTIVE_STAGES, None, BOTH_SIDES, brokers=True),
    "waive_milestone": DealStep(ACTIVE_STAGES, None, BOTH_SIDES),
    "add_document": DealStep(ACTIVE_STAGES, None, BOTH_SIDES, brokers=True),
}
#: the stages the plain `advance` step reaches, by the step that reaches each
ADVANCE_STEPS: dict[str, str] = {str(DEAL_STEPS[name].to): name for name in ("confirm_payment", "complete")}


class RegistrationStatus(models.TextChoices):
    """Where a deal's technology contract stands with the registration office. Only `registered` contracts
    (with their `registered_on` day) count in the statistics."""

    NOT_SUBMITTED = "not_submitted", _("Not submitted")
    SUBMITTED = "submitted", _("Awaiting the registrar")
    RETURNED = "returned", _("Returned for correction")
    REGISTERED = "registered", _("Registered")


class ContractType(models.TextChoices):
    DEVELOPMENT = "development", _("Technology development")
    TRANSFER = "transfer", _("Technology transfer")
    CONSULTING = "consulting", _("Technology consulting")
    SERVICE = "service", _("Technology service")
    LICENCE = "licence", _("Technology licence")


class Deal(VersionedModel):
    """A transaction between a seller (the listing owner or proposer) and a buyer (an enterprise)."""

    title = models.CharField(_("title"), max_length=300)
    seller = models.ForeignKey(
        Organization, verbose_name=_("seller"), on_delete=models.PROTECT, related_name="deals_selling"
    )
    buyer = models.ForeignKey(
        Organization, verbose_name=_("buyer"), on_delete=models.PROTECT, related_name="deals_buying"
    )
    patent = models.ForeignKey(
        Patent,
        verbose_name=_("patent"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="deals",
    )
    achievement = models.ForeignKey(
        Achievement,
        verbose_name=_("achievement"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="deals",
    )
    demand = models.ForeignKey(
        Demand,
        verbose_name=_("demand"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="deals",
    )
    auction = models.OneToOneField(
        Auction,
        verbose_name=_("auction"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="deal",
    )
    offer = models.OneToOneField(
        Offer, verbose_name=_("offer"), null=True, blank=True, on_delete=models.PROTECT, related_name="deal"
    )
    proposal = models.OneToOneField(
        Proposal,
        verbose_name=_("proposal"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="deal",
    )
    purchase = models.OneToOneField(
        Purchase,
        verbose_name=_("purchase"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="deal",
    )
    amount = models.DecimalField(_("amount"), **MONEY)
    transaction_mode = models.CharField(_("transaction mode"), max_length=30, choices=TransactionMode.choices)
    #: "stage" alone is the catalog's maturity stage of an achievement (成熟阶段): a deal's stage has its own
    #: context, so each translates to what it means (the admin showed 成熟阶段 over the deals' stages)
    stage = models.CharField(
        pgettext_lazy("deal", "stage"),
        max_length=20,
        choices=DealStage.choices,
        default=DealStage.NEGOTIATING,
        db_index=True,
    )
    broker = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("broker"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="brokered_deals",
    )
    broker_mandate = models.CharField(
        _("broker's mandate from"), max_length=10, choices=DealParty.choices, blank=True
    )
    broker_commission = models.DecimalField(_("broker commission"), **MONEY, null=True, blank=True)
    notice_starts_at = models.DateTimeField(_("public notice from"), null=True, blank=True)
    notice_ends_at = models.DateTimeField(_("public notice until"), null=True, blank=True)
    contract_type = models.CharField(
        _("contract type"), max_length=20, choices=ContractType.choices, blank=True
    )
    contract_value = models.DecimalField(_("contract value"), **MONEY, null=True, blank=True)
    technology_transaction_value = models.DecimalField(
        _("technology transaction value"), **MONEY, null=True, blank=True
    )
    #: each party's confirmation that the contract is signed; the stage moves when both have confirmed
    seller_signed_at = models.DateTimeField(_("seller confirmed signing at"), null=True, blank=True)
    buyer_signed_at = models.DateTimeField(_("buyer confirmed signing at"), null=True, blank=True)
    registration_status = models.CharField(
        _("contract registration"),
        max_length=20,
        choices=RegistrationStatus.choices,
        default=RegistrationStatus.NOT_SUBMITTED,
        db_index=True,
    )
    registration_submitted_at = models.DateTimeField(_("registration submitted at"), null=True, blank=True)
    registration_return_reason = models.TextField(_("reason the registration was returned"), blank=True)
    #: the technology contract's registration number (技术合同登记号), not an achievement's (成果登记号),
    #: assigned by the registrar who approved it
    registration_number = models.CharField(
        pgettext_lazy("technology contract", "registration number"), max_length=40, blank=True
    )
    registered_on = models.DateField(
        _("registered on"), null=True, blank=True, validators=[validate_calendar_date]
    )
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("registrar"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    cancel_reason = models.TextField(_("cancellation reason"), blank=True)
    #: when the deal completed or was cancelled (the day the statistics count either on)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("deal")
        verbose_name_plural = _("deals")
        constraints = [
            models.CheckConstraint(
                condition=Q(technology_transaction_value__isnull=True)
                | Q(technology_transaction_value__lte=models.F("contract_value")),
                name="deal_tech_value_within_contract",
            ),
            # behind the listing's row lock: one deal under way per listing, so first acceptance wins
            models.UniqueConstraint(
                fields=["patent"], condition=DEAL_UNDER_WAY, name="deal_one_open_per_patent"
            ),
            models.UniqueConstraint(
                fields=["achievement"], condition=DEAL_UNDER_WAY, name="deal_one_open_per_achievement"
            ),
            models.UniqueConstraint(
                fields=["registration_number"],
                condition=~Q(registration_number=""),
                name="deal_registration_number_unique",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def party_org_ids(self) -> list[int]:
        return [self.seller_id, self.buyer_id]

    def notice_running(self, moment: datetime) -> bool:
        """Whether the public notice runs at `moment` (the rule of `notice_running_at`, for this deal)."""
        return (
            self.notice_ends_at is not None
            and moment < self.notice_ends_at
            and self.stage not in TERMINAL_STAGES
        )

    def party_org_id(self, side: str) -> int:
        return self.seller_id if side == DealParty.SELLER else self.buyer_id

    def signed_at(self, side: str) -> datetime | None:
        return self.seller_signed_at if side == DealParty.SELLER else self.buyer_signed_at

    def own_sides(self, user: Any) -> list[str]:
        """The sides of the deal the user's organization is."""
        sides = (DealParty.SELLER, DealParty.BUYER)
        return [side for side in sides if belongs_to(user, self.party_org_id(side))]

    def registrar_role(self, user: Any) -> str | None:
        """How the user decides registrations of this deal: as a platform administrator, or as a registrar
        whose jurisdiction covers the seller (a technology contract is registered where the seller is, as
        技术合同认定登记 has it); None when they do not."""
        if is_reviewer(user):
            return "administrator"
        region = jurisdiction(user)
        if region is not None and is_registrar(user) and getattr(self.seller, region_level(region)) == region:
            return "registrar"
        return None

    def step_role(self, user: Any, step_name: str) -> str | None:
        """What the user takes a step as, by `DEAL_STEPS` (the audit's `acting_as`): a side their organization
        is, the side that mandated them as broker, or the registration office; None when they may not take it.
        The services refuse on None (403) and the deal room offers only the steps it allows."""
        step = DEAL_STEPS[step_name]
        for side in self.own_sides(user):
            if side in step.sides:
                return side
        mandated = self.broker_id is not None and user is not None and self.broker_id == user.pk
        if step.brokers and mandated and self.broker_mandate in step.sides:
            return f"broker:{self.broker_mandate}"
        return self.registrar_role(user) if step.registrar else None

    def notice_hold(self) -> str | None:
        """Why signing waits on the public notice (公示): `notice_period` while the notice runs,
        `objection_open` while an objection awaits a ruling; None when nothing holds it."""
        if self.notice_ends_at is None:
            return None
        if timezone.now() < self.notice_ends_at:
            return "notice_period"
        if self.objections.filter(status=ObjectionStatus.OPEN).exists():
            return "objection_open"
        return None

    @property
    def registration_awaits_decision(self) -> bool:
        """The contract is with the registrar: it can be decided, not submitted again."""
        return self.registration_status == RegistrationStatus.SUBMITTED

    @property
    def source(self) -> str:
        """How the deal was made: auction (竞价), offer (协议), purchase (挂牌) or proposal (揭榜)."""
        for source in DEAL_SOURCES:
            if getattr(self, f"{source}_id") is not None:
                return source
        return ""

    def profile(self) -> DealProfile:
        """What the statistics count this deal by (see DealProfile); reads the parties, the listing and the
        broker (select them with the deal where many are read: `DEAL_PROFILE_RELATED`)."""
        listing = self.patent or self.achievement or self.demand
        codes = self.patent.ipc_codes if self.patent else self.demand.ipc_hints if self.demand else []
        codes = codes or [""]
        broker_org_id = self.broker.organization_id if self.broker is not None else None
        contract = (self.contract_value, self.technology_transaction_value)
        return DealProfile(
            opened_on=timezone.localdate(self.created_at).isoformat(),
            closed_on=timezone.localdate(self.closed_at).isoformat() if self.closed_at else None,
            source=self.source,
            listing_kind=_listing_kind(self),
            listed_on=(
                timezone.localdate(listing.published_at).isoformat()
                if listing is not None and listing.published_at
                else None
            ),
            patent_type=self.patent.patent_type if self.patent else "",
            technical_field=listing.field if listing is not None else "",
            ipc_section=codes[0][:1],
            seller_type=self.seller.org_type,
            seller_region=self.seller.county_code,
            buyer_region=self.buyer.county_code,
            broker_org_id=broker_org_id,
            contract_type=self.contract_type,
            contract_value=None if contract[0] is None else money(contract[0]),
            technology_transaction_value=None if contract[1] is None else money(contract[1]),
            registration_status=self.registration_status,
            registered_on=self.registered_on.isoformat() if self.registered_on else None,
        )


#: the one-to-one links a deal is opened from, each the name of its source
DEAL_SOURCES = ("auction", "offer", "purchase", "proposal")
#: what `Deal.profile` reads besides the deal
DEAL_PROFILE_RELATED = ("seller", "buyer", "patent", "achievement", "demand", "broker")


def _listing_kind(deal: Deal) -> str:
    if deal.patent_id is not None:
        return "patent"
    if deal.achievement_id is not None:
        return "achievement"
    return "demand" if deal.demand_id is not None else ""


class DealMilestone(TimestampedModel):
    deal = models.ForeignKey(Deal, on_delete=models.CASCADE, related_name="milestones")
    title = models.CharField(_("title"), max_length=200)
    due_on = models.DateField(_("due on"), null=True, blank=True, validators=[validate_calendar_date])
    amount = models.DecimalField(_("amount due"), **MONEY, null=True, blank=True)
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)
    #: a party gave up on it, with a reason; a deal completes only when none is left open
    waived_at = models.DateTimeField(_("waived at"), null=True, blank=True)
    waive_reason = models.TextField(_("reason for waiving"), blank=True)
    waived_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("waived by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        ordering = ("due_on", "id")

    def __str__(self) -> str:
        return self.title


#: milestones neither done nor waived
OPEN_MILESTONES = Q(done_at__isnull=True, waived_at__isnull=True)


class DealDocument(TimestampedModel):
    deal = models.ForeignKey(Deal, on_delete=models.CASCADE, related_name="documents")
    title = models.CharField(_("title"), max_length=200)
    url = models.URLField(_("link"), max_length=500)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ("created_at", "id")

    def __str__(self) -> str:
        return self.title


class DealAudit(models.Model):
    """One row per change of a deal: who, acting as what, from which stage to which."""

    deal = models.ForeignKey(Deal, verbose_name=_("deal"), on_delete=models.CASCADE, related_name="audit")
    action = models.CharField(_("action"), max_length=40)
    from_stage = models.CharField(_("from stage"), max_length=20, choices=DealStage.choices, blank=True)
    to_stage = models.CharField(_("to stage"), max_length=20, choices=DealStage.choices)
    #: empty when the system acted (an auction closed by the timer)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    acting_as = models.CharField(_("acting as"), max_length=20)
    note = models.TextField(_("note"), blank=True)
    at = models.DateTimeField(_("time"), auto_now_add=True)

    class Meta:
        ordering = ("at", "id")

    def __str__(self) -> str:
        return f"{self.deal_id} {self.action}"


class ObjectionStatus(models.TextChoices):
    OPEN = "open", _("Open")
    DISMISSED = "dismissed", _("Dismissed")
    UPHELD = "upheld", _("Upheld")


class DealObjection(TimestampedModel):
    """An objection lodged during a deal's public notice period (公示异议); a platform administrator rules."""

    deal = models.ForeignKey(
        Deal, verbose_name=_("deal"), on_delete=models.CASCADE, related_name="objections"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("objector"), on_delete=models.PROTECT, related_name="+"
    )
    text = models.TextField(_("objection"))
    status = models.CharField(
        _("status"), max_length=10, choices=ObjectionStatus.choices, default=ObjectionStatus.OPEN
    )
    ruling = models.TextField(_("ruling"), blank=True)

    class Meta:
        verbose_name = _("deal objection")
        verbose_name_plural = _("deal objections")

    def __str__(self) -> str:
        return f"{self.deal_id} {self.status}"
