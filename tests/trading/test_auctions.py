"""Auctions through the API: opening, sign-up (NDA, deposit), bid validation, anti-sniping, public masked
history, closing with and without a winner, and the events each step publishes."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from jsonschema import Draft202012Validator

from market.catalog.models import NdaAcceptance
from market.common.errors import ApplicationError
from market.events.models import OutboxEvent
from market.events.schemas import stored_snapshots
from market.trading import tasks
from market.trading.models import Auction, AuctionStatus, Deal
from market.trading.services import auctions
from tests import factories
from tests.trading.helpers import end_now, events_of, open_auction

pytestmark = pytest.mark.django_db


def _bid(api, user, auction, amount):
    return api(user).post(f"/api/v1/auctions/{auction.pk}/bids/", {"amount": amount}, format="json")


def test_owner_opens_an_auction_and_the_reserve_stays_hidden(cast, api, patent):
    now = timezone.now()
    body = {
        "listing_kind": "patent",
        "listing_id": patent.pk,
        "starts_at": now.isoformat(),
        "ends_at": (now + timedelta(days=3)).isoformat(),
        "starting_price": "200000",
        "bid_increment": "5000",
        "reserve_price": "300000",
        "deposit_amount": "20000",
    }
    assert api(cast.ent_member).post("/api/v1/auctions/", body, format="json").status_code == 403
    assert api(cast.inst_member).post("/api/v1/auctions/", body, format="json").status_code == 403
    response = api(cast.uni_member).post("/api/v1/auctions/", body, format="json")
    assert response.status_code == 201, response.content
    data = response.json()
    assert "reserve_price" not in data and data["reserve_met"] is False
    assert data["minimum_next_bid"] == "200000.00"
    again = api(cast.uni_member).post("/api/v1/auctions/", body, format="json")
    assert again.status_code == 409 and again.json()["error"]["code"] == "auction_exists"
    [opened] = events_of("market.auction.opened.v1")
    assert opened["listing_kind"] == "patent" and opened["listing_id"] == patent.pk
    assert opened["starting_price"] == "200000.00" and opened["owner_org_id"] == cast.university.pk
    public = api(None).get(f"/api/v1/auctions/{data['id']}/").json()
    assert "reserve_price" not in public


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"ends_at": "2001-01-01T00:00:00Z"}, "ends_at"),
        ({"reserve_price": "1"}, "reserve_price"),
        ({"bid_increment": "0"}, "bid_increment"),
        ({"starting_price": "1e20"}, "starting_price"),
        ({"listing_kind": "demand"}, "listing_kind"),
    ],
)
def test_bad_auction_input_is_a_400_naming_the_field(cast, api, patent, change, field):
    now = timezone.now()
    body = {
        "listing_kind": "patent",
        "listing_id": patent.pk,
        "starts_at": (now - timedelta(days=30)).isoformat(),
        "ends_at": (now + timedelta(days=3)).isoformat(),
        "starting_price": "200000",
        "bid_increment": "5000",
        **change,
    }
    response = api(cast.uni_member).post("/api/v1/auctions/", body, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()["error"]["fields"]


def test_unpublished_listing_cannot_be_auctioned(cast, api):
    draft = factories.patent(cast.university, status="draft")
    with pytest.raises(ApplicationError) as refused:
        open_auction(cast.uni_member, draft)
    assert refused.value.code == "not_published" and list(refused.value.fields) == ["listing_id"]


def test_sign_up_requires_an_enterprise_and_the_owners_nda(cast, api):
    achievement = factories.achievement(cast.university, pricing_method="auction")
    auction = open_auction(cast.uni_member, achievement)
    url = f"/api/v1/auctions/{auction.pk}/registrations/"
    assert api(cast.inst_member).post(url).status_code == 403
    refused = api(cast.ent_member).post(url)
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "nda_required"
    assert api(cast.ent_member).post(f"/api/v1/achievements/{achievement.pk}/nda/").status_code == 200
    assert NdaAcceptance.objects.filter(user=cast.ent_member).exists()
    first = api(cast.ent_member).post(url)
    assert first.status_code == 201 and first.json()["paddle_number"] == 1
    assert api(cast.ent_admin).post(url).status_code == 200  # same organization: the same registration
    assert len(events_of("market.auction.registered.v1")) == 1
    # the owner sees every sign-up, a bidder its own, the public nothing
    assert len(api(cast.uni_member).get(url).json()) == 1
    assert api(None).get(url).status_code == 401


def test_deposit_must_be_confirmed_by_the_owner_before_bidding(cast, api, patent):
    auction = open_auction(cast.uni_member, patent, deposit_amount=Decimal("10000"))
    registration, _ = auctions.auction_register(auction=auction, user=cast.ent_member)
    assert registration.deposit_status == "pending"
    blocked = _bid(api, cast.ent_member, auction, "100000")
    assert blocked.status_code == 403 and blocked.json()["error"]["code"] == "deposit_pending"
    confirm = f"/api/v1/auctions/{auction.pk}/registrations/{registration.pk}/confirm-deposit/"
    assert api(cast.ent_member).post(confirm).status_code == 403
    assert api(cast.uni_member).post(confirm).status_code == 200
    assert api(cast.uni_member).post(confirm).status_code == 409
    assert _bid(api, cast.ent_member, auction, "100000").status_code == 201


def test_bids_are_validated_against_the_current_price_and_increment(cast, api, signed_up):
    auction = signed_up
    assert _bid(api, cast.gov_member, auction, "100000").status_code == 403
    assert (
        _bid(
            api,
            factories.user(
                cast.enterprise2.__class__.objects.create(
                    name="未报名企业",
                    org_type="enterprise",
                    credit_code=factories.credit_code(990001),
                    province_code="330000",
                    city_code="330100",
                    county_code="330106",
                    status="approved",
                )
            ),
            auction,
            "100000",
        ).json()["error"]["code"]
        == "not_registered"
    )
    low = _bid(api, cast.ent_member, auction, "99999.99")
    assert low.status_code == 409 and low.json()["error"]["fields"]["amount"]
    assert _bid(api, cast.ent_member, auction, "100000").status_code == 201
    again = _bid(api, cast.ent_member, auction, "200000")
    assert again.status_code == 409 and again.json()["error"]["code"] == "already_leading"
    short = _bid(api, cast.ent2_member, auction, "100999.99")
    assert short.status_code == 409 and short.json()["error"]["code"] == "bid_too_low"
    assert _bid(api, cast.ent2_member, auction, "101000").status_code == 201
    for amount in ("abc", "-1", "0", "1e30", "100000.001"):
        assert _bid(api, cast.ent_member, auction, amount).status_code == 400, amount
    outbid = events_of("market.bid.outbid.v1")
    assert len(outbid) == 1
    assert outbid[0]["outbid_user_id"] == cast.ent_member.pk and outbid[0]["amount"] == "101000.00"
    keys = set(OutboxEvent.objects.filter(type__startswith="market.bid.").values_list("key", flat=True))
    assert keys == {f"auction:{auction.pk}"}


def test_bid_history_is_public_with_bidders_masked(cast, api, signed_up):
    auctions.bid_place(auction_id=signed_up.pk, user=cast.ent_member, amount=Decimal("100000"))
    auctions.bid_place(auction_id=signed_up.pk, user=cast.ent2_member, amount=Decimal("105000"))
    response = api(None).get(f"/api/v1/auctions/{signed_up.pk}/bids/")
    assert response.status_code == 200
    results = response.json()["results"]
    assert [row["amount"] for row in results] == ["105000.00", "100000.00"]
    assert [row["bidder_number"] for row in results] == [2, 1]
    names = {cast.enterprise.name, cast.enterprise2.name}
    assert all(row["bidder"] not in names and "***" in row["bidder"] for row in results)
    assert str(cast.ent_member.pk) not in str(results[1].get("bidder"))


def test_a_bid_in_the_last_minutes_extends_the_end(cast, signed_up):
    auction = signed_up
    far_end = auction.ends_at
    auctions.bid_place(auction_id=auction.pk, user=cast.ent_member, amount=Decimal("100000"))
    auction.refresh_from_db()
    assert auction.ends_at == far_end  # an hour left: no extension
    near_end = timezone.now() + timedelta(minutes=2)
    Auction.objects.filter(pk=auction.pk).update(ends_at=near_end)
    bid = auctions.bid_place(auction_id=auction.pk, user=cast.ent2_member, amount=Decimal("101000"))
    auction.refresh_from_db()
    assert auction.ends_at == bid.placed_at + timedelta(minutes=auction.extension_minutes)
    assert auction.ends_at > near_end and auction.scheduled_end == far_end
    placed = events_of("market.bid.placed.v1")[-1]
    assert placed["extended_seconds"] > 0 and placed["ends_at"] == auction.ends_at.isoformat()
    # the timer leaves an extended auction alone until its new end
    Auction.objects.filter(pk=auction.pk).update(ends_at=timezone.now() + timedelta(seconds=30))
    assert tasks.close_due_auctions() == {"closed": 0, "failed": 0}
    assert auctions.auction_close(auction_id=auction.pk) is None


def test_bids_after_the_end_or_before_the_start_are_refused(cast, api, signed_up, patent):
    end_now(signed_up)
    late = _bid(api, cast.ent_member, signed_up, "100000")
    assert late.status_code == 409 and late.json()["error"]["code"] == "auction_closed"
    other = factories.patent(cast.university)
    future = open_auction(
        cast.uni_member,
        other,
        starts_at=timezone.now() + timedelta(hours=1),
        ends_at=timezone.now() + timedelta(hours=2),
    )
    auctions.auction_register(auction=future, user=cast.ent_member)
    early = _bid(api, cast.ent_member, future, "100000")
    assert early.status_code == 409 and early.json()["error"]["code"] == "auction_not_started"


def test_closing_picks_the_highest_bid_at_or_above_the_reserve(cast, patent):
    auction = open_auction(cast.uni_member, patent, reserve_price=Decimal("101000"))
    for user in (cast.ent_member, cast.ent2_member):
        auctions.auction_register(auction=auction, user=user)
    auctions.bid_place(auction_id=auction.pk, user=cast.ent_member, amount=Decimal("100000"))
    auctions.bid_place(auction_id=auction.pk, user=cast.ent2_member, amount=Decimal("101000"))
    end_now(auction)
    assert tasks.close_due_auctions() == {"closed": 1, "failed": 0}
    auction.refresh_from_db()
    deal = Deal.objects.get(auction=auction)
    assert auction.status == AuctionStatus.CLOSED
    assert (deal.buyer_id, deal.seller_id, deal.amount) == (
        cast.enterprise2.pk,
        cast.university.pk,
        Decimal("101000"),
    )
    assert deal.patent_id == patent.pk and deal.stage == "negotiating"
    [closed] = events_of("market.auction.closed.v1")
    assert closed["winner_user_id"] == cast.ent2_member.pk and closed["amount"] == "101000.00"
    assert closed["deal_id"] == deal.pk


@pytest.mark.parametrize(("bids", "reason"), [((), "no_bids"), (("100000",), "reserve_not_met")])
def test_an_auction_without_a_qualifying_bid_fails(cast, patent, bids, reason):
    auction = open_auction(cast.uni_member, patent, reserve_price=Decimal("150000"))
    auctions.auction_register(auction=auction, user=cast.ent_member)
    for amount in bids:
        auctions.bid_place(auction_id=auction.pk, user=cast.ent_member, amount=Decimal(amount))
    end_now(auction)
    assert tasks.close_due_auctions() == {"closed": 0, "failed": 1}
    auction.refresh_from_db()
    assert auction.status == AuctionStatus.FAILED and auction.failure_reason == reason
    assert not Deal.objects.exists()
    [failed] = events_of("market.auction.failed.v1")
    assert failed["reason"] == reason and failed["owner_org_id"] == cast.university.pk


def test_trading_events_carry_the_contract_fields_and_validate_against_their_snapshots(cast, patent):
    auction = open_auction(cast.uni_member, patent)
    for user in (cast.ent_member, cast.ent2_member):
        auctions.auction_register(auction=auction, user=user)
    auctions.bid_place(auction_id=auction.pk, user=cast.ent_member, amount=Decimal("100000"))
    auctions.bid_place(auction_id=auction.pk, user=cast.ent2_member, amount=Decimal("101000"))
    end_now(auction)
    auctions.auction_close(auction_id=auction.pk)
    required = {
        "market.auction.opened.v1": {
            "auction_id",
            "listing_kind",
            "listing_id",
            "listing_title",
            "owner_org_id",
            "starts_at",
            "ends_at",
            "starting_price",
        },
        "market.bid.placed.v1": {
            "auction_id",
            "bid_id",
            "amount",
            "bidder_user_id",
            "bidder_org_id",
            "owner_org_id",
            "listing_kind",
            "listing_id",
            "listing_title",
            "ends_at",
        },
        "market.bid.outbid.v1": {"auction_id", "amount", "outbid_user_id", "outbid_org_id", "listing_title"},
        "market.auction.closed.v1": {
            "auction_id",
            "winner_user_id",
            "winner_org_id",
            "amount",
            "deal_id",
            "owner_org_id",
            "listing_title",
        },
        "market.deal.opened.v1": {
            "deal_id",
            "stage",
            "amount",
            "party_org_ids",
            "broker_user_id",
            "actor_user_id",
            "title",
        },
    }
    rows = list(OutboxEvent.objects.all())
    assert {row.type for row in rows} >= set(required)
    for row in rows:
        assert row.topic == "market.trading"
        assert required.get(row.type, set()) <= set(row.data), row.type
        for snapshot in stored_snapshots(row.type):
            Draft202012Validator(snapshot).validate(row.data)
    deal_opened = next(row for row in rows if row.type == "market.deal.opened.v1")
    assert deal_opened.key == f"deal:{deal_opened.data['deal_id']}"
    assert sorted(deal_opened.data["party_org_ids"]) == sorted([cast.university.pk, cast.enterprise2.pk])
