"""The market's main journey through the web pages, on the demo market `make run` loads, each person signing
in with the demo password: a university member lists a patent, the administrator rejects it with a reason,
the member fixes it and it is approved; an enterprise engineer finds it by search, saves the search, signs
up for its auction, bids and wins, and sees the deal; the broker takes the deal to contract registration;
the county's registrar registers it; the administrator finds it on the dashboard and exports it.

The search index and the statistics are fed from the outbox in-process (`search_catch_up`,
`stats_catch_up`), and the auction's end is the timer's `auction_close`: what the consumers and Celery do
between the pages in production."""

import csv
import io
from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from market.accounts.models import User
from market.catalog.models import Patent
from market.demo.seeding import market_seed
from market.trading.models import Auction, Deal, DealStage, RegistrationStatus
from market.trading.services.auctions import auction_close
from services.notify.models import Subscription
from tests import factories
from tests.search.conftest import _quiet_progress
from tests.stats.helpers import stats_catch_up
from tests.web.browser import Visitor
from tests.web.conftest import search_catch_up

pytestmark = pytest.mark.django_db(transaction=True)

TITLE = "一种钠离子电池硬碳负极材料的制备方法"


@pytest.fixture
def demo_market(engine) -> None:
    """The demo organizations, accounts, demands and deals, with the first ten real patents and
    achievements, indexed for search."""
    market_seed(data_dir=settings.MARKET_SAMPLE_DATA_DIR, progress=_quiet_progress, limit=10)
    search_catch_up()


def sign_in(visit, username: str) -> Visitor:
    """A person signing in through the sign-in page with the demo password."""
    visitor = visit()
    page = visitor.open("/sign-in/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(settings.MARKET_DEMO_PASSWORD)
    page.get_by_role("button", name="登录").last.click()
    page.wait_for_url(visitor.base_url + "/")
    return visitor


def post(page, form_action: str) -> None:
    """Submit the form posting to `form_action` (the end of its URL), waiting for the page it leads to."""
    with page.expect_navigation():
        page.locator(f"form[action$='{form_action}'] button[type=submit]").first.click()


def test_a_patent_goes_from_listing_to_a_registered_contract_on_the_dashboard(visit, demo_market) -> None:
    # a university member lists a patent; it is rejected with a reason, fixed and approved
    member = sign_in(visit, "uni_member")
    page = member.open("/my/listings/")
    page.get_by_role("link", name="新建专利").click()
    page.fill("#id_application_number", factories.application_number(456789, year=2023))
    page.fill("#id_title", TITLE)
    page.fill("#id_ipc_codes", "H01M 4/587")
    page.fill("#id_applicants", "示范理工大学")
    page.fill("#id_inventors", "陈一、王二")
    page.fill("#id_filing_date", "2023-04-12")
    page.fill("#id_field", "新能源")
    page.fill("#id_price", "400000")
    page.get_by_role("button", name="保存草稿").click()
    page.wait_for_url("**/my/listings/patents/*/")
    page.get_by_role("button", name="提交审核").click()
    patent = Patent.objects.get(title=TITLE)

    admin = sign_in(visit, "admin")
    review = admin.open(f"/review/patents/{patent.pk}/")
    review.fill("#id_reason", "摘要为空：请说明材料的比容量和首效。")
    review.get_by_role("button", name="按此理由驳回").click()
    review.wait_for_url("**/review/")

    page.goto(member.base_url + "/my/listings/")
    row = page.locator("#my-patents tbody tr", has_text=TITLE)
    assert "请说明材料的比容量和首效" in row.inner_text()
    row.get_by_role("link", name="编辑").click()
    page.fill("#id_abstract", "以生物质为前驱体制备硬碳负极，比容量 320 mAh/g，首次库伦效率 90%。")
    page.get_by_role("button", name="保存修改").click()
    page.wait_for_url("**/my/listings/patents/*/")
    page.get_by_role("button", name="重新提交审核").click()
    review.goto(admin.base_url + f"/review/patents/{patent.pk}/")
    review.get_by_role("button", name="通过", exact=True).click()
    review.wait_for_url("**/review/")
    search_catch_up()

    # the university opens an auction on it
    page.goto(member.base_url + f"/my/listings/patents/{patent.pk}/")
    page.get_by_role("link", name="发起拍卖").click()
    now = timezone.localtime()
    page.fill("#id_starts_at", (now - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M"))
    page.fill("#id_ends_at", (now + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M"))
    page.fill("#id_starting_price", "350000")
    page.fill("#id_bid_increment", "10000")
    page.get_by_role("button", name="开始拍卖").click()
    page.wait_for_url(f"**/my/listings/patents/{patent.pk}/")
    auction = Auction.objects.get(patent=patent)

    # an enterprise engineer finds it by search, saves the search, signs up, bids
    engineer = sign_in(visit, "ent_member")
    page = engineer.open("/")
    page.fill("#q", "硬碳负极")
    page.get_by_role("button", name="搜索").first.click()
    page.wait_for_url("**/search/?q=*")
    page.get_by_role("link", name=TITLE).wait_for()
    page.locator(".save-search summary").click()
    page.locator(".save-search form").get_by_role("button", name="保存此搜索").click()
    page.wait_for_url("**/search/?*")
    assert Subscription.objects.filter(user__username="ent_member", params__q="硬碳负极").exists()
    page.get_by_role("link", name=TITLE).click()
    page.wait_for_url(f"**/patents/{patent.pk}/")
    engineer.check("journey-patent")
    page.goto(engineer.base_url + f"/auctions/{auction.pk}/")
    page.get_by_role("button", name="报名竞买").click()
    page.get_by_role("button", name="出价").click()
    page.wait_for_load_state()
    assert "目前最高" in page.locator(".messages").inner_text()
    engineer.check("journey-auction")

    # the auction ends (the timer closes it); the winner sees the deal
    Auction.objects.filter(pk=auction.pk).update(ends_at=timezone.now() - timedelta(seconds=1))
    auction_close(auction_id=auction.pk)
    deal = Deal.objects.get(patent=patent)
    page.goto(engineer.base_url + f"/auctions/{auction.pk}/")
    page.locator("#deal-link").click()
    page.wait_for_url(f"**/deals/{deal.pk}/")
    room = f"/deals/{deal.pk}/"

    # the buyer mandates the broker, who takes the deal to contract registration with the parties
    page.locator("#id_broker-broker_id").select_option(str(User.objects.get(username="broker").pk))
    page.locator("#id_broker-commission").fill("12000")
    post(page, "/broker/")
    broker = sign_in(visit, "broker")
    broker_page = broker.open(room)
    broker_page.locator("#id_document-title").fill("技术转让合同")
    broker_page.locator("#id_document-url").fill("https://files.example.org/contract.pdf")
    post(broker_page, "/documents/")
    post(page, "/sign/")
    seller_page = member.open(room)
    post(seller_page, "/sign/")
    broker_page = broker.open(room)
    broker_page.locator("#id_registration-contract_type").select_option("transfer")
    broker_page.locator("#id_registration-contract_value").fill("350000")
    broker_page.locator("#id_registration-technology_transaction_value").fill("350000")
    post(broker_page, "/registration/")
    broker.check("journey-deal-room")
    deal.refresh_from_db()
    assert deal.registration_status == RegistrationStatus.SUBMITTED

    # the county's registrar registers the contract
    registrar = sign_in(visit, "gov_registrar")
    queue = registrar.open("/deals/registrations/")
    queue.locator(f"#id_approve-{deal.pk}-registration_number").fill("3301272026000042")
    post(queue, f"/deals/{deal.pk}/registration/approve/")
    deal.refresh_from_db()
    assert deal.stage == DealStage.CONTRACT_REGISTERED
    # the administrator sees the deal on the dashboard and exports it
    stats_catch_up()
    year = timezone.localdate().year
    dashboard = admin.open(f"/stats/?from={year}-01-01&to={year}-12-31&period=month&group_by=source")
    assert "350000.00" in dashboard.locator("main").inner_text()  # the auction's contract, this month
    admin.check("journey-dashboard")
    with dashboard.expect_download() as download_info:
        dashboard.locator("a[href*='/api/v1/stats/deals.csv']").first.click()
    with open(download_info.value.path(), encoding="utf-8-sig") as handle:
        exported = handle.read()
    assert "3301272026000042" in exported
    assert any(TITLE in row or deal.title in row for row in map(",".join, csv.reader(io.StringIO(exported))))
