"""Purchases at the listed price (挂牌) through the API: who may buy, what a valid acceptance is, the deal it
opens (with a public notice where a negotiated price would get one), the listing reserved, and the events.
Two buyers at once: tests/trading/test_concurrency.py."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from market.accounts.models import OrganizationType
from market.trading.models import Deal, DealStage, Purchase
from market.trading.services import deals
from tests import factories
from tests.trading.helpers import availability, events_of, open_auction

pytestmark = pytest.mark.django_db

PRICE = "260000.00"


def _buy(api, user, listing, amount=PRICE, mode="transfer", kind=None):
    kind = kind or ("patent" if hasattr(listing, "application_number") else "achievement")
    body = {"listing_kind": kind, "listing_id": listing.pk, "amount": amount, "transaction_mode": mode}
    return api(user).post("/api/v1/purchases/", body, format="json")


@pytest.fixture
def listed(cast):
    """A university's patent with an asking price (挂牌价)."""
    return factories.patent(cast.university, price=Decimal(PRICE))


def test_an_enterprise_buys_at_the_listed_price_and_the_listing_is_reserved(cast, api, listed):
    assert availability(api, listed) == "available"
    bought = _buy(api, cast.ent_member, listed)
    assert bought.status_code == 201, bought.content
    data = bought.json()
    deal = Deal.objects.get(purchase_id=data["id"])
    assert data["deal_id"] == deal.pk and data["amount"] == PRICE and data["notice_ends_at"] is None
    assert (deal.seller_id, deal.buyer_id, deal.patent_id, deal.amount, deal.stage) == (
        cast.university.pk,
        cast.enterprise.pk,
        listed.pk,
        Decimal(PRICE),
        DealStage.NEGOTIATING,
    )
    assert availability(api, listed) == "reserved"

    # first valid acceptance wins: whoever comes next finds the listing reserved, whatever the way in
    second = _buy(api, cast.ent2_member, listed)
    assert second.status_code == 409 and second.json()["error"]["code"] == "listing_reserved"
    assert second.json()["error"]["message"] == "该信息已被预留：有正在进行的交易或拍卖。"
    auction = api(cast.uni_member).post(
        "/api/v1/auctions/",
        {
            "listing_kind": "patent",
            "listing_id": listed.pk,
            "starts_at": timezone.now().isoformat(),
            "ends_at": (timezone.now() + timedelta(days=1)).isoformat(),
            "starting_price": "1000",
            "bid_increment": "100",
        },
        format="json",
    )
    assert auction.status_code == 409 and auction.json()["error"]["code"] == "listing_reserved"

    [made] = events_of("market.purchase.made.v1")
    assert (made["purchase_id"], made["deal_id"], made["amount"], made["owner_org_id"]) == (
        data["id"],
        deal.pk,
        PRICE,
        cast.university.pk,
    )
    assert made["buyer_user_id"] == cast.ent_member.pk and made["notice_ends_at"] is None
    [opened] = events_of("market.deal.opened.v1")
    assert opened["source"] == "purchase" and opened["deal_id"] == deal.pk

    # the parties see the purchase and its deal; nobody else does
    for party in (cast.ent_member, cast.uni_member):
        assert api(party).get(f"/api/v1/purchases/{data['id']}/").status_code == 200
        assert [row["id"] for row in api(party).get("/api/v1/purchases/").json()["results"]] == [data["id"]]
        assert api(party).get(f"/api/v1/deals/{deal.pk}/").json()["purchase"] == data["id"]
    assert api(cast.ent2_member).get(f"/api/v1/purchases/{data['id']}/").status_code == 404
    assert api(None).get("/api/v1/purchases/").status_code == 401


def test_only_an_enterprise_member_buys_and_never_from_its_own_organization(cast, api, listed):
    assert _buy(api, None, listed).status_code == 401
    for user in (cast.uni_member, cast.inst_member, cast.broker, cast.gov_member, cast.orgless):
        response = _buy(api, user, listed)
        assert response.status_code == 403, user.username
    pending_enterprise = factories.organization(OrganizationType.ENTERPRISE, status="pending")
    assert _buy(api, factories.user(pending_enterprise), listed).status_code == 403
    # an enterprise that owns a listing may not buy it
    own = factories.patent(cast.enterprise, price=Decimal(PRICE))
    refused = _buy(api, cast.ent_admin, own)
    assert (
        refused.status_code == 403
        and refused.json()["error"]["message"] == "该信息属于您所在的机构，不能购买。"
    )
    assert not Purchase.objects.exists() and not Deal.objects.exists()
    assert availability(api, listed) == "available"
    assert _buy(api, cast.ent_admin, listed).status_code == 201  # an org admin is a member too


def test_an_acceptance_is_valid_only_at_the_listed_price_of_a_listed_published_listing(cast, api, listed):
    changed = _buy(api, cast.ent_member, listed, amount="250000")
    assert changed.status_code == 409 and changed.json()["error"]["code"] == "price_changed"
    assert changed.json()["error"]["fields"]["amount"] == ["挂牌价为 260000.00 元。"]
    negotiable = factories.patent(cast.university, price=None)
    assert _buy(api, cast.ent_member, negotiable).json()["error"]["code"] == "not_listed_price"
    for method in ("negotiated", "open_to_offers", "auction"):
        achievement = factories.achievement(cast.university, pricing_method=method)
        answer = _buy(api, cast.ent_member, achievement, amount="500000")
        assert answer.json()["error"]["code"] == "not_listed_price", method
    draft = factories.patent(cast.university, status="draft", price=Decimal(PRICE))
    unpublished = _buy(api, cast.ent_member, draft)
    assert unpublished.status_code == 400 and "listing_id" in unpublished.json()["error"]["fields"]
    for change, field in (
        ({"amount": "-1"}, "amount"),
        ({"amount": "abc"}, "amount"),
        ({"mode": "sale"}, "transaction_mode"),
        ({"kind": "demand"}, "listing_kind"),
    ):
        response = _buy(api, cast.ent_member, listed, **change)
        assert response.status_code == 400 and field in response.json()["error"]["fields"], change
    assert not Deal.objects.exists() and availability(api, listed) == "available"
    assert _buy(api, cast.ent_member, listed).status_code == 201


def test_a_public_institutions_listed_achievement_is_sold_under_public_notice(cast, api):
    """The 公示 rule of negotiated prices: the deal waits out the notice, objections may stop it, and an
    upheld objection frees the listing for the next buyer."""
    achievement = factories.achievement(cast.institute, pricing_method="listing", price=Decimal("500000"))
    bought = _buy(api, cast.ent_member, achievement, amount="500000.00", mode="licence_exclusive")
    assert bought.status_code == 201, bought.content
    deal = Deal.objects.get(purchase_id=bought.json()["id"])
    assert deal.notice_ends_at is not None and deal.notice_ends_at - deal.notice_starts_at == timedelta(
        days=15
    )
    assert bought.json()["notice_ends_at"] is not None
    assert events_of("market.purchase.made.v1")[0]["notice_ends_at"] == deal.notice_ends_at.isoformat()
    assert [row["id"] for row in api(None).get("/api/v1/notices/").json()["results"]] == [deal.pk]
    signing = api(cast.ent_member).post(f"/api/v1/deals/{deal.pk}/sign/")
    assert signing.status_code == 409 and signing.json()["error"]["code"] == "notice_period"
    assert availability(api, achievement) == "reserved"

    objection = api(cast.uni_member).post(
        f"/api/v1/notices/{deal.pk}/objections/", {"text": "挂牌期过短"}, format="json"
    )
    assert objection.status_code == 201
    ruled = api(cast.platform_admin).post(
        f"/api/v1/objections/{objection.json()['id']}/rule/",
        {"upheld": True, "ruling": "挂牌程序不合规"},
        format="json",
    )
    assert ruled.status_code == 200
    deal.refresh_from_db()
    assert deal.stage == DealStage.CANCELLED
    assert availability(api, achievement) == "available"
    assert _buy(api, cast.ent2_member, achievement, amount="500000.00").status_code == 201


def test_a_patent_or_an_enterprise_owned_listing_sells_without_notice(cast, api, listed):
    """Only a public institution's achievement waits for objections; a priced patent does not."""
    assert _buy(api, cast.ent_member, listed).json()["notice_ends_at"] is None
    owned_by_enterprise = factories.achievement(cast.enterprise2, pricing_method="listing")
    sold = _buy(api, cast.ent_member, owned_by_enterprise, amount="500000.00")
    assert sold.status_code == 201 and sold.json()["notice_ends_at"] is None


def test_a_listing_under_auction_cannot_be_bought_until_the_auction_is_cancelled(cast, api, listed):
    auction = open_auction(cast.uni_member, listed)
    refused = _buy(api, cast.ent_member, listed)
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "listing_reserved"
    assert api(cast.uni_member).post(f"/api/v1/auctions/{auction.pk}/cancel/").status_code == 200
    assert _buy(api, cast.ent_member, listed).status_code == 201


def test_a_cancelled_purchase_frees_the_listing(cast, api, listed):
    purchase = _buy(api, cast.ent_member, listed).json()
    deal = Deal.objects.get(pk=purchase["deal_id"])
    deals.deal_cancel(deal=deal, user=cast.ent_member, reason="董事会未批准")
    assert availability(api, listed) == "available"
    assert _buy(api, cast.ent2_member, listed).status_code == 201
