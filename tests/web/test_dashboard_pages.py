"""The bureau's dashboard in a real browser: the API's figures for the same question, a chart drawn by the
vendored Chart.js under the site's CSP, the region drill-down, the export downloaded with the page's session,
and the 403 for those who may not read statistics."""

import csv
import io
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from market.trading.models import Deal
from market.trading.services import deals
from services.stats.models import Indicator, PlanTarget
from tests.stats.helpers import stats_catch_up
from tests.trading.helpers import deal_between

pytestmark = pytest.mark.django_db(transaction=True)


def _registered(seller, buyer, registrar, *, amount: str, number: str) -> Deal:
    deal = deal_between(seller, buyer, amount=amount)
    for party in (buyer, seller):
        deals.deal_sign(deal=deal, user=party)
    deals.deal_registration_submit(
        deal=deal,
        user=seller,
        contract_type="transfer",
        contract_value=Decimal(amount),
        technology_transaction_value=Decimal(amount) - 50000,
    )
    return deals.deal_registration_approve(deal=deal, user=registrar, registration_number=number)


@pytest.fixture
def market(cast):
    """A registered contract of the Xihu university (330106, Hangzhou, Zhejiang), a deal under way of the
    Nanjing institute (320102), and a plan target, applied to the stats."""
    _registered(cast.uni_member, cast.ent_member, cast.platform_admin, amount="300000", number="R-300")
    deal_between(cast.inst_member, cast.ent2_member, amount="120000")
    today = timezone.localdate()
    PlanTarget.objects.create(
        indicator=Indicator.CONTRACTS_REGISTERED,
        starts_on=today.replace(month=1, day=1),
        ends_on=today.replace(month=12, day=31),
        target=4,
        set_by=cast.platform_admin,
    )
    stats_catch_up()
    return cast


def _year() -> str:
    year = timezone.localdate().year
    return f"from={year}-01-01&to={year}-12-31&period=month"


def _figure(page, metric: str) -> str:
    return page.locator(f"#totals [data-metric={metric}] strong").inner_text().replace(",", "")


def test_the_dashboard_shows_the_api_s_figures_drills_into_regions_and_exports(visit, market, api) -> None:
    answer = api(market.platform_admin).get(f"/api/v1/stats/?{_year()}")
    assert answer.status_code == 200, answer.content
    figures = answer.json()

    visitor = visit(market.platform_admin)
    page = visitor.open(f"/stats/?{_year()}")
    assert int(_figure(page, "deals")) == figures["totals"]["deals"] == 2
    assert Decimal(_figure(page, "amount")) == Decimal(figures["totals"]["amount"])
    assert Decimal(_figure(page, "contract_value")) == Decimal(figures["totals"]["contract_value"]) == 300000
    assert Decimal(_figure(page, "technology_value")) == Decimal(figures["totals"]["technology_value"])
    assert _figure(page, "median_days") == "0"
    assert page.locator("#value-table tbody tr").count() == len(figures["rows"])
    page.locator("#value-chart").wait_for()
    assert page.evaluate("() => window.Chart.getChart('value-chart').data.datasets.length") == 3
    assert page.locator("meter").get_attribute("value") == "1"
    visitor.check("dashboard")

    # province → city → county, by the seller's region
    provinces = page.locator("#region-table tbody th").all_inner_texts()
    assert sorted(provinces) == ["江苏省", "浙江省"]
    with page.expect_navigation():
        page.locator("#region-table").get_by_role("link", name="浙江省").click()
    assert "seller_region=330000" in page.url
    assert page.locator("#region-table tbody th").all_inner_texts() == ["330100"]
    assert int(_figure(page, "deals")) == 1
    with page.expect_navigation():
        page.locator("#region-table").get_by_role("link", name="330100").click()
    assert page.locator("#region-table tbody th").all_inner_texts() == ["330106"]
    assert page.locator("#region-table a").count() == 0  # counties are the last level
    visitor.check("dashboard-city")

    # the export of the same question, downloaded with the page's session
    with page.expect_download() as download_info:
        page.locator("a[href*='/api/v1/stats/export.csv']").click()
    download = download_info.value
    assert download.suggested_filename.endswith(".csv")
    with open(download.path(), encoding="utf-8-sig") as handle:
        rows = list(csv.reader(io.StringIO(handle.read())))
    assert len(rows) == 2  # the heading and the month
    assert "300000.00" in rows[1] and "250000.00" in rows[1]


def test_the_dashboard_refuses_those_who_may_not_read_statistics(visit, market) -> None:
    visitor = visit(market.ent_member)
    response = visitor.page.goto(visitor.base_url + "/stats/")
    assert response is not None and response.status == 403
    visitor.check("dashboard-forbidden", status=403)
    # nor may they download the export with their session
    client = Client()
    client.force_login(market.ent_member)
    assert client.get("/api/v1/stats/export.csv").status_code == 403
    # a government member reads it
    client.force_login(market.gov_member)
    assert client.get(f"/stats/?{_year()}").status_code == 200
    assert client.get(f"/api/v1/stats/export.csv?{_year()}").status_code == 200


def test_a_question_the_figures_cannot_answer_is_named_on_the_page(market) -> None:
    client = Client()
    client.force_login(market.platform_admin)
    response = client.get("/stats/?from=2025-03-01&to=2025-01-31")
    assert response.status_code == 400
    assert "to:" in response.content.decode()
    # a breakdown inside a region over part of a month cannot be read from the monthly rows: said in place
    response = client.get("/stats/?from=2025-01-05&to=2025-01-20&seller_region=330000")
    assert response.status_code == 200
    assert response.context["breakdowns"][0]["problem"]
