"""Cancelling an auction through the API: the owner before the first bid, a platform administrator at any time
with a reason, nobody else; deposits released, everyone signed up named in the event, the listing free again,
and the closing timer leaving a cancelled auction alone."""

from decimal import Decimal

import pytest

from market.trading import tasks
from market.trading.models import Auction, AuctionStatus, Deal
from market.trading.services import auctions
from tests import factories
from tests.trading.helpers import availability, end_now, events_of, open_auction

pytestmark = pytest.mark.django_db


def _cancel(api, user, auction, **body):
    return api(user).post(f"/api/v1/auctions/{auction.pk}/cancel/", body, format="json")


@pytest.fixture
def with_deposits(cast, patent) -> Auction:
    """An auction with a deposit: one bidder's deposit confirmed, the other's still awaited."""
    auction = open_auction(cast.uni_member, patent, deposit_amount=Decimal("20000"))
    confirmed, _ = auctions.auction_register(auction=auction, user=cast.ent_member)
    auctions.auction_register(auction=auction, user=cast.ent2_member)
    auctions.registration_confirm_deposit(registration=confirmed, user=cast.uni_member)
    return auction


def test_the_owner_cancels_before_the_first_bid_and_deposits_are_released(cast, api, patent, with_deposits):
    auction = with_deposits
    assert availability(api, patent) == "reserved"
    response = _cancel(api, cast.uni_member, auction)
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "cancelled" and response.json()["closed_at"] is not None
    registrations = api(cast.uni_member).get(f"/api/v1/auctions/{auction.pk}/registrations/").json()
    assert {row["deposit_status"] for row in registrations} == {"released"}

    [cancelled] = events_of("market.auction.cancelled.v1")
    assert cancelled["cancelled_by"] == "owner" and cancelled["actor_user_id"] == cast.uni_member.pk
    assert cancelled["reason"] == "" and cancelled["bid_count"] == 0
    assert cancelled["registered_user_ids"] == [cast.ent_member.pk, cast.ent2_member.pk]
    assert cancelled["registered_org_ids"] == [cast.enterprise.pk, cast.enterprise2.pk]
    assert sorted(cancelled["released_registration_ids"]) == sorted(row["id"] for row in registrations)

    # over: no second cancel, no bids, no deposits to confirm; the listing can be auctioned again
    again = _cancel(api, cast.uni_member, auction)
    assert again.status_code == 409 and again.json()["error"]["code"] == "auction_closed"
    bid = api(cast.ent_member).post(
        f"/api/v1/auctions/{auction.pk}/bids/", {"amount": "100000"}, format="json"
    )
    assert bid.status_code == 409 and bid.json()["error"]["code"] == "auction_closed"
    confirm = api(cast.uni_member).post(
        f"/api/v1/auctions/{auction.pk}/registrations/{registrations[1]['id']}/confirm-deposit/"
    )
    assert confirm.status_code == 409 and confirm.json()["error"]["code"] == "auction_closed"
    assert availability(api, patent) == "available"
    assert open_auction(cast.uni_member, patent).status == AuctionStatus.OPEN


def test_after_the_first_bid_only_an_administrator_cancels_and_must_say_why(cast, api, signed_up):
    auctions.bid_place(auction_id=signed_up.pk, user=cast.ent_member, amount=Decimal("100000"))
    refused = _cancel(api, cast.uni_member, signed_up, reason="买方太少")
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "auction_has_bids"
    for blank in ({}, {"reason": ""}, {"reason": "   "}):
        missing = _cancel(api, cast.platform_admin, signed_up, **blank)
        assert missing.status_code == 400 and "reason" in missing.json()["error"]["fields"], blank
    too_long = _cancel(api, cast.platform_admin, signed_up, reason="x" * 2001)
    assert too_long.status_code == 400 and "reason" in too_long.json()["error"]["fields"]
    assert Auction.objects.get(pk=signed_up.pk).status == AuctionStatus.OPEN

    response = _cancel(api, cast.platform_admin, signed_up, reason="挂牌材料存在权属争议")
    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    assert response.json()["cancel_reason"] == "挂牌材料存在权属争议"
    [cancelled] = events_of("market.auction.cancelled.v1")
    assert cancelled["cancelled_by"] == "administrator" and cancelled["bid_count"] == 1
    assert cancelled["reason"] == "挂牌材料存在权属争议"
    assert cancelled["released_registration_ids"] == []  # no deposits were asked for


def test_nobody_else_cancels(cast, api, signed_up):
    assert _cancel(api, None, signed_up).status_code == 401
    other_university = factories.user(factories.organization("university"))
    for user in (
        cast.ent_member,
        cast.ent2_member,
        cast.inst_member,
        cast.broker,
        cast.gov_member,
        other_university,
    ):
        response = _cancel(api, user, signed_up, reason="想取消")
        assert response.status_code == 403, user.username
    assert _cancel(api, cast.uni_member, Auction(pk=10**9)).status_code == 404
    assert Auction.objects.get(pk=signed_up.pk).status == AuctionStatus.OPEN
    assert not events_of("market.auction.cancelled.v1")


def test_the_closing_timer_does_nothing_for_a_cancelled_auction(cast, api, signed_up):
    auctions.bid_place(auction_id=signed_up.pk, user=cast.ent_member, amount=Decimal("100000"))
    assert _cancel(api, cast.platform_admin, signed_up, reason="专利权属存在争议").status_code == 200
    end_now(signed_up)
    assert tasks.close_due_auctions() == {"closed": 0, "failed": 0}
    assert auctions.auction_close(auction_id=signed_up.pk) is None
    assert Auction.objects.get(pk=signed_up.pk).status == AuctionStatus.CANCELLED
    assert not Deal.objects.exists()
    assert not events_of("market.auction.closed.v1") and not events_of("market.auction.failed.v1")


def test_a_closed_or_failed_auction_cannot_be_cancelled(cast, api, signed_up):
    end_now(signed_up)
    assert tasks.close_due_auctions() == {"closed": 0, "failed": 1}
    response = _cancel(api, cast.platform_admin, signed_up, reason="迟到的取消")
    assert response.status_code == 409 and response.json()["error"]["code"] == "auction_closed"
