"""Negotiated offers (offer, counter, accept, decline with a structured reason) and demand proposals (揭榜):
turns, permissions, one deal each, and their events."""

from decimal import Decimal

import pytest

from market.trading.models import Deal, Offer
from market.trading.services import offers
from tests import factories
from tests.trading.helpers import events_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def achievement(cast):
    return factories.achievement(cast.university, pricing_method="open_to_offers")


def _offer(api, user, listing, amount="400000", kind="achievement"):
    body = {"listing_kind": kind, "listing_id": listing.pk, "amount": amount, "transaction_mode": "transfer"}
    return api(user).post("/api/v1/offers/", body, format="json")


def test_offer_counter_accept_takes_turns_and_opens_one_deal(cast, api, achievement):
    made = _offer(api, cast.ent_member, achievement)
    assert made.status_code == 201 and made.json()["awaiting"] == "owner"
    offer_id = made.json()["id"]
    assert _offer(api, cast.ent_admin, achievement).json()["error"]["code"] == "offer_exists"
    url = f"/api/v1/offers/{offer_id}/"
    assert api(cast.ent_member).post(url + "accept/").json()["error"]["code"] == "not_your_turn"
    assert api(cast.ent2_member).post(url + "accept/").status_code == 404
    countered = api(cast.uni_member).post(url + "counter/", {"amount": "450000"}, format="json")
    assert countered.status_code == 200 and countered.json()["awaiting"] == "buyer"
    assert api(cast.uni_member).post(url + "accept/").status_code == 409
    accepted = api(cast.ent_member).post(url + "accept/")
    assert accepted.status_code == 200 and accepted.json()["status"] == "accepted"
    deal = Deal.objects.get(offer_id=offer_id)
    assert (deal.amount, deal.seller_id, deal.buyer_id) == (
        Decimal("450000"),
        cast.university.pk,
        cast.enterprise.pk,
    )
    assert deal.notice_ends_at is None  # open to offers: no public notice
    assert accepted.json()["deal_id"] == deal.pk
    assert api(cast.uni_member).post(url + "counter/", {"amount": "1"}, format="json").status_code == 409
    assert [len(events_of(f"market.offer.{fact}.v1")) for fact in ("made", "countered", "accepted")] == [
        1,
        1,
        1,
    ]
    [acc] = events_of("market.offer.accepted.v1")
    assert (
        acc["deal_id"] == deal.pk
        and acc["actor_user_id"] == cast.ent_member.pk
        and acc["amount"] == "450000.00"
    )
    rounds = [(r["side"], r["amount"]) for r in accepted.json()["rounds"]]
    assert rounds == [("buyer", "400000.00"), ("owner", "450000.00")]


def test_offers_only_on_negotiable_published_listings_from_enterprises(cast, api):
    listed = factories.achievement(cast.university, pricing_method="listing")
    assert _offer(api, cast.ent_member, listed).json()["error"]["code"] == "not_negotiable"
    priced_patent = factories.patent(cast.university, price=Decimal("10000"))
    assert _offer(api, cast.ent_member, priced_patent, kind="patent").status_code == 409
    open_patent = factories.patent(cast.university, price=None)
    assert _offer(api, cast.ent_member, open_patent, kind="patent").status_code == 201
    draft = factories.achievement(cast.university, status="draft", pricing_method="negotiated")
    assert _offer(api, cast.ent_member, draft).status_code == 400
    assert _offer(api, cast.uni_member, open_patent, kind="patent").status_code == 403
    assert _offer(api, cast.ent_member, open_patent, amount="0", kind="patent").status_code == 400


def test_decline_records_a_structured_reason_owners_can_count(cast, api, achievement):
    offer = offers.offer_make(
        user=cast.ent_member,
        listing_kind="achievement",
        listing_id=achievement.pk,
        amount=Decimal("400000"),
        transaction_mode="transfer",
    )
    offers.offer_counter(offer=offer, user=cast.uni_member, amount=Decimal("900000"))
    url = f"/api/v1/offers/{offer.pk}/decline/"
    assert api(cast.ent_member).post(url, {"reason_code": "other"}, format="json").status_code == 400
    assert api(cast.ent_member).post(url, {"reason_code": "cheap"}, format="json").status_code == 400
    response = api(cast.ent_member).post(url, {"reason_code": "route_to_market_unclear"}, format="json")
    assert response.status_code == 200 and response.json()["declined_by"] == "buyer"
    [declined] = events_of("market.offer.declined.v1")
    assert declined["reason_code"] == "route_to_market_unclear" and declined["reason_text"] == ""
    summary = api(cast.uni_member).get("/api/v1/offers/decline-reasons/").json()
    assert summary == {"reasons": {"route_to_market_unclear": 1}}
    assert api(cast.ent2_member).get("/api/v1/offers/decline-reasons/").json() == {"reasons": {}}
    # a new negotiation may start after the old one ended
    assert _offer(api, cast.ent_member, achievement).status_code == 201
    assert Offer.objects.filter(status="open").count() == 1


@pytest.fixture
def demand(cast):
    return factories.demand(cast.enterprise)


def test_proposals_shortlist_and_accept_one(cast, api, demand):
    url = f"/api/v1/demands/{demand.pk}/proposals/"
    body = {
        "summary": "基于阻抗谱的热失控预警",
        "approach": "……",
        "amount": "350000",
        "transaction_mode": "joint_development",
    }
    assert api(cast.ent2_member).post(url, body, format="json").status_code == 403
    first = api(cast.uni_member).post(url, body, format="json")
    second = api(cast.inst_member).post(url, body, format="json")
    assert first.status_code == second.status_code == 201
    assert api(cast.uni_admin).post(url, body, format="json").json()["error"]["code"] == "proposal_exists"
    assert len(api(cast.ent_member).get(url).json()["results"]) == 2
    assert len(api(cast.uni_member).get(url).json()["results"]) == 1  # a proposer sees its own
    assert api(cast.ent2_member).get(url).json()["results"] == []
    p1, p2 = first.json()["id"], second.json()["id"]
    assert api(cast.uni_member).post(f"/api/v1/proposals/{p1}/shortlist/").status_code == 403
    assert (
        api(cast.ent_member).post(f"/api/v1/proposals/{p1}/accept/").json()["error"]["code"]
        == "invalid_transition"
    )
    for pk in (p1, p2):
        assert api(cast.ent_member).post(f"/api/v1/proposals/{pk}/shortlist/").status_code == 200
    accepted = api(cast.ent_member).post(f"/api/v1/proposals/{p1}/accept/")
    assert accepted.status_code == 200 and accepted.json()["status"] == "accepted"
    assert (
        api(cast.ent_member).post(f"/api/v1/proposals/{p2}/accept/").json()["error"]["code"]
        == "already_accepted"
    )
    deal = Deal.objects.get(proposal_id=p1)
    assert (deal.seller_id, deal.buyer_id, deal.demand_id) == (
        cast.university.pk,
        cast.enterprise.pk,
        demand.pk,
    )
    [event] = events_of("market.proposal.accepted.v1")
    assert event["deal_id"] == deal.pk and event["enterprise_org_id"] == cast.enterprise.pk
    assert event["demand_title"] == demand.title
    assert len(events_of("market.proposal.submitted.v1")) == 2
    assert len(events_of("market.proposal.shortlisted.v1")) == 2


def test_proposals_need_a_published_demand(cast, api):
    draft = factories.demand(cast.enterprise, status="draft")
    body = {"summary": "s", "approach": "a", "amount": "1", "transaction_mode": "service"}
    assert (
        api(cast.uni_member).post(f"/api/v1/demands/{draft.pk}/proposals/", body, format="json").status_code
        == 404
    )
    assert (
        api(cast.uni_member).post("/api/v1/demands/999999/proposals/", body, format="json").status_code == 404
    )
