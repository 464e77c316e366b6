"""Who may call which trading endpoint: one row per endpoint (method and route), the status each role gets
on a fresh market where that role stands in its usual place. The README's role table says the same in
words. A route added to the trading URLs without a row here fails `test_every_trading_endpoint_has_a_row`.

The roles and where they stand: the university sells (its members own the listings, auctions and deals
below; `org_admin` is its administrator), the enterprise buys (offers, purchases, bids, deals; it also posted
the demand), the institute proposed a solution to that demand and lodged the objection, the broker is the
buyer's mandated broker on the deals, the government members (a viewer and a registrar) belong to the county
bureau of the university's county, the platform administrator reviews and rules."""

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from functools import cached_property
from typing import Any

import pytest
from django.urls import URLPattern, URLResolver
from django.utils import timezone

from market.trading import urls as trading_urls
from market.trading.models import Auction, Deal, DealMilestone, DealObjection, Offer, Proposal, Purchase
from market.trading.services import auctions, deals, offers, proposals, purchases
from tests import factories
from tests.conftest import Cast
from tests.trading.helpers import deal_between, noticed_deal, open_auction

pytestmark = pytest.mark.django_db

#: role -> the cast member who plays it (None: anonymous)
ROLES: dict[str, str | None] = {
    "anonymous": None,
    "platform_admin": "platform_admin",
    "org_admin": "uni_admin",
    "university": "uni_member",
    "institute": "inst_member",
    "enterprise": "ent_member",
    "broker": "broker",
    "government": "gov_member",
    "registrar": "registrar",
}


def expect(default: int, **by_role: int) -> dict[str, int]:
    unknown = set(by_role) - set(ROLES)
    assert not unknown, unknown
    return {role: by_role.get(role, default) for role in ROLES}


PUBLIC = expect(200)
SIGNED_IN = expect(200, anonymous=401)
#: the seller's members (and nobody else) may; the parties and the broker see the thing, oversight reads deals
SELLER = {"university": 200, "org_admin": 200}
PARTIES = {**SELLER, "enterprise": 200}
OVERSIGHT = {"platform_admin": 403, "government": 403, "registrar": 403}


class World:
    """What the endpoints act on, built on first use so that each case pays only for its own."""

    def __init__(self, cast: Cast) -> None:
        self.cast = cast

    @cached_property
    def patent(self):
        return factories.patent(self.cast.university, price=None)

    @cached_property
    def auction(self) -> Auction:
        """Open, the enterprise signed up (no deposit), no bid yet."""
        auction = open_auction(self.cast.uni_member, self.patent)
        auctions.auction_register(auction=auction, user=self.cast.ent_member)
        return auction

    @cached_property
    def pending_deposit(self) -> tuple[Auction, int]:
        auction = open_auction(self.cast.uni_member, self.patent, deposit_amount=Decimal("10000"))
        registration, _created = auctions.auction_register(auction=auction, user=self.cast.ent_member)
        return auction, registration.pk

    @cached_property
    def offer(self) -> Offer:
        """The enterprise's opening offer: the owner's turn."""
        return offers.offer_make(
            user=self.cast.ent_member,
            listing_kind="patent",
            listing_id=self.patent.pk,
            amount=Decimal("250000"),
            transaction_mode="transfer",
        )

    @cached_property
    def listed(self):
        return factories.patent(self.cast.university, price=Decimal("260000"))

    @cached_property
    def purchase(self) -> Purchase:
        return purchases.purchase_make(
            user=self.cast.ent_member,
            listing_kind="patent",
            listing_id=self.listed.pk,
            amount=Decimal("260000"),
            transaction_mode="transfer",
        )

    @cached_property
    def demand(self):
        return factories.demand(self.cast.enterprise)

    @cached_property
    def proposal(self) -> Proposal:
        """The institute's proposal, shortlisted by the enterprise."""
        proposal = proposals.proposal_submit(
            demand=self.demand,
            user=self.cast.inst_member,
            summary="方案",
            approach="……",
            amount=Decimal("300000"),
            transaction_mode="service",
        )
        return proposals.proposal_shortlist(proposal=proposal, user=self.cast.ent_member)

    def deal(self, stage: str = "negotiating", *, broker: bool = True) -> Deal:
        """The university sells to the enterprise (whose broker is mandated), taken to `stage`: negotiating,
        signed, submitted (for registration) or registered."""
        cast = self.cast
        deal = deal_between(cast.uni_member, cast.ent_member)
        if broker:
            deals.deal_broker_assign(deal=deal, user=cast.ent_member, broker_id=cast.broker.pk)
        if stage == "negotiating":
            return deal
        for party in (cast.ent_member, cast.uni_member):
            deals.deal_sign(deal=deal, user=party)
        if stage == "signed":
            return deal
        deals.deal_registration_submit(
            deal=deal,
            user=cast.uni_member,
            contract_type="transfer",
            contract_value=deal.amount,
            technology_transaction_value=deal.amount,
        )
        if stage == "submitted":
            return deal
        assert stage == "registered", stage
        return deals.deal_registration_approve(deal=deal, user=cast.registrar, registration_number="R-1")

    @cached_property
    def milestone(self) -> DealMilestone:
        return deals.deal_milestone_add(deal=self.deal(), user=self.cast.ent_member, title="首付款")

    @cached_property
    def noticed(self) -> Deal:
        """A negotiated sale of the university's achievement, under public notice."""
        return noticed_deal(self.cast.uni_member, self.cast.ent_member)

    @cached_property
    def objection(self) -> DealObjection:
        return deals.objection_lodge(deal=self.noticed, user=self.cast.inst_member, text="价格偏低")


def _auction_body(world: World) -> dict[str, Any]:
    now = timezone.now()
    return {
        "listing_kind": "patent",
        "listing_id": world.patent.pk,
        "starts_at": (now + timedelta(minutes=1)).isoformat(),
        "ends_at": (now + timedelta(days=2)).isoformat(),
        "starting_price": "100000",
        "bid_increment": "1000",
    }


def _trade_body(listing: Any, amount: str) -> dict[str, Any]:
    return {
        "listing_kind": "patent",
        "listing_id": listing.pk,
        "amount": amount,
        "transaction_mode": "transfer",
    }


SUBMISSION = {
    "contract_type": "transfer",
    "contract_value": "300000",
    "technology_transaction_value": "300000",
}
PROPOSAL = {"summary": "方案", "approach": "……", "amount": "300000", "transaction_mode": "service"}


@dataclass(frozen=True)
class Row:
    method: str
    #: the route as the URL map writes it, each parameter as {name}
    route: str
    #: the path to call and the body to send, on a fresh world
    call: Callable[[World], tuple[str, dict[str, Any]]]
    expected: dict[str, int]


def _deal_step(stage: str, step: str, body: dict[str, Any] | None = None, **options: bool):
    return lambda w: (f"/api/v1/deals/{w.deal(stage, **options).pk}/{step}/", body or {})


ROWS = [
    # ---- demands and proposals (揭榜) ----
    Row(
        "GET",
        "demands/{demand_id}/proposals/",
        lambda w: (f"/api/v1/demands/{w.demand.pk}/proposals/", {}),
        SIGNED_IN,
    ),
    Row(
        "POST",
        "demands/{demand_id}/proposals/",
        lambda w: (f"/api/v1/demands/{w.demand.pk}/proposals/", PROPOSAL),
        expect(403, anonymous=401, university=201, org_admin=201, institute=201),
    ),
    Row("GET", "proposals/", lambda w: ("/api/v1/proposals/", {}), SIGNED_IN),
    Row(
        "GET",
        "proposals/{pk}/",
        lambda w: (f"/api/v1/proposals/{w.proposal.pk}/", {}),
        expect(404, anonymous=401, institute=200, enterprise=200),
    ),
    Row(
        "POST",
        "proposals/{pk}/shortlist/",
        lambda w: (f"/api/v1/proposals/{w.proposal.pk}/shortlist/", {}),
        # (already shortlisted: the enterprise decides, and is told it happened)
        expect(404, anonymous=401, institute=403, enterprise=409),
    ),
    Row(
        "POST",
        "proposals/{pk}/accept/",
        lambda w: (f"/api/v1/proposals/{w.proposal.pk}/accept/", {}),
        expect(404, anonymous=401, institute=403, enterprise=200),
    ),
    # ---- auctions ----
    Row("GET", "auctions/", lambda w: ("/api/v1/auctions/", {}), PUBLIC),
    Row(
        "POST",
        "auctions/",
        lambda w: ("/api/v1/auctions/", _auction_body(w)),
        expect(403, anonymous=401, **{k: 201 for k in SELLER}),
    ),
    Row("GET", "auctions/{pk}/", lambda w: (f"/api/v1/auctions/{w.auction.pk}/", {}), PUBLIC),
    Row("GET", "auctions/{pk}/bids/", lambda w: (f"/api/v1/auctions/{w.auction.pk}/bids/", {}), PUBLIC),
    Row(
        "POST",
        "auctions/{pk}/bids/",
        lambda w: (f"/api/v1/auctions/{w.auction.pk}/bids/", {"amount": "100000"}),
        expect(403, anonymous=401, enterprise=201),
    ),
    Row(
        "POST",
        "auctions/{pk}/cancel/",
        lambda w: (f"/api/v1/auctions/{w.auction.pk}/cancel/", {"reason": "权属争议"}),
        expect(403, anonymous=401, platform_admin=200, **SELLER),
    ),
    Row(
        "GET",
        "auctions/{pk}/registrations/",
        lambda w: (f"/api/v1/auctions/{w.auction.pk}/registrations/", {}),
        SIGNED_IN,
    ),
    Row(
        "POST",
        "auctions/{pk}/registrations/",
        lambda w: (f"/api/v1/auctions/{w.auction.pk}/registrations/", {}),
        expect(403, anonymous=401, enterprise=200),  # already signed up: 200, not 201
    ),
    Row(
        "POST",
        "auctions/{pk}/registrations/{registration_id}/confirm-deposit/",
        lambda w: (
            f"/api/v1/auctions/{w.pending_deposit[0].pk}/registrations/{w.pending_deposit[1]}/confirm-deposit/",
            {},
        ),
        expect(403, anonymous=401, **SELLER),
    ),
    # ---- offers ----
    Row("GET", "offers/", lambda w: ("/api/v1/offers/", {}), SIGNED_IN),
    Row(
        "POST",
        "offers/",
        lambda w: ("/api/v1/offers/", _trade_body(w.patent, "250000")),
        expect(403, anonymous=401, enterprise=201),
    ),
    Row("GET", "offers/decline-reasons/", lambda w: ("/api/v1/offers/decline-reasons/", {}), SIGNED_IN),
    Row(
        "GET",
        "offers/{pk}/",
        lambda w: (f"/api/v1/offers/{w.offer.pk}/", {}),
        expect(404, anonymous=401, **PARTIES),
    ),
    Row(
        "POST",
        "offers/{pk}/counter/",
        lambda w: (f"/api/v1/offers/{w.offer.pk}/counter/", {"amount": "280000"}),
        expect(404, anonymous=401, enterprise=409, **SELLER),  # the owner's turn
    ),
    Row(
        "POST",
        "offers/{pk}/accept/",
        lambda w: (f"/api/v1/offers/{w.offer.pk}/accept/", {}),
        expect(404, anonymous=401, enterprise=409, **SELLER),
    ),
    Row(
        "POST",
        "offers/{pk}/decline/",
        lambda w: (f"/api/v1/offers/{w.offer.pk}/decline/", {"reason_code": "price"}),
        expect(404, anonymous=401, **PARTIES),
    ),
    # ---- purchases at the listed price ----
    Row("GET", "purchases/", lambda w: ("/api/v1/purchases/", {}), SIGNED_IN),
    Row(
        "POST",
        "purchases/",
        lambda w: ("/api/v1/purchases/", _trade_body(w.listed, "260000")),
        expect(403, anonymous=401, enterprise=201),
    ),
    Row(
        "GET",
        "purchases/{pk}/",
        lambda w: (f"/api/v1/purchases/{w.purchase.pk}/", {}),
        expect(404, anonymous=401, **PARTIES),
    ),
    # ---- deals: parties and their broker act, oversight reads ----
    Row("GET", "deals/", lambda w: ("/api/v1/deals/", {}), SIGNED_IN),
    Row(
        "GET",
        "deals/{pk}/",
        lambda w: (f"/api/v1/deals/{w.deal().pk}/", {}),
        expect(200, anonymous=401, institute=404),
    ),
    Row(
        "POST",
        "deals/{pk}/sign/",
        _deal_step("negotiating", "sign"),
        expect(403, anonymous=401, institute=404, **PARTIES),
    ),
    Row(
        "POST",
        "deals/{pk}/registration/",
        _deal_step("signed", "registration", SUBMISSION),
        expect(403, anonymous=401, institute=404, broker=200, **PARTIES),
    ),
    Row(
        "POST",
        "deals/{pk}/registration/approve/",
        _deal_step("submitted", "registration/approve", {"registration_number": "R-2"}),
        expect(403, anonymous=401, institute=404, platform_admin=200, registrar=200),
    ),
    Row(
        "POST",
        "deals/{pk}/registration/return/",
        _deal_step("submitted", "registration/return", {"reason": "缺少附件"}),
        expect(403, anonymous=401, institute=404, platform_admin=200, registrar=200),
    ),
    Row(
        "POST",
        "deals/{pk}/advance/",
        _deal_step("registered", "advance", {"to": "paid"}),
        expect(403, anonymous=401, institute=404, **SELLER),
    ),
    Row(
        "POST",
        "deals/{pk}/cancel/",
        _deal_step("negotiating", "cancel", {"reason": "预算调整"}),
        expect(403, anonymous=401, institute=404, **PARTIES),
    ),
    Row(
        "POST",
        "deals/{pk}/broker/",
        lambda w: (f"/api/v1/deals/{w.deal(broker=False).pk}/broker/", {"broker_id": w.cast.broker.pk}),
        expect(403, anonymous=401, institute=404, broker=404, **PARTIES),
    ),
    Row(
        "POST",
        "deals/{pk}/milestones/",
        _deal_step("negotiating", "milestones", {"title": "技术培训"}),
        expect(403, anonymous=401, institute=404, broker=201, **{k: 201 for k in PARTIES}),
    ),
    Row(
        "POST",
        "deals/{pk}/milestones/{milestone_id}/done/",
        lambda w: (f"/api/v1/deals/{w.milestone.deal_id}/milestones/{w.milestone.pk}/done/", {}),
        expect(403, anonymous=401, institute=404, broker=200, **PARTIES),
    ),
    Row(
        "POST",
        "deals/{pk}/milestones/{milestone_id}/waive/",
        lambda w: (
            f"/api/v1/deals/{w.milestone.deal_id}/milestones/{w.milestone.pk}/waive/",
            {"reason": "不再需要"},
        ),
        expect(403, anonymous=401, institute=404, **PARTIES),
    ),
    Row(
        "POST",
        "deals/{pk}/documents/",
        _deal_step("negotiating", "documents", {"title": "合同", "url": "https://example.org/c.pdf"}),
        expect(403, anonymous=401, institute=404, broker=201, **{k: 201 for k in PARTIES}),
    ),
    Row(
        "GET",
        "registrations/",
        lambda w: ("/api/v1/registrations/", {}),
        expect(403, anonymous=401, platform_admin=200, registrar=200),
    ),
    # ---- public notices (公示) and objections ----
    Row("GET", "notices/", lambda w: ("/api/v1/notices/", {}), PUBLIC),
    Row("GET", "notices/{pk}/", lambda w: (f"/api/v1/notices/{w.noticed.pk}/", {}), PUBLIC),
    Row(
        "POST",
        "notices/{pk}/objections/",
        lambda w: (f"/api/v1/notices/{w.noticed.pk}/objections/", {"text": "价格偏低"}),
        expect(201, anonymous=401),
    ),
    Row("GET", "objections/", lambda w: ("/api/v1/objections/", {}), SIGNED_IN),
    Row(
        "GET",
        "objections/{pk}/",
        lambda w: (f"/api/v1/objections/{w.objection.pk}/", {}),
        expect(404, anonymous=401, platform_admin=200, government=200, registrar=200, institute=200),
    ),
    Row(
        "POST",
        "objections/{pk}/rule/",
        lambda w: (f"/api/v1/objections/{w.objection.pk}/rule/", {"upheld": False, "ruling": "定价合理"}),
        expect(403, anonymous=401, platform_admin=200),
    ),
]


def _route(pattern: URLPattern | URLResolver) -> str:
    """`^deals/(?P<pk>[^/.]+)/sign/$` and `demands/<int:demand_id>/proposals/` as `deals/{pk}/sign/` and
    `demands/{demand_id}/proposals/`."""
    text = str(pattern.pattern).removeprefix("^").removesuffix("$")
    text = re.sub(r"\(\?P<(\w+)>[^)]*\)", r"{\1}", text)
    return re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", text)


METHODS = ("get", "post", "put", "patch", "delete")  # HEAD and OPTIONS answer as GET does, or describe


def _methods(pattern: URLPattern) -> set[str]:
    """A viewset's route lists its actions by method (DRF adds `head` to that mapping once the route served a
    GET, hence the filter); another view, the handlers it has."""
    actions = getattr(pattern.callback, "actions", None)
    view_class = pattern.callback.cls
    return {
        method.upper()
        for method in METHODS
        if (method in actions if actions is not None else hasattr(view_class, method))
    }


def test_every_trading_endpoint_has_a_row():
    endpoints = {
        (method, _route(pattern))
        for pattern in trading_urls.urlpatterns
        if isinstance(pattern, URLPattern)
        for method in _methods(pattern)
    }
    rows = [(row.method, row.route) for row in ROWS]
    assert len(rows) == len(set(rows)), "a row appears twice"
    assert set(rows) == endpoints


@pytest.mark.parametrize(
    ("row", "role"),
    [pytest.param(row, role, id=f"{row.method} {row.route} as {role}") for row in ROWS for role in ROLES],
)
def test_who_may_call_each_trading_endpoint(cast, api, row: Row, role: str):
    path, body = row.call(World(cast))
    name = ROLES[role]
    client = api(None if name is None else getattr(cast, name))
    response = getattr(client, row.method.lower())(path, body, format="json")
    assert response.status_code == row.expected[role], response.content
