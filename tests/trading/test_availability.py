"""A listing's availability after deals, through the API: reserved while a deal or an auction on it is under
way, sold or licensed once a deal completes (a non-exclusive licence leaves it on the market, an exclusive one
does not), available again when the deal is cancelled; opening an auction, an offer or a purchase checks it.
The state machine as a whole: a hypothesis property test that trades one listing in random orders."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from market.catalog.models import Patent
from market.trading.models import Auction, AuctionStatus, Deal, DealStage
from market.trading.services import auctions, deals, offers
from tests import factories
from tests.trading.helpers import availability, complete_deal, end_now, open_auction

pytestmark = pytest.mark.django_db

PRICE = Decimal("300000.00")


def _auction_body(listing, **change):
    now = timezone.now()
    return {
        "listing_kind": "patent" if hasattr(listing, "application_number") else "achievement",
        "listing_id": listing.pk,
        "starts_at": (now - timedelta(minutes=1)).isoformat(),  # so that ending it now is after its start
        "ends_at": (now + timedelta(days=2)).isoformat(),
        "starting_price": "100000",
        "bid_increment": "1000",
        **change,
    }


def _auction(api, user, listing):
    return api(user).post("/api/v1/auctions/", _auction_body(listing), format="json")


def _buy(api, user, listing, mode="transfer"):
    body = {
        "listing_kind": "patent",
        "listing_id": listing.pk,
        "amount": str(PRICE),
        "transaction_mode": mode,
    }
    return api(user).post("/api/v1/purchases/", body, format="json")


def _offer(api, user, listing):
    body = {
        "listing_kind": "patent",
        "listing_id": listing.pk,
        "amount": "50000",
        "transaction_mode": "transfer",
    }
    return api(user).post("/api/v1/offers/", body, format="json")


def _won_auction(cast, listing, mode: str) -> Deal:
    """An auction on the listing won by the first test enterprise: the deal it opened."""
    auction = open_auction(cast.uni_member, listing, transaction_mode=mode)
    auctions.auction_register(auction=auction, user=cast.ent_member)
    auctions.bid_place(auction_id=auction.pk, user=cast.ent_member, amount=Decimal("100000"))
    end_now(auction)
    auctions.auction_close(auction_id=auction.pk)
    return Deal.objects.get(auction=auction)


def test_a_patent_sold_by_auction_cannot_be_auctioned_offered_on_or_bought_again(cast, api):
    """The issue's report: a sold patent was put up for auction and answered 201."""
    patent = factories.patent(cast.university, price=None)
    deal = _won_auction(cast, patent, "transfer")
    assert availability(api, patent) == "reserved"
    complete_deal(deal, seller=cast.uni_member, buyer=cast.ent_member, registrar=cast.registrar)
    assert availability(api, patent) == "sold"
    again = _auction(api, cast.uni_member, patent)
    assert again.status_code == 409 and again.json()["error"]["code"] == "listing_sold"
    assert again.json()["error"]["message"] == "该信息已售出。"
    offer = _offer(api, cast.ent2_member, patent)
    assert offer.status_code == 409 and offer.json()["error"]["code"] == "listing_sold"
    Patent.objects.filter(pk=patent.pk).update(price=PRICE)
    assert _buy(api, cast.ent2_member, patent).json()["error"]["code"] == "listing_sold"
    assert (
        api(None).get("/api/v1/patents/", {"page_size": 100}).json()["results"][0]["availability"] == "sold"
    )


def test_a_non_exclusive_licence_leaves_the_listing_on_the_market_an_exclusive_one_does_not(cast, api):
    shared = factories.patent(cast.university, price=PRICE)
    first = Deal.objects.get(
        purchase_id=_buy(api, cast.ent_member, shared, "licence_non_exclusive").json()["id"]
    )
    complete_deal(first, seller=cast.uni_member, buyer=cast.ent_member, registrar=cast.registrar)
    assert availability(api, shared) == "licensed"
    second = _buy(api, cast.ent2_member, shared, "transfer")  # a licensed patent may still be sold
    assert second.status_code == 201
    complete_deal(
        Deal.objects.get(pk=second.json()["deal_id"]),
        seller=cast.uni_member,
        buyer=cast.ent2_member,
        registrar=cast.registrar,
    )
    assert availability(api, shared) == "sold"

    exclusive = factories.patent(cast.university, price=PRICE)
    deal = Deal.objects.get(
        purchase_id=_buy(api, cast.ent_member, exclusive, "licence_exclusive").json()["id"]
    )
    complete_deal(deal, seller=cast.uni_member, buyer=cast.ent_member, registrar=cast.registrar)
    assert availability(api, exclusive) == "exclusively_licensed"
    refused = _auction(api, cast.uni_member, exclusive)
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "listing_exclusively_licensed"
    assert _buy(api, cast.ent2_member, exclusive).json()["error"]["code"] == "listing_exclusively_licensed"


def test_a_cancelled_deal_makes_the_listing_available_again(cast, api):
    patent = factories.patent(cast.university, price=None)
    deal = _won_auction(cast, patent, "transfer")
    blocked = _auction(api, cast.uni_member, patent)
    assert blocked.status_code == 409 and blocked.json()["error"]["code"] == "listing_reserved"
    cancelled = api(cast.ent_member).post(
        f"/api/v1/deals/{deal.pk}/cancel/", {"reason": "资金未到位"}, format="json"
    )
    assert cancelled.status_code == 200
    assert availability(api, patent) == "available"
    assert _auction(api, cast.uni_member, patent).status_code == 201


def test_an_offer_accepted_after_the_listing_was_reserved_opens_no_second_deal(cast, api):
    patent = factories.patent(cast.university, price=None)
    offer = offers.offer_make(
        user=cast.ent_member,
        listing_kind="patent",
        listing_id=patent.pk,
        amount=PRICE,
        transaction_mode="transfer",
    )
    open_auction(cast.uni_member, patent)  # the owner chose to auction it meanwhile
    accepted = api(cast.uni_member).post(f"/api/v1/offers/{offer.pk}/accept/")
    assert accepted.status_code == 409 and accepted.json()["error"]["code"] == "listing_reserved"
    assert not Deal.objects.exists()
    assert api(cast.ent_member).get(f"/api/v1/offers/{offer.pk}/").json()["status"] == "open"


def test_an_achievement_shows_its_availability_too(cast, api):
    achievement = factories.achievement(cast.university, pricing_method="open_to_offers")
    assert availability(api, achievement) == "available"
    offer = offers.offer_make(
        user=cast.ent_member,
        listing_kind="achievement",
        listing_id=achievement.pk,
        amount=PRICE,
        transaction_mode="licence_exclusive",
    )
    offers.offer_accept(offer=offer, user=cast.uni_member)
    assert availability(api, achievement) == "reserved"
    complete_deal(
        Deal.objects.get(offer=offer), seller=cast.uni_member, buyer=cast.ent_member, registrar=cast.registrar
    )
    assert availability(api, achievement) == "exclusively_licensed"


# ---- the state machine -------------------------------------------------------------------------------------

MODES = ("transfer", "investment", "licence_exclusive", "licence_non_exclusive", "service")
#: what the refusal of a listing that cannot be traded says, by the availability the model expects
REFUSED = {
    "reserved": "listing_reserved",
    "sold": "listing_sold",
    "exclusively_licensed": "listing_exclusively_licensed",
}


class ListingTrades(RuleBasedStateMachine):
    """One priced university patent, bought, auctioned, completed and cancelled in random orders through the
    API and the services. The model below says, independently of the code, what the listing must be: the
    strongest thing a completed deal left of it, or reserved while a deal or an auction runs."""

    def __init__(self, cast, api) -> None:
        super().__init__()
        self.cast, self.api = cast, api
        self.patent = factories.patent(cast.university, price=PRICE)
        self.completed: list[str] = []
        self.deal: Deal | None = None
        self.auction: Auction | None = None

    def expected(self) -> str:
        if {"transfer", "investment"} & set(self.completed):
            return "sold"
        if "licence_exclusive" in self.completed:
            return "exclusively_licensed"
        if self.deal is not None or self.auction is not None:
            return "reserved"
        return "licensed" if "licence_non_exclusive" in self.completed else "available"

    def _check_refusal(self, response) -> bool:
        """True when the request went through; otherwise it must be the refusal the model expects."""
        expected = self.expected()
        if expected in REFUSED:
            assert response.status_code == 409 and response.json()["error"]["code"] == REFUSED[expected]
            return False
        assert response.status_code == 201, response.content
        return True

    @rule(mode=st.sampled_from(MODES), second_buyer=st.booleans())
    def buy(self, mode: str, second_buyer: bool) -> None:
        buyer = self.cast.ent2_member if second_buyer else self.cast.ent_member
        response = _buy(self.api, buyer, self.patent, mode)
        if self._check_refusal(response):
            self.deal = Deal.objects.get(pk=response.json()["deal_id"])

    @rule(mode=st.sampled_from(MODES))
    def open_auction(self, mode: str) -> None:
        body = _auction_body(self.patent, transaction_mode=mode)
        response = self.api(self.cast.uni_member).post("/api/v1/auctions/", body, format="json")
        if self.auction is not None:
            assert response.json()["error"]["code"] == "auction_exists"
        elif self._check_refusal(response):
            self.auction = Auction.objects.get(pk=response.json()["id"])

    @precondition(lambda self: self.auction is not None)
    @rule()
    def cancel_auction(self) -> None:
        assert self.auction is not None
        response = self.api(self.cast.uni_member).post(f"/api/v1/auctions/{self.auction.pk}/cancel/")
        assert response.status_code == 200
        self.auction = None

    @precondition(lambda self: self.auction is not None)
    @rule()
    def win_auction(self) -> None:
        assert self.auction is not None
        auctions.auction_register(auction=self.auction, user=self.cast.ent_member)
        auctions.bid_place(auction_id=self.auction.pk, user=self.cast.ent_member, amount=Decimal("100000"))
        end_now(self.auction)
        assert auctions.auction_close(auction_id=self.auction.pk).status == AuctionStatus.CLOSED
        self.deal, self.auction = Deal.objects.get(auction=self.auction), None

    @precondition(lambda self: self.deal is not None)
    @rule()
    def complete(self) -> None:
        assert self.deal is not None
        complete_deal(
            self.deal,
            seller=self.cast.uni_member,
            buyer=self.deal.buyer.members.first(),
            registrar=self.cast.registrar,
        )
        self.completed.append(self.deal.transaction_mode)
        self.deal = None

    @precondition(lambda self: self.deal is not None)
    @rule()
    def cancel_deal(self) -> None:
        assert self.deal is not None
        deals.deal_cancel(deal=self.deal, user=self.cast.uni_member, reason="双方协商解除")
        self.deal = None

    @invariant()
    def availability_is_what_the_model_says(self) -> None:
        assert availability(self.api, self.patent) == self.expected()

    @invariant()
    def at_most_one_deal_is_under_way(self) -> None:
        under_way = Deal.objects.filter(patent=self.patent).exclude(
            stage__in=(DealStage.COMPLETED, DealStage.CANCELLED)
        )
        assert under_way.count() == (0 if self.deal is None else 1)


def test_availability_follows_every_order_of_trades(cast, api, unthrottled):
    run_state_machine_as_test(
        lambda: ListingTrades(cast, api),
        settings=settings(
            max_examples=25,
            stateful_step_count=10,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
