"""A payload decodes back into the very event it came from, for every type; what does not fit is refused."""

import typing
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from market.catalog.snapshots import OwnerSnapshot, PatentSnapshot
from market.events.catalogue import EVENT_TYPES, DealCompleted, ListingPublished, PatentPublished
from market.events.decoding import UndecodableEvent, event_of
from market.events.snapshots import field_types, nested_snapshot
from tests import factories

JSON_INT = st.integers(min_value=-(2**53), max_value=2**53)
JSON_VALUE = st.recursive(
    st.none() | st.booleans() | JSON_INT | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=6,
)


def _strategy(annotation: Any) -> st.SearchStrategy[Any]:
    snapshot_class = nested_snapshot(annotation)
    if snapshot_class is not None:
        return _instances(snapshot_class)
    if isinstance(annotation, type) and issubclass(annotation, type(None)):
        return st.none()
    args = typing.get_args(annotation)
    origin = typing.get_origin(annotation) or annotation
    if origin is list:
        return st.lists(_strategy(args[0]), max_size=4)
    if origin is dict:
        return st.dictionaries(st.text(max_size=8), JSON_VALUE, max_size=4)
    if args:  # a union
        return st.one_of(*(_strategy(arg) for arg in args))
    return {int: JSON_INT, str: st.text(max_size=20), bool: st.booleans()}[origin]


def _instances(cls: type) -> st.SearchStrategy[Any]:
    """Instances of an event or snapshot class, a listing fact's snapshot of its aggregate's class."""
    return st.builds(cls, **{name: _strategy(annotation) for name, annotation in field_types(cls).items()})


@pytest.mark.parametrize("type_name", sorted(EVENT_TYPES))
@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_every_event_comes_back_from_its_payload_as_it_was(type_name, data):
    event = data.draw(_instances(EVENT_TYPES[type_name]))
    payload = orjson.loads(orjson.dumps(event.data()))  # as the consumer receives it
    decoded = event_of(event.type, payload)
    assert type(decoded) is type(event) and decoded == event


def _published(**snapshot: Any) -> PatentPublished:
    return PatentPublished(
        aggregate_id=4,
        version=2,
        status="published",
        owner_org_id=7,
        snapshot=factories.snapshot("patent", id=4, version=2, title="一种光伏组件清洗装置", **snapshot),
    )


def test_a_listing_fact_decodes_into_its_aggregates_classes_of_fact_and_snapshot():
    decoded = event_of("market.patent.published.v1", _published().data())
    assert isinstance(decoded, PatentPublished) and isinstance(decoded, ListingPublished)
    assert isinstance(decoded.snapshot, PatentSnapshot) and decoded.snapshot.title == "一种光伏组件清洗装置"
    assert isinstance(decoded.snapshot.owner, OwnerSnapshot)


def test_fields_a_newer_producer_added_are_ignored_and_defaults_fill_what_is_optional():
    named = OwnerSnapshot(
        id=7, name="示范理工大学", org_type="university", province_code="", city_code="", county_code=""
    )
    event = _published(owner=named)
    payload = {**event.data(), "added_in_a_minor_version": {"anything": 1}}
    payload["snapshot"] = {**payload["snapshot"], "added_too": [1]}
    assert event_of(event.type, payload) == event
    anonymous = orjson.loads(orjson.dumps(payload))
    del anonymous["snapshot"]["owner"]["id"], anonymous["snapshot"]["owner"]["name"]
    owner = event_of(event.type, anonymous).snapshot.owner
    assert (owner.id, owner.name, owner.org_type) == (None, None, "university")


@pytest.mark.parametrize(
    ("type_name", "change", "why"),
    [
        ("market.patent.sold.v1", {}, "unknown event type"),
        ("market.patent.published.v2", {}, "unknown event type"),
        ("market.patent.published.v1", {"status": None}, "'status' of the wrong type"),
        ("market.patent.published.v1", {"version": True}, "'version' of the wrong type"),
        ("market.patent.published.v1", {"snapshot": []}, "'snapshot' of the wrong type"),
        ("market.patent.published.v1", {"snapshot": {"id": 4}}, "has no 'snapshot.version'"),
        ("market.patent.published.v1", {"snapshot.price": 12}, "'snapshot.price' of the wrong type"),
        ("market.patent.published.v1", {"snapshot.owner": {}}, "has no 'snapshot.owner.org_type'"),
        ("market.patent.published.v1", {"aggregate": "demand"}, "about a 'demand'"),
        ("market.patent.published.v1", {"version": ...}, "has no 'version'"),
    ],
)
def test_a_payload_that_does_not_fit_is_undecodable(type_name, change, why):
    """A change `{"snapshot.price": 12}` replaces a value inside the snapshot."""
    payload = _published().data()
    for name, value in change.items():
        inner, _, field = name.rpartition(".")
        (payload[inner] if inner else payload)[field] = value
    payload = {name: value for name, value in payload.items() if value is not ...}
    with pytest.raises(UndecodableEvent, match=why):
        event_of(type_name, payload)


def test_a_payload_that_is_no_object_is_undecodable():
    with pytest.raises(UndecodableEvent, match="not a JSON object"):
        event_of("market.patent.published.v1", ["not", "an", "object"])  # type: ignore[arg-type]


def test_a_list_of_the_wrong_items_is_undecodable():
    deal = DealCompleted(
        aggregate_id=1,
        version=1,
        deal_id=1,
        stage="completed",
        amount="10.00",
        party_org_ids=[1, 2],
        broker_user_id=None,
        actor_user_id=3,
        title="t",
        seller_org_id=1,
        buyer_org_id=2,
        transaction_mode="transfer",
        profile=factories.deal_profile(closed_on="2026-05-01", registered_on=None),
    )
    assert event_of(deal.type, deal.data()) == deal
    assert "registered_on" not in deal.data()["profile"]
    with pytest.raises(UndecodableEvent, match="'party_org_ids' of the wrong type"):
        event_of(deal.type, {**deal.data(), "party_org_ids": ["1", "2"]})
