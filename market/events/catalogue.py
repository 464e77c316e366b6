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
    fact: ClassVar[str] = "withdrawn"


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
}
