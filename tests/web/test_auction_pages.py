"""The auction room in a real browser: two enterprises sign up and bid and each sees the other's bid without
reloading; a too-low bid is refused beside the amount; a late bid moves the end and the countdown follows it;
the owner confirms a deposit; after the close the winner finds the deal. Every page is checked."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone
from playwright.sync_api import expect

from market.accounts.models import Organization
from market.trading.models import Auction, AuctionStatus, Deal
from market.trading.services import auctions
from tests import factories
from tests.trading.helpers import end_now, open_auction

pytestmark = pytest.mark.django_db(transaction=True)

#: more than one poll of the live partial (every 2 s), with room for a slow machine
LIVE = 8000


@pytest.fixture
def patent(cast):
    return factories.patent(cast.university, title="一种固态电解质膜的制备方法", price=None)


@pytest.fixture
def auction(cast, patent) -> Auction:
    Organization.objects.filter(pk=cast.enterprise.pk).update(name="杭州星辰储能科技有限公司")
    return open_auction(cast.uni_member, patent)


def _bid(page, amount: str | None = None) -> None:
    if amount is not None:
        page.get_by_label("您的出价（元）").fill(amount)
    page.get_by_role("button", name="出价").click()
    page.wait_for_load_state()


def test_two_enterprises_sign_up_and_bid_and_see_each_others_bids_live(visit, cast, auction) -> None:
    first, second = visit(cast.ent_member), visit(cast.ent2_member)
    page = first.open("/")
    page.get_by_role("link", name="拍卖").first.click()
    page.get_by_role("link", name=auction.title).click()
    assert page.locator("#current-price").inner_text() == "尚无出价"
    assert page.locator("#minimum-next-bid").inner_text() == "¥100,000"
    first.check("auction")
    page.get_by_role("button", name="报名竞买").click()
    assert "报名成功，您可以出价了。" in page.locator(".messages").inner_text()
    other = second.open(f"/auctions/{auction.pk}/")
    other.get_by_role("button", name="报名竞买").click()
    assert other.get_by_label("您的出价（元）").input_value() == "100000.00"

    _bid(page)  # the minimum the form offers
    assert "您的出价 ¥100,000 目前最高。" in page.locator(".messages").inner_text()
    assert page.locator("#leading-mine").is_visible()
    first.check("auction-leading")
    # the other bidder's page follows without a reload
    expect(other.locator("#current-price")).to_have_text("¥100,000", timeout=LIVE)
    expect(other.locator("#minimum-next-bid")).to_have_text("¥101,000", timeout=LIVE)
    history = other.locator("#bid-history tbody tr").first.inner_text()
    assert "1 号" in history and "杭***司" in history and "杭州星辰储能科技有限公司" not in other.content()

    # the bid box follows the new minimum while the bidder has not typed; an amount below it typed by hand
    # is the service's refusal, beside the field
    expect(other.get_by_label("您的出价（元）")).to_have_value("101000.00", timeout=LIVE)
    _bid(other, "100500")
    assert other.locator("#id_amount_error").inner_text() == "不能低于 101000.00。"
    assert other.get_by_label("您的出价（元）").get_attribute("aria-invalid") == "true"
    second.check("auction-bid-too-low")
    _bid(other, "105000")
    expect(page.locator("#current-price")).to_have_text("¥105,000", timeout=LIVE)
    expect(page.locator("#bid-count")).to_have_text("2", timeout=LIVE)
    assert Auction.objects.get(pk=auction.pk).current_price == Decimal("105000.00")


def test_a_late_bid_extends_the_end_and_the_countdown_follows_without_reload(visit, cast, patent) -> None:
    now = timezone.now()
    auction = open_auction(
        cast.uni_member,
        patent,
        ends_at=now + timedelta(minutes=2),
        snipe_window_minutes=5,
        extension_minutes=5,
    )
    for user in (cast.ent_member, cast.ent2_member):
        auctions.auction_register(auction=auction, user=user)
    bidder, watcher = visit(cast.ent_member), visit(cast.ent2_member)
    page = bidder.open(f"/auctions/{auction.pk}/")
    watching = watcher.open(f"/auctions/{auction.pk}/")
    # the countdown ticks in the browser: under the two minutes left
    expect(watching.locator("#countdown")).to_have_text(_clock_starting("00:01"), timeout=3000)
    old_end = watching.locator("#auction-ends-at").inner_text()
    assert watching.locator("#extended").count() == 0

    _bid(page)
    expect(watching.locator("#extended")).to_be_visible(timeout=LIVE)
    assert watching.locator("#auction-ends-at").inner_text() != old_end
    extended = Auction.objects.get(pk=auction.pk)
    assert extended.ends_at > extended.scheduled_end
    assert watching.locator("#auction-ends-at").inner_text() == timezone.localtime(extended.ends_at).strftime(
        "%Y-%m-%d %H:%M:%S"
    )
    # five minutes after the bid now, counted down each second
    expect(watching.locator("#countdown")).to_have_text(_clock_starting("00:04"), timeout=3000)
    watcher.check("auction-extended")


def _clock_starting(prefix: str) -> re.Pattern[str]:
    return re.compile(rf"^{re.escape(prefix)}:\d\d$")


def test_after_the_close_the_winner_sees_the_deal_and_the_other_bidder_does_not(visit, cast, auction) -> None:
    for user in (cast.ent_member, cast.ent2_member):
        auctions.auction_register(auction=auction, user=user)
    auctions.bid_place(auction_id=auction.pk, user=cast.ent2_member, amount=Decimal("100000"))
    auctions.bid_place(auction_id=auction.pk, user=cast.ent_member, amount=Decimal("120000"))
    winner, loser = visit(cast.ent_member), visit(cast.ent2_member)
    page = winner.open(f"/auctions/{auction.pk}/")
    other = loser.open(f"/auctions/{auction.pk}/")

    end_now(auction)
    closed = auctions.auction_close(auction_id=auction.pk)
    assert closed is not None and closed.status == AuctionStatus.CLOSED
    deal = Deal.objects.get(auction=auction)
    # the polled partial brings the result and the deal, without a reload
    expect(page.locator("#deal-link")).to_be_visible(timeout=LIVE)
    assert page.locator("#deal-link").get_attribute("href") == f"/deals/{deal.pk}/"
    assert "以 ¥120,000 成交。" in page.locator("#auction-result").inner_text()
    winner.check("auction-won")
    expect(other.locator("#auction-result")).to_be_visible(timeout=LIVE)
    assert other.locator("#deal-link").count() == 0


def test_the_owner_confirms_a_deposit_before_the_bidder_may_bid(visit, cast, patent) -> None:
    auction = open_auction(cast.uni_member, patent, deposit_amount=Decimal("20000"))
    bidder = visit(cast.ent_member)
    page = bidder.open(f"/auctions/{auction.pk}/")
    assert "须缴纳保证金 ¥20,000" in page.content()
    page.get_by_role("button", name="报名竞买").click()
    assert "等待挂牌方确认您缴纳的保证金 ¥20,000。" in page.content()
    assert page.get_by_label("您的出价（元）").count() == 0
    bidder.check("auction-deposit-pending")

    owner = visit(cast.uni_member)
    owners_page = owner.open(f"/auctions/{auction.pk}/")
    assert cast.enterprise.name in owners_page.locator("section[aria-labelledby=take-part]").inner_text()
    owner.check("auction-owner")
    owners_page.get_by_role("button", name="确认 1 号竞买人的保证金").click()
    assert "1 号竞买人的保证金已确认。" in owners_page.locator(".messages").inner_text()

    page.reload()
    _bid(page)
    assert "目前最高" in page.locator(".messages").inner_text()


def test_the_auction_list_and_an_anonymous_visitors_view(visit, cast, patent) -> None:
    now = timezone.now()
    running = open_auction(cast.uni_member, patent)
    upcoming = open_auction(
        cast.inst_member,
        factories.patent(cast.institute, title="一种柔性传感器", price=None),
        starts_at=now + timedelta(days=1),
        ends_at=now + timedelta(days=2),
    )
    visitor = visit()
    page = visitor.open("/auctions/")
    assert running.title in page.locator("section[aria-labelledby=running-heading]").inner_text()
    assert upcoming.title in page.locator("section[aria-labelledby=upcoming-heading]").inner_text()
    visitor.check("auctions")
    page.get_by_role("link", name=upcoming.title).click()
    # a day to go, as the browser counts it
    expect(page.locator("#countdown")).to_have_text(re.compile(r"^(1 天 00|23):\d\d:\d\d$"), timeout=3000)
    assert page.get_by_role("link", name="登录后出价").is_visible()
    visitor.check("auction-anonymous")


def test_only_enterprises_sign_up_and_only_the_owner_confirms_deposits(cast, auction) -> None:
    client = Client()
    assert client.post(f"/auctions/{auction.pk}/register/").status_code == 302  # to the sign-in page
    client.force_login(cast.uni_member)
    refused = client.post(f"/auctions/{auction.pk}/register/")
    assert refused.status_code == 200
    assert "只有审核通过的企业的成员可以参与竞拍。" in refused.content.decode()
    assert not auction.registrations.exists()
    registration, _ = auctions.auction_register(auction=auction, user=cast.ent_member)
    client.force_login(cast.ent2_member)
    # a registration the selector does not show this user is not found
    url = f"/auctions/{auction.pk}/registrations/{registration.pk}/confirm-deposit/"
    assert client.post(url).status_code == 404
    assert Client().get(f"/auctions/{auction.pk}/live/").status_code == 200
    assert Client().get("/auctions/999999/").status_code == 404
