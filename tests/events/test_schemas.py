"""Event payloads against their committed JSON Schema snapshots."""

import dataclasses

import pytest
from django.core.management import call_command
from jsonschema import Draft202012Validator, ValidationError

from market.events.catalogue import EVENT_TYPES, ListingClosed, PatentPublished, ProposalFact
from market.events.decoding import event_of
from market.events.models import OutboxEvent
from market.events.schemas import payload_schema, stored_snapshots
from tests import factories
from tests.events.test_relay import _scenario

pytestmark = pytest.mark.django_db


def test_every_event_type_has_a_snapshot_matching_the_code():
    call_command("event_schemas")  # raises CommandError naming the stale types
    for event_type in EVENT_TYPES:
        assert stored_snapshots(event_type), event_type
        assert stored_snapshots(event_type)[-1] == payload_schema(event_type)


def test_payloads_of_a_real_scenario_validate_against_every_stored_version(cast, api):
    _scenario(cast, api)
    rows = list(OutboxEvent.objects.all())
    assert len({row.type for row in rows}) >= 12
    for row in rows:
        history = stored_snapshots(row.type)
        assert history
        for snapshot in history:
            Draft202012Validator(snapshot).validate(row.data)


def test_the_facts_of_an_accepted_proposal_validate_and_decode(cast, api):
    """Solving a demand: the demand's closing fact (a ListingClosed a consumer can dispatch on) and the
    not-selected proposals, each against every stored version of its schema."""
    demand = factories.demand(cast.enterprise)
    body = {"summary": "s", "approach": "a", "amount": "1", "transaction_mode": "service"}
    chosen, other = (
        api(user).post(f"/api/v1/demands/{demand.pk}/proposals/", body, format="json").json()["id"]
        for user in (cast.uni_member, cast.inst_member)
    )
    enterprise = api(cast.ent_member)
    assert enterprise.post(f"/api/v1/proposals/{chosen}/shortlist/").status_code == 200
    assert (
        enterprise.post(f"/api/v1/proposals/{chosen}/accept/", {"reason": "另选"}, format="json").status_code
        == 200
    )

    rows = {row.type: row for row in OutboxEvent.objects.all()}
    for event_type, event_class in (
        ("market.demand.solved.v1", ListingClosed),
        ("market.proposal.not_selected.v1", ProposalFact),
    ):
        data = rows[event_type].data
        for snapshot in stored_snapshots(event_type):
            Draft202012Validator(snapshot).validate(data)
        assert isinstance(event_of(event_type, data), event_class)
    assert rows["market.proposal.not_selected.v1"].data["proposal_id"] == other


def test_a_breaking_payload_change_fails_against_the_snapshot(cast):
    """What the compatibility check protects: dropping or retyping a field a consumer relies on."""
    event = PatentPublished.of(factories.patent(cast.university))
    snapshot = stored_snapshots(event.type)[0]
    Draft202012Validator(snapshot).validate(event.data())

    without_title = event.data()
    del without_title["snapshot"]["title"]
    with pytest.raises(ValidationError):
        Draft202012Validator(snapshot).validate(without_title)
    retyped = dataclasses.replace(event, version="2").data()  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        Draft202012Validator(snapshot).validate(retyped)
    additive = {**event.data(), "new_optional_field": 1}
    Draft202012Validator(snapshot).validate(additive)
