"""Every fact the core announces, as a frozen payload class whose class fixes its identity.

Type names follow `market.<aggregate>.<fact>.v<major>`; one topic per aggregate keeps an aggregate's events in
order. A class names its aggregate (`aggregate`, class data, also sent in the payload) and its fact; every
concrete class registers itself in `EVENT_TYPES` under its type name. Listing facts have one shape across
patents, achievements, demands and experts: the generic fact (`ListingPublished`) is the base a consumer
dispatches on, the per-aggregate class (`PatentPublished`) the one that is published."""

from dataclasses import dataclass, fields
from decimal import Decimal
from typing import Any, ClassVar, Self, TypeVar

from market.events.snapshots import (
    Day,
    ListingSnapshot,
    Money,
    Snapshot,
    json_value,
    listing_snapshot_class,
)

#: aggregate name -> Kafka topic
TOPICS: dict[str, str] = {
    "patent": "market.patents",
    "achievement": "market.achievements",
    "demand": "market.demands",
    "expert": "market.experts",
    "organization": "market.accounts",
    "auction": "market.trading",
    "bid": "market.trading",
    "offer": "market.trading",
    "proposal": "market.trading",
    "purchase": "market.trading",
    "deal": "market.trading",
}

#: every event type the core publishes: type name -> its class (filled as the classes are declared)
EVENT_TYPES: dict[str, type["Event"]] = {}


def money(value: Decimal) -> str:
    """Amounts travel as decimal strings with two places."""
    return f"{value:.2f}"


@dataclass(frozen=True, kw_only=True)
class Event:
    """Base of all facts. `aggregate`, `fact` and `major` name the type; `aggregate_id` keys it."""

    aggregate: ClassVar[str]
    fact: ClassVar[str]
    major: ClassVar[int] = 1

    aggregate_id: int
    version: int

    def __init_subclass__(
        cls, *, aggregate: str | None = None, fact: str | None = None, **kwargs: Any
    ) -> None:
        """`class DealOpened(DealFact, fact="opened")`: the identity is declared in the class header; a class
        with both an aggregate and a fact is a published type and registers itself."""
        super().__init_subclass__(**kwargs)
        if aggregate is not None:
            cls.aggregate = aggregate
        if fact is not None:
            cls.fact = fact
        published = isinstance(getattr(cls, "aggregate", None), str) and hasattr(cls, "fact")
        if published and EVENT_TYPES.setdefault(cls.type_name(), cls) is not cls:
            raise TypeError(f"{cls.type_name()} is declared twice")

    @classmethod
    def type_name(cls) -> str:
        return f"market.{cls.aggregate}.{cls.fact}.v{cls.major}"

    @property
    def type(self) -> str:
        return self.type_name()

    @property
    def topic(self) -> str:
        return TOPICS[self.aggregate]

    @property
    def key(self) -> str:
        return f"{self.aggregate}:{self.aggregate_id}"

    def data(self) -> dict[str, Any]:
        """The JSON payload: the aggregate first, then the fields in declaration order."""
        values = {f.name: json_value(getattr(self, f.name)) for f in fields(self)}
        return {"aggregate": self.aggregate, **values}


@dataclass(frozen=True, kw_only=True)
class ListingFact(Event):
    """A listing's state after the fact: its status, owner and public snapshot (never confidential fields).
    The snapshot is of the class the listing's app registered for the aggregate (see snapshots.py); any
    other is refused."""

    status: str
    owner_org_id: int | None
    snapshot: ListingSnapshot

    def __post_init__(self) -> None:
        expected = listing_snapshot_class(self.aggregate)
        if not isinstance(self.snapshot, expected):
            carried = type(self.snapshot).__name__
            raise TypeError(f"a {self.type} carries a {expected.__name__}, not a {carried}")

    @classmethod
    def of(cls, listing: Any, **extra: Any) -> Self:
        """The fact about a listing as it is now (`PatentPublished.of(patent)`)."""
        snapshot_class = listing_snapshot_class(cls.aggregate)
        return cls(
            aggregate_id=listing.pk,
            version=listing.version,
            status=snapshot_class.fact_status(listing),
            owner_org_id=snapshot_class.owner_org_id(listing),
            snapshot=snapshot_class.of(listing),
            **extra,
        )


FactT = TypeVar("FactT", bound=ListingFact)


def listing_class(fact_class: type[FactT], aggregate: str) -> type[FactT]:
    """The per-aggregate class of a generic listing fact: (ListingPublished, "patent") -> PatentPublished."""
    concrete = EVENT_TYPES.get(f"market.{aggregate}.{fact_class.fact}.v{fact_class.major}")
    if concrete is None or not issubclass(concrete, fact_class):
        raise LookupError(f"a {aggregate} has no {fact_class.__name__} fact")
    return concrete


# the facts every listing has; a consumer dispatches on these


@dataclass(frozen=True, kw_only=True)
class ListingCreated(ListingFact, fact="created"):
    pass


@dataclass(frozen=True, kw_only=True)
class ListingUpdated(ListingFact, fact="updated"):
    pass


@dataclass(frozen=True, kw_only=True)
class ListingSubmitted(ListingFact, fact="submitted"):
    pass


@dataclass(frozen=True, kw_only=True)
class ListingPublished(ListingFact, fact="published"):
    pass


@dataclass(frozen=True, kw_only=True)
class ListingRejected(ListingFact, fact="rejected"):
    reason: str

    @classmethod
    def of(cls, listing: Any, **extra: Any) -> Self:
        return super().of(listing, reason=listing.review_reason, **extra)


@dataclass(frozen=True, kw_only=True)
class ListingWithdrawn(ListingFact, fact="withdrawn"):
    """Taken off the market or out of review. `previous_status` tells which: followers saw a listing that
    was published, never one that was only pending review."""

    previous_status: str


@dataclass(frozen=True, kw_only=True)
class ListingClosed(ListingFact, fact="closed"):
    pass


# ---- per aggregate: what is published. Reviewed listings have every fact, expert profiles (not reviewed)
# are only created and updated.


@dataclass(frozen=True, kw_only=True)
class PatentFact(ListingFact, aggregate="patent"):
    pass


@dataclass(frozen=True, kw_only=True)
class AchievementFact(ListingFact, aggregate="achievement"):
    pass


@dataclass(frozen=True, kw_only=True)
class DemandFact(ListingFact, aggregate="demand"):
    pass


@dataclass(frozen=True, kw_only=True)
class ExpertFact(ListingFact, aggregate="expert"):
    pass


@dataclass(frozen=True, kw_only=True)
class PatentCreated(PatentFact, ListingCreated):
    pass


@dataclass(frozen=True, kw_only=True)
class PatentUpdated(PatentFact, ListingUpdated):
    pass


@dataclass(frozen=True, kw_only=True)
class PatentSubmitted(PatentFact, ListingSubmitted):
    pass


@dataclass(frozen=True, kw_only=True)
class PatentPublished(PatentFact, ListingPublished):
    pass


@dataclass(frozen=True, kw_only=True)
class PatentRejected(PatentFact, ListingRejected):
    pass


@dataclass(frozen=True, kw_only=True)
class PatentWithdrawn(PatentFact, ListingWithdrawn):
    pass


@dataclass(frozen=True, kw_only=True)
class PatentClosed(PatentFact, ListingClosed):
    pass


@dataclass(frozen=True, kw_only=True)
class AchievementCreated(AchievementFact, ListingCreated):
    pass


@dataclass(frozen=True, kw_only=True)
class AchievementUpdated(AchievementFact, ListingUpdated):
    pass


@dataclass(frozen=True, kw_only=True)
class AchievementSubmitted(AchievementFact, ListingSubmitted):
    pass


@dataclass(frozen=True, kw_only=True)
class AchievementPublished(AchievementFact, ListingPublished):
    pass


@dataclass(frozen=True, kw_only=True)
class AchievementRejected(AchievementFact, ListingRejected):
    pass


@dataclass(frozen=True, kw_only=True)
class AchievementWithdrawn(AchievementFact, ListingWithdrawn):
    pass


@dataclass(frozen=True, kw_only=True)
class AchievementClosed(AchievementFact, ListingClosed):
    pass


@dataclass(frozen=True, kw_only=True)
class DemandCreated(DemandFact, ListingCreated):
    pass


@dataclass(frozen=True, kw_only=True)
class DemandUpdated(DemandFact, ListingUpdated):
    pass


@dataclass(frozen=True, kw_only=True)
class DemandSubmitted(DemandFact, ListingSubmitted):
    pass


@dataclass(frozen=True, kw_only=True)
class DemandPublished(DemandFact, ListingPublished):
    pass


@dataclass(frozen=True, kw_only=True)
class DemandRejected(DemandFact, ListingRejected):
    pass


@dataclass(frozen=True, kw_only=True)
class DemandWithdrawn(DemandFact, ListingWithdrawn):
    pass


@dataclass(frozen=True, kw_only=True)
class DemandClosed(DemandFact, ListingClosed):
    pass


@dataclass(frozen=True, kw_only=True)
class DemandSolved(DemandFact, ListingClosed, fact="solved"):
    """The enterprise accepted a proposal (揭榜): the demand is closed as solved. A ListingClosed, so whatever
    handles a closed listing (search drops it, followers are told) handles this one too; it also names the
    proposal that solved it and the deal that opened."""

    proposal_id: int
    deal_id: int


@dataclass(frozen=True, kw_only=True)
class ExpertCreated(ExpertFact, ListingCreated):
    pass


@dataclass(frozen=True, kw_only=True)
class ExpertUpdated(ExpertFact, ListingUpdated):
    pass


# ---- constructors from models (`DealOpened.of(deal, actor=user)`): the one place that reads a model into an
# event. `market/events` sits below the apps, so it cannot import their models: a constructor reads the
# attributes it names, and the models' own tests (each service's event assertions) keep them in step.


@dataclass(frozen=True, kw_only=True)
class NdaAccepted(Event, aggregate="achievement", fact="nda_accepted"):
    user_id: int
    organization_id: int | None

    @classmethod
    def of(cls, achievement: Any, *, user: Any) -> Self:
        return cls(
            aggregate_id=achievement.pk,
            version=achievement.version,
            user_id=user.pk,
            organization_id=user.organization_id,
        )


@dataclass(frozen=True, kw_only=True)
class OrganizationRegistered(Event, aggregate="organization", fact="registered"):
    name: str
    org_type: str
    county_code: str

    @classmethod
    def of(cls, organization: Any) -> Self:
        return cls(
            aggregate_id=organization.pk,
            version=organization.version,
            name=organization.name,
            org_type=organization.org_type,
            county_code=organization.county_code,
        )


@dataclass(frozen=True, kw_only=True)
class OrganizationReviewed(Event, aggregate="organization", fact="reviewed"):
    status: str
    reason: str

    @classmethod
    def of(cls, organization: Any) -> Self:
        return cls(
            aggregate_id=organization.pk,
            version=organization.version,
            status=organization.status,
            reason=organization.review_reason,
        )


# ---- trading: one topic (market.trading); an auction's or a deal's events share a key, so they stay in
# order. Amounts travel as decimal strings, times as ISO 8601 strings.


@dataclass(frozen=True, kw_only=True)
class AuctionOpened(Event, aggregate="auction", fact="opened"):
    auction_id: int
    listing_kind: str
    listing_id: int
    listing_title: str
    owner_org_id: int
    starts_at: str
    ends_at: str
    starting_price: str
    bid_increment: str
    deposit_amount: str

    @classmethod
    def of(cls, auction: Any) -> Self:
        return cls(
            aggregate_id=auction.pk,
            version=auction.version,
            auction_id=auction.pk,
            listing_kind=auction.listing_kind,
            listing_id=auction.listing_id,
            listing_title=auction.title,
            owner_org_id=auction.owner_id,
            starts_at=auction.starts_at.isoformat(),
            ends_at=auction.ends_at.isoformat(),
            starting_price=money(auction.starting_price),
            bid_increment=money(auction.bid_increment),
            deposit_amount=money(auction.deposit_amount),
        )


@dataclass(frozen=True, kw_only=True)
class AuctionRegistered(Event, aggregate="auction", fact="registered"):
    """An enterprise signed up to bid; `deposit_status` is "pending" until the owner confirms the deposit."""

    auction_id: int
    registration_id: int
    bidder_org_id: int
    bidder_user_id: int
    owner_org_id: int
    listing_title: str
    deposit_status: str

    @classmethod
    def of(cls, auction: Any, registration: Any, **extra: Any) -> Self:
        return cls(
            aggregate_id=auction.pk,
            version=auction.version,
            auction_id=auction.pk,
            registration_id=registration.pk,
            bidder_org_id=registration.organization_id,
            bidder_user_id=registration.user_id,
            owner_org_id=auction.owner_id,
            listing_title=auction.title,
            deposit_status=registration.deposit_status,
            **extra,
        )


@dataclass(frozen=True, kw_only=True)
class AuctionDepositConfirmed(AuctionRegistered, fact="deposit_confirmed"):
    actor_user_id: int


@dataclass(frozen=True, kw_only=True)
class BidFact(Event, aggregate="bid"):
    """Keyed by the auction, not the bid, so one auction's bids are consumed in the order they were placed."""

    auction_id: int

    @property
    def key(self) -> str:
        return f"auction:{self.auction_id}"


@dataclass(frozen=True, kw_only=True)
class BidPlaced(BidFact, fact="placed"):
    bid_id: int
    sequence: int
    amount: str
    bidder_user_id: int
    bidder_org_id: int
    owner_org_id: int
    listing_kind: str
    listing_id: int
    listing_title: str
    ends_at: str
    extended_seconds: int

    @classmethod
    def of(cls, bid: Any, *, auction: Any, extended_seconds: int) -> Self:
        """The bid's version is its auction's: bids are ordered within the auction."""
        return cls(
            aggregate_id=bid.pk,
            version=auction.version,
            auction_id=auction.pk,
            bid_id=bid.pk,
            sequence=bid.sequence,
            amount=money(bid.amount),
            bidder_user_id=bid.user_id,
            bidder_org_id=bid.organization_id,
            owner_org_id=auction.owner_id,
            listing_kind=auction.listing_kind,
            listing_id=auction.listing_id,
            listing_title=auction.title,
            ends_at=auction.ends_at.isoformat(),
            extended_seconds=extended_seconds,
        )


@dataclass(frozen=True, kw_only=True)
class BidOutbid(BidFact, fact="outbid"):
    bid_id: int
    amount: str
    outbid_user_id: int
    outbid_org_id: int
    outbid_amount: str
    listing_title: str
    ends_at: str

    @classmethod
    def of(cls, bid: Any, *, auction: Any, previous: Any) -> Self:
        """`bid` took the lead from `previous`."""
        return cls(
            aggregate_id=bid.pk,
            version=auction.version,
            auction_id=auction.pk,
            bid_id=bid.pk,
            amount=money(bid.amount),
            outbid_user_id=previous.user_id,
            outbid_org_id=previous.organization_id,
            outbid_amount=money(previous.amount),
            listing_title=auction.title,
            ends_at=auction.ends_at.isoformat(),
        )


@dataclass(frozen=True, kw_only=True)
class AuctionClosed(Event, aggregate="auction", fact="closed"):
    auction_id: int
    winner_user_id: int
    winner_org_id: int
    amount: str
    deal_id: int
    owner_org_id: int
    listing_title: str

    @classmethod
    def of(cls, auction: Any, *, deal: Any) -> Self:
        """Won by the auction's leading bid, which opened `deal`."""
        top = auction.leading_bid
        return cls(
            aggregate_id=auction.pk,
            version=auction.version,
            auction_id=auction.pk,
            winner_user_id=top.user_id,
            winner_org_id=top.organization_id,
            amount=money(top.amount),
            deal_id=deal.pk,
            owner_org_id=auction.owner_id,
            listing_title=auction.title,
        )


@dataclass(frozen=True, kw_only=True)
class AuctionFailed(Event, aggregate="auction", fact="failed"):
    auction_id: int
    owner_org_id: int
    listing_title: str
    reason: str

    @classmethod
    def of(cls, auction: Any) -> Self:
        return cls(
            aggregate_id=auction.pk,
            version=auction.version,
            auction_id=auction.pk,
            owner_org_id=auction.owner_id,
            listing_title=auction.title,
            reason=auction.failure_reason,
        )


def _listing_trade(trade: Any) -> dict[str, Any]:
    """What an offer's and a purchase's facts say alike: the listing traded, its owner, the buyer, the amount
    and the mode (the two models name these attributes the same)."""
    return {
        "listing_kind": trade.listing_kind,
        "listing_id": trade.listing_id,
        "listing_title": trade.title,
        "buyer_org_id": trade.buyer_id,
        "buyer_user_id": trade.buyer_user_id,
        "owner_org_id": trade.owner_id,
        "amount": money(trade.amount),
        "transaction_mode": trade.transaction_mode,
    }


@dataclass(frozen=True, kw_only=True)
class AuctionCancelled(Event, aggregate="auction", fact="cancelled"):
    """Stopped before it closed: by its owner before the first bid (`cancelled_by` "owner") or by a platform
    administrator with a reason ("administrator"). Everyone signed up is named; the deposits it held
    (`released_registration_ids`) are to be returned."""

    auction_id: int
    owner_org_id: int
    listing_kind: str
    listing_id: int
    listing_title: str
    actor_user_id: int
    cancelled_by: str
    reason: str
    bid_count: int
    registered_org_ids: list[int]
    registered_user_ids: list[int]
    released_registration_ids: list[int]

    @classmethod
    def of(cls, auction: Any, *, actor: Any, cancelled_by: str, registrations: Any, released: Any) -> Self:
        return cls(
            aggregate_id=auction.pk,
            version=auction.version,
            auction_id=auction.pk,
            owner_org_id=auction.owner_id,
            listing_kind=auction.listing_kind,
            listing_id=auction.listing_id,
            listing_title=auction.title,
            actor_user_id=actor.pk,
            cancelled_by=cancelled_by,
            reason=auction.cancel_reason,
            bid_count=auction.bid_count,
            registered_org_ids=[registration.organization_id for registration in registrations],
            registered_user_ids=[registration.user_id for registration in registrations],
            released_registration_ids=[registration.pk for registration in released],
        )


@dataclass(frozen=True, kw_only=True)
class PurchaseMade(Event, aggregate="purchase", fact="made"):
    """An enterprise accepted a listing's listed price (挂牌); `deal_id` is the deal that opened, under public
    notice until `notice_ends_at` where the rules need one."""

    purchase_id: int
    listing_kind: str
    listing_id: int
    listing_title: str
    buyer_org_id: int
    buyer_user_id: int
    owner_org_id: int
    amount: str
    transaction_mode: str
    deal_id: int
    notice_ends_at: str | None

    @classmethod
    def of(cls, purchase: Any, *, deal: Any) -> Self:
        return cls(
            aggregate_id=purchase.pk,
            version=purchase.version,
            purchase_id=purchase.pk,
            **_listing_trade(purchase),
            deal_id=deal.pk,
            notice_ends_at=deal.notice_ends_at.isoformat() if deal.notice_ends_at else None,
        )


@dataclass(frozen=True, kw_only=True)
class OfferFact(Event, aggregate="offer"):
    offer_id: int
    listing_kind: str
    listing_id: int
    listing_title: str
    buyer_org_id: int
    buyer_user_id: int
    owner_org_id: int
    amount: str
    transaction_mode: str
    actor_user_id: int

    @classmethod
    def of(cls, offer: Any, *, actor: Any, **extra: Any) -> Self:
        return cls(
            aggregate_id=offer.pk,
            version=offer.version,
            offer_id=offer.pk,
            **_listing_trade(offer),
            actor_user_id=actor.pk,
            **extra,
        )


@dataclass(frozen=True, kw_only=True)
class OfferMade(OfferFact, fact="made"):
    pass


@dataclass(frozen=True, kw_only=True)
class OfferCountered(OfferFact, fact="countered"):
    pass


@dataclass(frozen=True, kw_only=True)
class OfferAccepted(OfferFact, fact="accepted"):
    deal_id: int


@dataclass(frozen=True, kw_only=True)
class OfferDeclined(OfferFact, fact="declined"):
    reason_code: str
    reason_text: str
    declined_by: str

    @classmethod
    def of(cls, offer: Any, *, actor: Any, **extra: Any) -> Self:
        return super().of(
            offer,
            actor=actor,
            reason_code=offer.decline_reason,
            reason_text=offer.decline_text,
            declined_by=offer.declined_by,
            **extra,
        )


@dataclass(frozen=True, kw_only=True)
class ProposalFact(Event, aggregate="proposal"):
    proposal_id: int
    demand_id: int
    demand_title: str
    proposer_org_id: int
    proposer_user_id: int
    enterprise_org_id: int
    amount: str

    @classmethod
    def of(cls, proposal: Any, **extra: Any) -> Self:
        return cls(
            aggregate_id=proposal.pk,
            version=proposal.version,
            proposal_id=proposal.pk,
            demand_id=proposal.demand_id,
            demand_title=proposal.demand.title,
            proposer_org_id=proposal.proposer_id,
            proposer_user_id=proposal.proposer_user_id,
            enterprise_org_id=proposal.demand.owner_id,
            amount=money(proposal.amount),
            **extra,
        )


@dataclass(frozen=True, kw_only=True)
class ProposalSubmitted(ProposalFact, fact="submitted"):
    pass


@dataclass(frozen=True, kw_only=True)
class ProposalShortlisted(ProposalFact, fact="shortlisted"):
    pass


@dataclass(frozen=True, kw_only=True)
class ProposalAccepted(ProposalFact, fact="accepted"):
    deal_id: int


@dataclass(frozen=True, kw_only=True)
class ProposalNotSelected(ProposalFact, fact="not_selected"):
    """Another proposal for the demand was accepted; `reason` is what the enterprise told the others (may be
    empty)."""

    reason: str

    @classmethod
    def of(cls, proposal: Any, **extra: Any) -> Self:
        return super().of(proposal, reason=proposal.not_selected_reason, **extra)


@dataclass(frozen=True, kw_only=True)
class DealProfile(Snapshot):
    """What the statistics count a deal by, as it stands after the fact: its days (opened, closed, contract
    registered, the traded listing published), where it came from (`source`: auction, offer, purchase,
    proposal), the listing's kind, patent type, technical field and IPC section, the seller's organization
    type, both parties' regions (county codes), the broker's organization and the registered contract. Every
    deal fact carries it whole, so the stats consumer needs no other aggregate's events and its figures are
    a function of the deal alone (as `stats_recompute` computes them from the deal rows)."""

    opened_on: Day
    closed_on: Day | None = None
    source: str
    listing_kind: str
    listed_on: Day | None = None
    patent_type: str
    technical_field: str
    ipc_section: str
    seller_type: str
    seller_region: str
    buyer_region: str
    broker_org_id: int | None = None
    contract_type: str
    contract_value: Money | None = None
    technology_transaction_value: Money | None = None
    registration_status: str
    registered_on: Day | None = None


@dataclass(frozen=True, kw_only=True)
class DealFact(Event, aggregate="deal"):
    deal_id: int
    stage: str
    amount: str
    party_org_ids: list[int]
    broker_user_id: int | None
    actor_user_id: int
    title: str
    seller_org_id: int
    buyer_org_id: int
    transaction_mode: str
    profile: DealProfile

    @classmethod
    def of(cls, deal: Any, *, actor: Any, **extra: Any) -> Self:
        return cls(
            aggregate_id=deal.pk,
            version=deal.version,
            deal_id=deal.pk,
            stage=deal.stage,
            amount=money(deal.amount),
            party_org_ids=deal.party_org_ids,
            broker_user_id=deal.broker_id,
            actor_user_id=actor.pk,
            title=deal.title,
            seller_org_id=deal.seller_id,
            buyer_org_id=deal.buyer_id,
            transaction_mode=deal.transaction_mode,
            profile=deal.profile(),
            **extra,
        )


@dataclass(frozen=True, kw_only=True)
class DealOpened(DealFact, fact="opened"):
    source: str
    notice_ends_at: str | None

    @classmethod
    def of(cls, deal: Any, *, actor: Any, **extra: Any) -> Self:
        notice_ends_at = deal.notice_ends_at.isoformat() if deal.notice_ends_at else None
        return super().of(deal, actor=actor, notice_ends_at=notice_ends_at, **extra)


@dataclass(frozen=True, kw_only=True)
class DealAdvanced(DealFact, fact="advanced"):
    from_stage: str


def _contract(deal: Any) -> dict[str, str]:
    """What a registration's facts say of the contract: its type, its value and the technology-transaction
    value within it."""
    return {
        "contract_type": deal.contract_type,
        "contract_value": money(deal.contract_value),
        "technology_transaction_value": money(deal.technology_transaction_value),
    }


@dataclass(frozen=True, kw_only=True)
class DealSigningConfirmed(DealFact, fact="signing_confirmed"):
    """One party confirmed the contract is signed (`side`); the stage moves (`DealAdvanced`) when the other
    party (`awaiting_side`) confirms too."""

    side: str
    awaiting_side: str


@dataclass(frozen=True, kw_only=True)
class DealRegistrationSubmitted(DealFact, fact="registration_submitted"):
    """A party submitted the technology contract for registration (技术合同认定登记), again after a return
    when `resubmission`; a registrar over the seller's region decides."""

    contract_type: str
    contract_value: str
    technology_transaction_value: str
    resubmission: bool

    @classmethod
    def of(cls, deal: Any, *, actor: Any, **extra: Any) -> Self:
        return super().of(deal, actor=actor, **_contract(deal), **extra)


@dataclass(frozen=True, kw_only=True)
class DealRegistrationReturned(DealFact, fact="registration_returned"):
    """The registrar (`actor_user_id`) returned the submission for correction, with a reason."""

    reason: str

    @classmethod
    def of(cls, deal: Any, *, actor: Any, **extra: Any) -> Self:
        return super().of(deal, actor=actor, reason=deal.registration_return_reason, **extra)


@dataclass(frozen=True, kw_only=True)
class DealMilestoneWaived(DealFact, fact="milestone_waived"):
    """A party gave up on a milestone, with a reason (a deal completes only when none is left open)."""

    milestone_id: int
    milestone_title: str
    reason: str


@dataclass(frozen=True, kw_only=True)
class DealContractRegistered(DealFact, fact="contract_registered"):
    """A registrar (`actor_user_id`) approved the contract's registration and assigned its number; from here
    on it counts in the statistics, by `registered_on`."""

    contract_type: str
    contract_value: str
    technology_transaction_value: str
    registration_number: str
    registered_on: str

    @classmethod
    def of(cls, deal: Any, *, actor: Any, **extra: Any) -> Self:
        return super().of(
            deal,
            actor=actor,
            **_contract(deal),
            registration_number=deal.registration_number,
            registered_on=deal.registered_on.isoformat(),
            **extra,
        )


@dataclass(frozen=True, kw_only=True)
class DealCompleted(DealFact, fact="completed"):
    pass


@dataclass(frozen=True, kw_only=True)
class DealCancelled(DealFact, fact="cancelled"):
    reason: str


@dataclass(frozen=True, kw_only=True)
class DealUpdated(DealFact, fact="updated"):
    """Anything else on a deal that parties should hear of: `change` is broker_assigned, milestone_added,
    milestone_done, document_added, objection_lodged (platform administrators hear of it too, to rule),
    objection_ruled."""

    change: str
