"""Negotiated offers in a real browser: an enterprise offers on a patent without an asking price, the owner
counters, the enterprise accepts and both find the deal; a decline needs its structured reason (and a text
when the reason is "other"), which the other side reads."""

from decimal import Decimal

import pytest
from django.test import Client

from market.trading.models import Deal, Offer, OfferStatus
from market.trading.services import offers
from tests import factories
from tests.web.conftest import search_index

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def patent(cast):
    return factories.patent(cast.university, title="一种钠离子电池负极材料", price=None)


def test_make_counter_and_accept_an_offer(visit, cast, patent, engine) -> None:
    search_index(patent)  # the patent page's "more like this"
    buyer = visit(cast.ent_member)
    page = buyer.open(f"/patents/{patent.pk}/")
    page.get_by_role("link", name="提出报价").click()
    assert f"listing_id={patent.pk}" in page.url
    buyer.check("offer-make")
    page.get_by_label("报价金额（元）").fill("200000")
    page.get_by_label("给挂牌方的留言").fill("希望独占许可。")
    page.get_by_role("button", name="发送报价").click()
    page.wait_for_url("**/my/offers/*/")
    assert page.locator("#offer-amount").inner_text() == "¥200,000"
    assert page.locator("#offer-turn").inner_text() == "轮到对方"
    buyer.check("offer-buyer-waiting")

    owner = visit(cast.uni_member)
    owners_page = owner.open("/")
    owners_page.get_by_role("link", name="我的报价").click()
    received = owners_page.locator("section[aria-labelledby=received-heading]")
    assert "轮到您" in received.inner_text()
    owner.check("my-offers")
    received.get_by_role("link", name=patent.title).click()
    owner.check("offer-owner")
    owners_page.get_by_label("您的还价（元）").fill("260000")
    owners_page.get_by_role("button", name="发送还价").click()
    assert owners_page.locator("#offer-amount").inner_text() == "¥260,000"
    assert owners_page.locator("#offer-turn").inner_text() == "轮到对方"

    page.reload()
    rounds = [item.inner_text() for item in page.locator("ol.rounds li").all()]
    assert len(rounds) == 2
    assert rounds[0].startswith("买方 ¥200,000") and "希望独占许可。" in rounds[0]
    assert rounds[1].startswith("所属机构 ¥260,000")
    page.get_by_role("button", name="接受报价").click()
    assert page.locator("#offer-status").inner_text() == "已接受"
    deal = Deal.objects.get(offer__patent=patent)
    assert page.locator("#deal-link").get_attribute("href") == f"/deals/{deal.pk}/"
    assert deal.amount == Decimal("260000.00")
    buyer.check("offer-accepted")
    owners_page.reload()
    assert owners_page.locator("#deal-link").get_attribute("href") == f"/deals/{deal.pk}/"


def test_decline_with_a_structured_reason(visit, cast, patent) -> None:
    offer = offers.offer_make(
        user=cast.ent_member,
        listing_kind="patent",
        listing_id=patent.pk,
        amount=Decimal("50000"),
        transaction_mode="transfer",
    )
    owner = visit(cast.uni_member)
    page = owner.open(f"/my/offers/{offer.pk}/")
    page.locator("#id_reason_code").select_option("other")
    page.get_by_role("button", name="拒绝报价").click()
    # the service's rule, beside the field it is about
    assert page.locator("#id_reason_text_error").is_visible()
    assert page.get_by_label("说明").get_attribute("aria-invalid") == "true"
    owner.check("offer-decline-error")
    page.locator("#id_reason_code").select_option("price")
    page.get_by_label("说明").fill("低于评估价。")
    page.get_by_role("button", name="拒绝报价").click()
    assert page.locator("#offer-status").inner_text() == "已拒绝"
    assert Offer.objects.get(pk=offer.pk).status == OfferStatus.DECLINED

    buyer = visit(cast.ent_member)
    buyers_page = buyer.open(f"/my/offers/{offer.pk}/")
    assert buyers_page.locator("#decline-reason").inner_text() == "价格: 低于评估价。"
    buyer.check("offer-declined")


def test_only_the_parties_see_an_offer_and_only_enterprises_make_one(cast, patent) -> None:
    offer = offers.offer_make(
        user=cast.ent_member,
        listing_kind="patent",
        listing_id=patent.pk,
        amount=Decimal("50000"),
        transaction_mode="transfer",
    )
    client = Client()
    assert client.get(f"/my/offers/{offer.pk}/").status_code == 302  # to the sign-in page
    client.force_login(cast.ent2_member)
    assert client.get(f"/my/offers/{offer.pk}/").status_code == 404
    assert client.post(f"/my/offers/{offer.pk}/accept/").status_code == 404
    client.force_login(cast.uni_member)
    assert client.get(f"/offers/new/?listing_kind=patent&listing_id={patent.pk}").status_code == 403
    # a listing with an asking price takes no offer: the patent page offers no form
    priced = factories.patent(cast.university, price=Decimal("100000"))
    client.force_login(cast.ent_member)
    assert "提出报价" not in client.get(f"/patents/{priced.pk}/").content.decode()
    assert "提出报价" in client.get(f"/patents/{patent.pk}/").content.decode()
