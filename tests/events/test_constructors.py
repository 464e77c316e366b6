"""The `.of()` constructors where they decide something: which model attribute becomes which payload field,
how optional moments and amounts are written. (Every call site is also covered by its service's tests.)"""

from datetime import UTC, date, datetime
from decimal import Decimal
from types import SimpleNamespace as Row

from market.events.catalogue import (
    AuctionClosed,
    AuctionDepositConfirmed,
    BidOutbid,
    DealContractRegistered,
    DealOpened,
    OfferDeclined,
    OrganizationReviewed,
)
from tests import factories

DEAL = {
    "pk": 3,
    "version": 2,
    "stage": "negotiating",
    "amount": Decimal("300000"),
    "party_org_ids": [1, 2],
    "broker_id": None,
    "title": "锂电池专利转让",
    "seller_id": 1,
    "buyer_id": 2,
    "transaction_mode": "transfer",
    "profile": lambda: factories.deal_profile(),
}
ACTOR = Row(pk=9)


def test_deal_opened_writes_its_notice_end_only_when_it_has_one():
    without = DealOpened.of(Row(**DEAL, notice_ends_at=None), actor=ACTOR, source="offer")
    assert without.notice_ends_at is None and without.amount == "300000.00" and without.actor_user_id == 9
    ends = datetime(2027, 1, 15, 9, 30, tzinfo=UTC)
    with_notice = DealOpened.of(Row(**DEAL, notice_ends_at=ends), actor=ACTOR, source="offer")
    assert with_notice.notice_ends_at == ends.isoformat()
    assert with_notice.key == "deal:3" and with_notice.version == 2


def test_contract_registration_carries_the_registered_contract():
    deal = Row(
        **DEAL,
        contract_type="transfer",
        contract_value=Decimal("300000"),
        technology_transaction_value=Decimal("250000.5"),
        registration_number="3301062026000123",
        registered_on=date(2026, 11, 2),
    )
    event = DealContractRegistered.of(deal, actor=ACTOR)
    assert (event.contract_value, event.technology_transaction_value) == ("300000.00", "250000.50")
    assert event.registered_on == "2026-11-02" and event.registration_number == "3301062026000123"


def test_a_closed_auction_is_won_by_its_leading_bid():
    top = Row(user_id=21, organization_id=22, amount=Decimal("520000"))
    auction = Row(pk=7, version=5, leading_bid=top, owner_id=1, title="高镍正极材料包覆技术")
    event = AuctionClosed.of(auction, deal=Row(pk=30))
    assert (event.winner_user_id, event.winner_org_id, event.amount, event.deal_id) == (
        21,
        22,
        "520000.00",
        30,
    )


def test_outbid_names_the_previous_leader_and_is_keyed_by_the_auction():
    ends = datetime(2030, 1, 1, 2, 0, tzinfo=UTC)
    auction = Row(pk=7, version=5, title="高镍正极材料包覆技术", ends_at=ends)
    bid = Row(pk=71, amount=Decimal("520000"))
    previous = Row(user_id=11, organization_id=12, amount=Decimal("500000"))
    event = BidOutbid.of(bid, auction=auction, previous=previous)
    assert (event.outbid_user_id, event.outbid_org_id, event.outbid_amount) == (11, 12, "500000.00")
    assert event.key == "auction:7" and event.aggregate_id == 71 and event.version == 5


def test_a_declined_offer_carries_who_declined_and_why():
    offer = Row(
        pk=5,
        version=3,
        listing_kind="patent",
        listing_id=9,
        title="一种锂离子电池正极材料",
        buyer_id=2,
        buyer_user_id=8,
        owner_id=1,
        amount=Decimal("1"),
        transaction_mode="license",
        decline_reason="price",
        decline_text="价格过低",
        declined_by="seller",
    )
    event = OfferDeclined.of(offer, actor=ACTOR)
    assert (event.reason_code, event.reason_text, event.declined_by) == ("price", "价格过低", "seller")


def test_registration_facts_and_reviews_read_their_rows():
    auction = Row(pk=7, version=1, owner_id=1, title="t")
    registration = Row(pk=4, organization_id=2, user_id=8, deposit_status="confirmed")
    confirmed = AuctionDepositConfirmed.of(auction, registration, actor_user_id=9)
    assert confirmed.type == "market.auction.deposit_confirmed.v1" and confirmed.actor_user_id == 9
    reviewed = OrganizationReviewed.of(Row(pk=2, version=3, status="rejected", review_reason="材料不全"))
    assert reviewed.data() == {
        "aggregate": "organization",
        "aggregate_id": 2,
        "version": 3,
        "status": "rejected",
        "reason": "材料不全",
    }
