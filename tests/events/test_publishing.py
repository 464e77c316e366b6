"""`publish`/`publish_many`: one outbox row per fact, only inside the caller's transaction, gone with it on
rollback; and every fact in the catalogue has a name, topic, key and JSON payload the relay can send."""

import json
import re
import typing
import uuid
from typing import Any

import pytest
from django.db import transaction

from market.catalog.snapshots import PatentSnapshot
from market.events import catalogue
from market.events.catalogue import (
    ListingCreated,
    ListingPublished,
    ListingRejected,
    NdaAccepted,
    OrganizationReviewed,
    PatentPublished,
    PatentRejected,
    listing_class,
)
from market.events.models import OutboxEvent
from market.events.publishing import PublishOutsideTransaction, publish, publish_many
from market.events.snapshots import ListingSnapshot, field_types, nested_snapshot
from tests import factories

pytestmark = pytest.mark.django_db

#: the topic contract of DESIGN.md: one topic per aggregate
EXPECTED_TOPICS = {
    "patent": "market.patents",
    "achievement": "market.achievements",
    "demand": "market.demands",
    "expert": "market.experts",
    "organization": "market.accounts",
}
TYPE_NAME = re.compile(r"market\.[a-z]+\.[a-z_]+\.v1")
#: every published class (each registers itself under its type name)
EVENT_CLASSES = sorted(catalogue.EVENT_TYPES.values(), key=lambda cls: cls.__name__)


class Abort(Exception):
    pass


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings) -> None:
    """`cast` creates a dozen users; the production hasher would dominate every test's run time."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def created(aggregate: str = "patent", aggregate_id: int = 7, version: int = 1) -> ListingCreated:
    return listing_class(ListingCreated, aggregate)(
        aggregate_id=aggregate_id,
        version=version,
        status="draft",
        owner_org_id=3,
        snapshot=factories.snapshot(aggregate, id=aggregate_id, version=version),
    )


@pytest.mark.django_db(transaction=True)
def test_publish_outside_a_transaction_is_refused():
    with pytest.raises(PublishOutsideTransaction, match=r"market\.patent\.created\.v1"):
        publish(created())
    with pytest.raises(PublishOutsideTransaction):
        publish_many([created(), created(aggregate_id=8)])
    assert OutboxEvent.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_published_row_is_committed_with_the_transaction():
    with transaction.atomic():
        row = publish(created())
    stored = OutboxEvent.objects.get()
    assert stored.pk == row.pk and isinstance(stored.pk, uuid.UUID)
    assert stored.sent_at is None


@pytest.mark.parametrize("aggregate", sorted(set(EXPECTED_TOPICS) - {"organization"}))  # listing aggregates
def test_publish_writes_type_topic_key_version_and_data(aggregate):
    event = created(aggregate=aggregate, aggregate_id=41, version=5)
    with transaction.atomic():
        publish(event)
    stored = OutboxEvent.objects.get()
    assert stored.type == f"market.{aggregate}.created.v1"
    assert stored.topic == EXPECTED_TOPICS[aggregate]
    assert stored.key == f"{aggregate}:41"
    assert stored.aggregate_version == 5
    assert stored.source
    assert stored.data == {
        "aggregate": aggregate,
        "aggregate_id": 41,
        "version": 5,
        "status": "draft",
        "owner_org_id": 3,
        "snapshot": event.snapshot.data(),
    }
    assert stored.data["snapshot"]["id"] == 41 and stored.data["snapshot"]["owner"]["org_type"] == ""


def test_aggregates_keep_their_designed_topics():
    assert EXPECTED_TOPICS.items() <= catalogue.TOPICS.items()
    assert all(
        topic.startswith("market.") and not topic.endswith(".dlq") for topic in catalogue.TOPICS.values()
    )


def test_rolled_back_transaction_leaves_no_row():
    with pytest.raises(Abort), transaction.atomic():
        publish(created())
        publish_many([created(aggregate_id=8)])
        raise Abort
    assert OutboxEvent.objects.count() == 0


def test_rolled_back_inner_block_keeps_the_outer_event():
    with transaction.atomic():
        publish(created(aggregate_id=1))
        with pytest.raises(Abort), transaction.atomic():
            publish(created(aggregate_id=2))
            raise Abort
    assert list(OutboxEvent.objects.values_list("key", flat=True)) == ["patent:1"]


def test_publish_many_writes_one_row_per_event():
    events = [
        created(aggregate_id=1),
        created(aggregate="achievement", aggregate_id=2, version=3),
        NdaAccepted(aggregate_id=2, version=3, user_id=9, organization_id=None),
    ]
    with transaction.atomic():
        rows = publish_many(events)
    assert len(rows) == 3
    stored = sorted(OutboxEvent.objects.values_list("type", "topic", "key", "aggregate_version"))
    assert stored == [
        ("market.achievement.created.v1", "market.achievements", "achievement:2", 3),
        ("market.achievement.nda_accepted.v1", "market.achievements", "achievement:2", 3),
        ("market.patent.created.v1", "market.patents", "patent:1", 1),
    ]
    assert len({row.pk for row in rows}) == 3
    with transaction.atomic():
        assert publish_many([]) == []
    assert OutboxEvent.objects.count() == 3


def _sample(annotation: Any, patent: ListingSnapshot) -> Any:
    """A value of the field's declared type; a patent's snapshot comes from a real patent."""
    snapshot_class = nested_snapshot(annotation)
    if snapshot_class is not None:
        if not issubclass(snapshot_class, ListingSnapshot):
            return factories.deal_profile()
        return patent if snapshot_class is PatentSnapshot else factories.snapshot(snapshot_class.aggregate)
    options = typing.get_args(annotation) or (annotation,)
    if bool in options:
        return True
    if int in options:
        return 12
    if str in options:
        return "published"
    raise AssertionError(f"no sample for {annotation!r}: extend _sample for the new field type")


def test_catalogue_is_found():
    names = {cls.__name__ for cls in EVENT_CLASSES}
    assert {"PatentCreated", "AchievementPublished", "DemandRejected", "ExpertUpdated"} <= names
    assert "NdaAccepted" in names
    assert {"OrganizationRegistered", "OrganizationReviewed", "DealOpened", "BidPlaced"} <= names
    assert "ExpertPublished" not in names  # expert profiles are not reviewed
    assert all(cls.type_name() == name for name, cls in catalogue.EVENT_TYPES.items())


def test_a_generic_listing_fact_is_the_base_of_its_per_aggregate_classes():
    assert issubclass(PatentPublished, ListingPublished) and PatentPublished.aggregate == "patent"
    assert catalogue.listing_class(ListingRejected, "demand") is catalogue.DemandRejected
    with pytest.raises(LookupError):
        catalogue.listing_class(ListingPublished, "expert")


@pytest.mark.parametrize("event_class", EVENT_CLASSES, ids=lambda cls: cls.__name__)
def test_every_event_class_produces_json_data(cast, event_class):
    patent = factories.patent(cast.university, price="250000.00", grant_date="2022-03-01")
    patent.refresh_from_db()
    snapshot = PatentSnapshot.of(patent)
    values = {
        name: _sample(annotation, snapshot)
        for name, annotation in field_types(event_class).items()
        if name not in {"aggregate_id", "version"}
    }
    event = event_class(aggregate_id=patent.pk, version=patent.version, **values)

    assert TYPE_NAME.fullmatch(event.type), event.type
    data = event.data()
    assert json.loads(json.dumps(data)) == data
    assert "fact" not in data and "major" not in data
    with transaction.atomic():
        row = publish(event)
    stored = OutboxEvent.objects.get(pk=row.pk)
    assert stored.data == data
    assert data["aggregate"] == event_class.aggregate
    assert stored.type == event.type and stored.topic == catalogue.TOPICS[event_class.aggregate]


def test_listing_fact_payload_keeps_dates_and_money_as_text(cast):
    patent = factories.patent(cast.university, price="250000.00")
    patent.refresh_from_db()
    events = [
        PatentPublished(
            aggregate_id=patent.pk,
            version=patent.version,
            status=patent.status,
            owner_org_id=patent.owner_id,
            snapshot=PatentSnapshot.of(patent),
        ),
        PatentRejected(
            aggregate_id=patent.pk,
            version=patent.version + 1,
            status="rejected",
            owner_org_id=patent.owner_id,
            snapshot=PatentSnapshot.of(patent),
            reason="缺少权利要求书",
        ),
        OrganizationReviewed(aggregate_id=patent.owner_id, version=2, status="approved", reason=""),
    ]
    with transaction.atomic():
        publish_many(events)
    published = OutboxEvent.objects.get(type="market.patent.published.v1").data
    assert published["snapshot"]["price"] == "250000.00"
    assert published["snapshot"]["filing_date"] == "2020-05-17"
    assert published["snapshot"]["expiry_date"] == "2040-05-17"
    assert published["snapshot"]["published_at"] == patent.published_at.isoformat()
    assert OutboxEvent.objects.get(type="market.patent.rejected.v1").data["reason"] == "缺少权利要求书"
    assert OutboxEvent.objects.get(topic="market.accounts").key == f"organization:{patent.owner_id}"
