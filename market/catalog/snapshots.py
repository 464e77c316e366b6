"""The public face of each kind of listing, as frozen snapshot classes: what its events carry, what search
indexes, and the one list of its public fields (the API's output serializers name the same fields through
`own_fields`). Confidential fields (achievement details, NDA text, expert contacts, an anonymous demand's
owner) are not fields of these classes, so they can never appear.

Each class registers itself with the events for its aggregate (`aggregate=` in the class header, see
`market/events/snapshots.py`); the events generate the payload schemas from its fields and decode payloads
back into it, without importing this module. A field's name is the model attribute it is read from, unless
`of` computes it."""

from dataclasses import dataclass, fields
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Self, TypeVar

from market.accounts.models import Organization
from market.catalog.models import Achievement, Demand, Expert, Patent
from market.events.snapshots import DateTime, Day, ListingSnapshot, Money, Snapshot

SnapshotT = TypeVar("SnapshotT", bound=Snapshot)


def _column_value(value: Any) -> Any:
    """A model attribute as a snapshot holds it: moments and dates in ISO 8601, amounts as decimal strings."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def _read(cls: type[SnapshotT], instance: Any, **computed: Any) -> SnapshotT:
    """`cls` with each field not `computed` read from the instance's attribute of the same name."""
    read = {
        field.name: _column_value(getattr(instance, field.name))
        for field in fields(cls)
        if field.name not in computed
    }
    return cls(**read, **computed)


def own_fields(snapshot_class: type[Snapshot]) -> tuple[str, ...]:
    """The fields a kind's class declares itself, in order, without those of the bases every kind shares."""
    (base,) = snapshot_class.__bases__
    inherited = {field.name for field in fields(base)}
    return tuple(field.name for field in fields(snapshot_class) if field.name not in inherited)


@dataclass(frozen=True, kw_only=True)
class OwnerSnapshot(Snapshot):
    """The organization behind a listing. An anonymous demand's owner has no `id` and `name`: the region stays
    searchable, who is asking does not."""

    id: int | None = None
    name: str | None = None
    org_type: str
    province_code: str
    city_code: str
    county_code: str

    @classmethod
    def of(cls, organization: Organization, *, named: bool = True) -> Self:
        return _read(cls, organization) if named else _read(cls, organization, id=None, name=None)


@dataclass(frozen=True, kw_only=True)
class PublicSnapshot(ListingSnapshot):
    """What every kind shows."""

    id: int
    version: int
    owner: OwnerSnapshot
    created_at: DateTime
    updated_at: DateTime


@dataclass(frozen=True, kw_only=True)
class ReviewedSnapshot(PublicSnapshot):
    """A listing that is reviewed before the public sees it: a patent, achievement or demand."""

    status: str
    published_at: DateTime | None
    synthetic_fields: list[str]


@dataclass(frozen=True, kw_only=True)
class PatentSnapshot(ReviewedSnapshot, aggregate="patent"):
    application_number: str
    publication_number: str | None
    patent_type: str
    title: str
    abstract: str
    claims_summary: str
    ipc_codes: list[str]
    applicants: list[str]
    inventors: list[str]
    filing_date: Day
    publication_date: Day | None
    grant_date: Day | None
    legal_status: str
    expiry_date: Day
    field: str
    price: Money | None

    @classmethod
    def of(cls, listing: Patent) -> Self:
        return _read(cls, listing, owner=OwnerSnapshot.of(listing.owner))

    @property
    def heading(self) -> str:
        return self.title


@dataclass(frozen=True, kw_only=True)
class AchievementSnapshot(ReviewedSnapshot, aggregate="achievement"):
    name: str
    keywords: list[str]
    completing_units: list[str]
    registration_number: str | None
    field: str
    category: str
    trl: int
    stage: str
    ip_forms: list[str]
    #: the linked patents, by id
    patent_ids: list[int]
    transfer_modes: list[str]
    price: Money | None
    pricing_method: str
    teaser: str

    @classmethod
    def of(cls, listing: Achievement) -> Self:
        return _read(
            cls,
            listing,
            owner=OwnerSnapshot.of(listing.owner),
            patent_ids=sorted(patent.pk for patent in listing.patents.all()),
        )

    @property
    def heading(self) -> str:
        return self.name


@dataclass(frozen=True, kw_only=True)
class DemandSnapshot(ReviewedSnapshot, aggregate="demand"):
    title: str
    description: str
    field: str
    ipc_hints: list[str]
    budget_min: Money | None
    budget_max: Money | None
    deadline: Day | None
    collaboration_mode: str
    urgency: str
    is_anonymous: bool

    @classmethod
    def of(cls, listing: Demand) -> Self:
        return _read(cls, listing, owner=OwnerSnapshot.of(listing.owner, named=not listing.is_anonymous))

    @property
    def heading(self) -> str:
        return self.title


@dataclass(frozen=True, kw_only=True)
class ExpertSnapshot(PublicSnapshot, aggregate="expert"):
    """An expert's public profile; its organization is the owner, and a public profile counts as published
    (experts are not reviewed)."""

    name: str
    title: str
    fields: list[str]
    bio: str
    achievements_summary: str
    is_public: bool

    @classmethod
    def of(cls, listing: Expert) -> Self:
        return _read(cls, listing, owner=OwnerSnapshot.of(listing.organization))

    @classmethod
    def fact_status(cls, listing: Expert) -> str:
        return "published" if listing.is_public else "hidden"

    @classmethod
    def owner_org_id(cls, listing: Expert) -> int:
        return listing.organization_id

    @property
    def heading(self) -> str:
        return self.name
