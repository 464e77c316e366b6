"""The listing snapshot mechanism of the events: one registered class per aggregate, facts that carry only
that class, JSON from the fields, and schemas from their annotations."""

from dataclasses import dataclass

import pytest

from market.catalog.snapshots import PatentSnapshot
from market.events.catalogue import PatentPublished
from market.events.schemas import _object_schema
from market.events.snapshots import (
    LISTING_SNAPSHOTS,
    DateTime,
    Day,
    ListingSnapshot,
    Money,
    Snapshot,
    listing_snapshot_class,
)
from tests import factories


def test_a_second_snapshot_class_for_an_aggregate_is_refused():
    with pytest.raises(TypeError, match="PatentSnapshot is the patent snapshot already"):

        @dataclass(frozen=True, kw_only=True)
        class AnotherPatent(ListingSnapshot, aggregate="patent"):
            title: str

    assert listing_snapshot_class("patent") is PatentSnapshot


def test_an_aggregate_without_a_snapshot_class_is_a_lookup_error():
    assert "organization" not in LISTING_SNAPSHOTS
    with pytest.raises(LookupError, match="no snapshot class is registered for 'organization'"):
        listing_snapshot_class("organization")


def test_a_listing_fact_carries_only_its_aggregates_snapshot_class():
    with pytest.raises(TypeError, match="carries a PatentSnapshot, not a DemandSnapshot"):
        PatentPublished(
            aggregate_id=1,
            version=1,
            status="published",
            owner_org_id=2,
            snapshot=factories.snapshot("demand"),
        )


@dataclass(frozen=True, kw_only=True)
class Inner(Snapshot):
    code: str
    label: str | None = None


@dataclass(frozen=True, kw_only=True)
class Sample(Snapshot):
    at: DateTime
    on: Day | None
    amount: Money | None
    counts: list[int]
    inner: Inner
    note: str | None = None


def test_a_field_declared_none_is_left_out_while_none_and_other_nones_are_null():
    sample = Sample(at="2026-11-01T09:00:00+00:00", on=None, amount=None, counts=[1], inner=Inner(code="x"))
    assert sample.data() == {
        "at": "2026-11-01T09:00:00+00:00",
        "on": None,
        "amount": None,
        "counts": [1],
        "inner": {"code": "x"},
    }
    noted = Sample(at="", on="2026-11-01", amount="1.50", counts=[], inner=Inner(code="", label=""), note="")
    assert noted.data()["note"] == "" and noted.data()["inner"] == {"code": "", "label": ""}


def test_the_schema_of_a_snapshot_comes_from_its_annotations():
    string = {"type": "string"}
    assert _object_schema(Sample) == {
        "type": "object",
        "properties": {
            "at": {"type": "string", "format": "date-time"},
            "on": {"anyOf": [{"type": "string", "format": "date"}, {"type": "null"}]},
            "amount": {"anyOf": [{"type": "string", "pattern": r"^-?[0-9]+(\.[0-9]+)?$"}, {"type": "null"}]},
            "counts": {"type": "array", "items": {"type": "integer"}},
            "inner": {
                "type": "object",
                "properties": {"code": string, "label": string},
                "required": ["code"],
            },
            "note": string,
        },
        "required": ["amount", "at", "counts", "inner", "on"],
    }


def test_a_snapshot_with_a_post_init_is_refused_since_decoding_sets_fields_directly():
    with pytest.raises(TypeError, match="a snapshot is plain data"):

        class Checked(Snapshot):
            def __post_init__(self) -> None:
                pass
