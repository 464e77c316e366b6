"""Every fact the core announces, as a frozen payload class.

Type names follow `market.<aggregate>.<fact>.v<major>`; one topic per aggregate keeps an aggregate's events in
order. Listing facts share one payload shape across patents, achievements, demands and experts, so each fact
is one class and the aggregate is a field."""

from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar

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
    "deal": "market.trading",
}


@dataclass(frozen=True, kw_only=True)
class Event:
    """Base of all facts. `fact` and `major` name the type; `aggregate`/`aggregate_id` route and key it."""

    fact: ClassVar[str]
    major: ClassVar[int] = 1

    aggregate: str
    aggregate_id: int
    version: int

    @property
    def type(self) -> str:
        return f"market.{self.aggregate}.{self.fact}.v{self.major}"

    @property
    def topic(self) -> str:
        return TOPICS[self.aggregate]

    @property
    def key(self) -> str:
        return f"{self.aggregate}:{self.aggregate_id}"

    def data(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, kw_only=True)
class ListingFact(Event):
    """A listing's state after the fact: its status, owner and public snapshot (never confidential fields)."""

    status: str
    owner_org_id: int | None
    snapshot: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class ListingCreated(ListingFact):
    fact: ClassVar[str] = "created"


@dataclass(frozen=True, kw_only=True)
class ListingUpdated(ListingFact):
    fact: ClassVar[str] = "updated"


@dataclass(frozen=True, kw_only=True)
class ListingSubmitted(ListingFact):
    fact: ClassVar[str] = "submitted"


@dataclass(frozen=True, kw_only=True)
class ListingPublished(ListingFact):
    fact: ClassVar[str] = "published"


@dataclass(frozen=True, kw_only=True)
class ListingRejected(ListingFact):
    fact: ClassVar[str] = "rejected"
    reason: str


@dataclass(frozen=True, kw_only=True)
class ListingWithdrawn(ListingFact):
    """Taken off the market or out of review. `previous_status` tells which: followers saw a listing that
    was published, never one that was only pending review."""

    fact: ClassVar[str] = "withdrawn"
    previous_status: str


@dataclass(frozen=True, kw_only=True)
class ListingClosed(ListingFact):
    fact: ClassVar[str] = "closed"


@dataclass(frozen=True, kw_only=True)
class NdaAccepted(Event):
    fact: ClassVar[str] = "nda_accepted"
    user_id: int
    organization_id: int | None


@dataclass(frozen=True, kw_only=True)
class OrganizationRegistered(Event):
    fact: ClassVar[str] = "registered"
    name: str
    org_type: str
    county_code: str


@dataclass(frozen=True, kw_only=True)
class OrganizationReviewed(Event):
    fact: ClassVar[str] = "reviewed"
    status: str
    reason: str


# ---- trading: one topic (market.trading); an auction's or a deal's events share a key, so they stay in
# order. Amounts travel as decimal strings, times as ISO 8601 strings.


@dataclass(frozen=True, kw_only=True)
class AuctionOpened(Event):
    fact: ClassVar[str] = "opened"
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


@dataclass(frozen=True, kw_only=True)
class AuctionRegistered(Event):
    """An enterprise signed up to bid; `deposit_status` is "pending" until the owner confirms the deposit."""

    fact: ClassVar[str] = "registered"
    auction_id: int
    registration_id: int
    bidder_org_id: int
    bidder_user_id: int
    owner_org_id: int
    listing_title: str
    deposit_status: str


@dataclass(frozen=True, kw_only=True)
class AuctionDepositConfirmed(AuctionRegistered):
    fact: ClassVar[str] = "deposit_confirmed"
    actor_user_id: int


@dataclass(frozen=True, kw_only=True)
class BidFact(Event):
    """Keyed by the auction, not the bid, so one auction's bids are consumed in the order they were placed."""

    auction_id: int

    @property
    def key(self) -> str:
        return f"auction:{self.auction_id}"


@dataclass(frozen=True, kw_only=True)
class BidPlaced(BidFact):
    fact: ClassVar[str] = "placed"
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


@dataclass(frozen=True, kw_only=True)
class BidOutbid(BidFact):
    fact: ClassVar[str] = "outbid"
    bid_id: int
    amount: str
    outbid_user_id: int
    outbid_org_id: int
    outbid_amount: str
    listing_title: str
    ends_at: str


@dataclass(frozen=True, kw_only=True)
class AuctionClosed(Event):
    fact: ClassVar[str] = "closed"
    auction_id: int
    winner_user_id: int
    winner_org_id: int
    amount: str
    deal_id: int
    owner_org_id: int
    listing_title: str


@dataclass(frozen=True, kw_only=True)
class AuctionFailed(Event):
    fact: ClassVar[str] = "failed"
    auction_id: int
    owner_org_id: int
    listing_title: str
    reason: str


@dataclass(frozen=True, kw_only=True)
class OfferFact(Event):
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


@dataclass(frozen=True, kw_only=True)
class OfferMade(OfferFact):
    fact: ClassVar[str] = "made"


@dataclass(frozen=True, kw_only=True)
class OfferCountered(OfferFact):
    fact: ClassVar[str] = "countered"


@dataclass(frozen=True, kw_only=True)
class OfferAccepted(OfferFact):
    fact: ClassVar[str] = "accepted"
    deal_id: int


@dataclass(frozen=True, kw_only=True)
class OfferDeclined(OfferFact):
    fact: ClassVar[str] = "declined"
    reason_code: str
    reason_text: str
    declined_by: str


@dataclass(frozen=True, kw_only=True)
class ProposalFact(Event):
    proposal_id: int
    demand_id: int
    demand_title: str
    proposer_org_id: int
    proposer_user_id: int
    enterprise_org_id: int
    amount: str


@dataclass(frozen=True, kw_only=True)
class ProposalSubmitted(ProposalFact):
    fact: ClassVar[str] = "submitted"


@dataclass(frozen=True, kw_only=True)
class ProposalShortlisted(ProposalFact):
    fact: ClassVar[str] = "shortlisted"


@dataclass(frozen=True, kw_only=True)
class ProposalAccepted(ProposalFact):
    fact: ClassVar[str] = "accepted"
    deal_id: int


@dataclass(frozen=True, kw_only=True)
class DealFact(Event):
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


@dataclass(frozen=True, kw_only=True)
class DealOpened(DealFact):
    fact: ClassVar[str] = "opened"
    source: str
    notice_ends_at: str | None


@dataclass(frozen=True, kw_only=True)
class DealAdvanced(DealFact):
    fact: ClassVar[str] = "advanced"
    from_stage: str


@dataclass(frozen=True, kw_only=True)
class DealContractRegistered(DealFact):
    fact: ClassVar[str] = "contract_registered"
    contract_type: str
    contract_value: str
    technology_transaction_value: str
    registration_number: str
    registered_on: str


@dataclass(frozen=True, kw_only=True)
class DealCompleted(DealFact):
    fact: ClassVar[str] = "completed"


@dataclass(frozen=True, kw_only=True)
class DealCancelled(DealFact):
    fact: ClassVar[str] = "cancelled"
    reason: str


@dataclass(frozen=True, kw_only=True)
class DealUpdated(DealFact):
    """Anything else on a deal that parties should hear of: `change` is broker_assigned, milestone_added,
    milestone_done, document_added, objection_lodged, objection_ruled."""

    fact: ClassVar[str] = "updated"
    change: str


TRADING_FACTS: dict[str, tuple[type[Event], ...]] = {
    "auction": (AuctionOpened, AuctionRegistered, AuctionDepositConfirmed, AuctionClosed, AuctionFailed),
    "bid": (BidPlaced, BidOutbid),
    "offer": (OfferMade, OfferCountered, OfferAccepted, OfferDeclined),
    "proposal": (ProposalSubmitted, ProposalShortlisted, ProposalAccepted),
    "deal": (DealOpened, DealAdvanced, DealContractRegistered, DealCompleted, DealCancelled, DealUpdated),
}


LISTING_FACTS: tuple[type[ListingFact], ...] = (
    ListingCreated,
    ListingUpdated,
    ListingSubmitted,
    ListingPublished,
    ListingRejected,
    ListingWithdrawn,
    ListingClosed,
)
#: facts an expert profile has (profiles are not reviewed listings)
PROFILE_FACTS: tuple[type[ListingFact], ...] = (ListingCreated, ListingUpdated)


def _type_name(event_class: type[Event], aggregate: str) -> str:
    return f"market.{aggregate}.{event_class.fact}.v{event_class.major}"


#: every event type the core publishes: type name -> (payload class, aggregate)
EVENT_TYPES: dict[str, tuple[type[Event], str]] = {
    **{
        _type_name(cls, aggregate): (cls, aggregate)
        for aggregate in ("patent", "achievement", "demand")
        for cls in LISTING_FACTS
    },
    **{_type_name(cls, "expert"): (cls, "expert") for cls in PROFILE_FACTS},
    _type_name(NdaAccepted, "achievement"): (NdaAccepted, "achievement"),
    _type_name(OrganizationRegistered, "organization"): (OrganizationRegistered, "organization"),
    _type_name(OrganizationReviewed, "organization"): (OrganizationReviewed, "organization"),
    **{
        _type_name(cls, aggregate): (cls, aggregate)
        for aggregate, facts in TRADING_FACTS.items()
        for cls in facts
    },
}
