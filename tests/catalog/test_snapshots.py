"""The snapshot classes: each kind's one list of public fields, read from its model, registered with the
events and shown by the API."""

import dataclasses
import json

import pytest
from jsonschema import Draft202012Validator

from market.catalog.models import Achievement, Demand, Expert, Patent
from market.catalog.snapshots import (
    AchievementSnapshot,
    DemandSnapshot,
    ExpertSnapshot,
    PatentSnapshot,
    own_fields,
)
from market.events.catalogue import DemandPublished, ExpertCreated, ExpertUpdated, PatentPublished
from market.events.decoding import event_of
from market.events.schemas import stored_snapshots
from market.events.snapshots import LISTING_SNAPSHOTS
from tests import factories

pytestmark = pytest.mark.django_db

SNAPSHOTS = {
    Patent: PatentSnapshot,
    Achievement: AchievementSnapshot,
    Demand: DemandSnapshot,
    Expert: ExpertSnapshot,
}
#: what only some may read: achievement details behind an NDA, expert contacts, and the review's bookkeeping
CONFIDENTIAL = {"confidential_details", "nda_text", "email", "phone", "user", "created_by", "reviewed_by"}


def _names(snapshot_class: type) -> set[str]:
    return {field.name for field in dataclasses.fields(snapshot_class)}


def test_each_listing_kind_registers_its_snapshot_class_with_the_events():
    registered = dict(LISTING_SNAPSHOTS)
    assert registered == {
        "patent": PatentSnapshot,
        "achievement": AchievementSnapshot,
        "demand": DemandSnapshot,
        "expert": ExpertSnapshot,
    }


@pytest.mark.parametrize("model", SNAPSHOTS, ids=lambda model: model.__name__)
def test_no_confidential_field_is_a_snapshot_field(model):
    columns = {field.name for field in model._meta.get_fields()}
    assert CONFIDENTIAL & columns  # the model has some of them ...
    assert not CONFIDENTIAL & _names(SNAPSHOTS[model])  # ... which its public face never shows


def test_no_confidential_value_reaches_a_payload(cast):
    achievement = factories.achievement(cast.university)
    expert = factories.expert(cast.university, email="wang@example.org", phone="0571-12345678")
    texts = [
        json.dumps(AchievementSnapshot.of(achievement).data(), ensure_ascii=False),
        json.dumps(ExpertSnapshot.of(expert).data(), ensure_ascii=False),
    ]
    for secret in (achievement.confidential_details, achievement.nda_text, "wang@example.org", "12345678"):
        assert not any(secret in text for text in texts), secret


def test_an_anonymous_demand_shows_its_region_but_not_who_asks(cast):
    demand = factories.demand(cast.enterprise, is_anonymous=True)
    snapshot = DemandSnapshot.of(demand)
    assert (snapshot.owner.id, snapshot.owner.name) == (None, None)
    assert snapshot.data()["owner"] == {
        "org_type": "enterprise",
        "province_code": cast.enterprise.province_code,
        "city_code": cast.enterprise.city_code,
        "county_code": cast.enterprise.county_code,
    }
    event = DemandPublished.of(demand)
    assert event.owner_org_id == cast.enterprise.pk  # the fact still tells the owner it is theirs
    payload = json.loads(json.dumps(event.data()))
    assert cast.enterprise.name not in json.dumps(payload, ensure_ascii=False)
    for schema in stored_snapshots(event.type):
        Draft202012Validator(schema).validate(payload)
    assert event_of(event.type, payload) == event

    named = DemandSnapshot.of(factories.demand(cast.enterprise))
    assert (named.owner.id, named.owner.name) == (cast.enterprise.pk, cast.enterprise.name)


def test_a_snapshot_reads_its_fields_from_the_model_as_json_values(cast):
    patent = factories.patent(cast.university, price="250000.00", grant_date="2022-03-01")
    patent.refresh_from_db()
    achievement = factories.achievement(cast.institute)
    achievement.patents.set([patent])
    snapshot = PatentPublished.of(patent).snapshot
    assert isinstance(snapshot, PatentSnapshot)
    assert (snapshot.price, snapshot.grant_date, snapshot.publication_date) == (
        "250000.00",
        "2022-03-01",
        None,
    )
    assert snapshot.published_at == patent.published_at.isoformat() and snapshot.heading == patent.title
    assert AchievementSnapshot.of(achievement).patent_ids == [patent.pk]


def test_an_expert_profile_counts_as_published_while_public_and_belongs_to_its_organization(cast):
    expert = factories.expert(cast.institute)
    created = ExpertCreated.of(expert)
    assert (created.status, created.owner_org_id) == ("published", cast.institute.pk)
    assert created.snapshot.heading == expert.name  # not its professional title
    expert.is_public = False
    assert ExpertUpdated.of(expert).status == "hidden"


@pytest.mark.parametrize(
    ("path", "make"),
    [
        ("patents", lambda cast: factories.patent(cast.university)),
        ("achievements", lambda cast: factories.achievement(cast.university)),
        ("demands", lambda cast: factories.demand(cast.enterprise)),
        ("experts", lambda cast: factories.expert(cast.university)),
    ],
)
def test_the_api_shows_every_public_field_of_the_listing(cast, api, path, make):
    """The output serializers name each kind's own fields through its snapshot class (`own_fields`), so the
    fields are listed once."""
    listing = make(cast)
    shown = api(cast.ent_member).get(f"/api/v1/{path}/{listing.pk}/").json()
    snapshot_class = SNAPSHOTS[type(listing)]
    assert set(own_fields(snapshot_class)) <= shown.keys()
    public = _names(snapshot_class) - {"owner"}  # an expert's owner is shown as its organization
    assert public <= shown.keys()
