"""`/api/v1/stats/`, its exports and the plan targets, over deals made through the services and applied to the
stats as the consumer applies them (tests/stats/helpers.py)."""

import csv
import io
import zipfile
from datetime import date
from decimal import Decimal

import pytest
from django.utils import timezone

from market.catalog import services as catalog
from market.trading.models import Deal
from market.trading.services import auctions, deals
from services.stats.models import Indicator, PlanTarget
from tests import factories
from tests.stats.helpers import stats_catch_up
from tests.trading.helpers import deal_between, end_now, open_auction

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate


def _registered(
    cast, *, amount: str = "300000", contract_type: str = "transfer", number: str = "R-1"
) -> Deal:
    deal = deal_between(cast.uni_member, cast.ent_member, amount=amount)
    for party in (cast.ent_member, cast.uni_member):
        deals.deal_sign(deal=deal, user=party)
    deals.deal_registration_submit(
        deal=deal,
        user=cast.uni_member,
        contract_type=contract_type,
        contract_value=Decimal(amount),
        technology_transaction_value=Decimal(amount) - 50000,
    )
    return deals.deal_registration_approve(deal=deal, user=cast.registrar, registration_number=number)


def _year() -> dict[str, str]:
    today = TODAY()
    return {"from": f"{today.year}-01-01", "to": f"{today.year}-12-31"}


@pytest.fixture
def market(cast):
    """Two registered contracts (a transfer and a licence), a negotiation under way and a cancelled deal, all
    between the Xihu university (330106) and the Lin'an enterprise (330127), applied to the stats."""
    _registered(cast, amount="300000", number="R-1")
    _registered(cast, amount="500000", contract_type="licence", number="R-2")
    deal_between(cast.uni_member, cast.ent_member, amount="120000")
    cancelled = deal_between(cast.uni_member, cast.ent_member, amount="90000")
    deals.deal_cancel(deal=cancelled, user=cast.ent_member, reason="预算调整")
    stats_catch_up()
    return cast


def test_the_year_s_figures_count_deals_contracts_and_cancellations(market, api):
    answer = api(market.platform_admin).get("/api/v1/stats/", _year())
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert body["totals"] == {
        "deals": 4,
        "amount": "1010000.00",
        "contracts": 2,
        "contract_value": "800000.00",
        "technology_value": "700000.00",
        "completed": 0,
        "inventions": 0,
        "cancelled": 1,
    }
    month = TODAY().replace(day=1).isoformat()
    assert [row["period"] for row in body["rows"]] == [month]
    assert body["current_to"] is not None
    # every listing was published just now, so each deal came 0 days after its listing
    assert body["median_days_to_deal"] == 0


def test_listings_published_through_review_are_counted_once_by_owner_type(cast, api):
    demand = factories.demand(cast.enterprise, status="draft")
    patent = factories.patent(cast.university, status="draft")
    for listing, member in ((demand, cast.ent_member), (patent, cast.uni_member)):
        catalog.listing_submit(listing=listing, user=member)
        catalog.listing_approve(listing=listing, reviewer=cast.platform_admin)
    stats_catch_up()
    stats_catch_up()  # a replay
    body = api(cast.platform_admin).get("/api/v1/stats/", _year()).json()
    assert body["published"] == {"patent": 1, "achievement": 0, "demand": 1, "expert": 0, "proposal": 0}
    year = TODAY().year
    target = {"starts_on": f"{year}-01-01", "ends_on": f"{year}-12-31", "target": "44"}
    for indicator in (Indicator.SUPPLIER_LISTINGS, Indicator.DEMANDS_COLLECTED):
        created = api(cast.platform_admin).post(
            "/api/v1/stats/targets/", {**target, "indicator": indicator}, format="json"
        )
        assert created.json()["achieved"] == "1.00", created.content


def test_figures_group_by_contract_type_and_roll_regions_up(market, api):
    client = api(market.gov_member)
    by_type = client.get("/api/v1/stats/", {**_year(), "group_by": "contract_type"}).json()
    contracts = {row["contract_type"]: row["contracts"] for row in by_type["rows"]}
    assert contracts == {"": 0, "licence": 1, "transfer": 1}
    values = {row["contract_type"]: row["contract_value"] for row in by_type["rows"]}
    assert values["licence"] == "500000.00"

    by_city = client.get("/api/v1/stats/", {**_year(), "group_by": "seller_city,buyer_province"}).json()
    assert [(row["seller_city"], row["buyer_province"], row["deals"]) for row in by_city["rows"]] == [
        ("330100", "330000", 4)
    ]
    elsewhere = client.get("/api/v1/stats/", {**_year(), "buyer_region": "440000"}).json()
    assert elsewhere["totals"]["deals"] == 0
    zhejiang = client.get("/api/v1/stats/", {**_year(), "buyer_region": "330100", "period": "quarter"}).json()
    assert zhejiang["totals"]["deals"] == 4 and zhejiang["median_days_to_deal"] is None


def test_daily_figures_by_one_dimension_over_part_of_a_month(market, api):
    today = TODAY()
    answer = api(market.platform_admin).get(
        "/api/v1/stats/",
        {"period": "day", "from": today.isoformat(), "to": today.isoformat(), "group_by": "source"},
    )
    assert answer.status_code == 200, answer.content
    assert [(row["period"], row["source"], row["deals"]) for row in answer.json()["rows"]] == [
        (today.isoformat(), "offer", 4)
    ]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"group_by": "colour"}, "group_by"),
        ({"group_by": "contract_type,source,field"}, "group_by"),
        ({"group_by": "contract_type,source", "ipc": "H"}, "group_by"),
        ({"group_by": "contract_type,source", "period": "day"}, "period"),
        ({"group_by": "contract_type", "source": "offer", "from": "2026-01-05"}, "from"),
        ({"from": "2026-03-01", "to": "2026-02-01"}, "to"),
        ({"seller_region": "99"}, "seller_region"),
        ({"broker": "acme"}, "broker"),
        ({"period": "week"}, "period"),
    ],
)
def test_a_question_the_figures_cannot_answer_is_a_400_naming_the_field(cast, api, params, field):
    answer = api(cast.platform_admin).get(
        "/api/v1/stats/", {"from": "2026-01-01", "to": "2026-12-31", **params}
    )
    assert answer.status_code == 400, answer.content
    assert field in answer.json()["error"]["fields"], answer.json()


def test_auction_outcomes_give_the_success_rate(cast, api):
    won = open_auction(cast.uni_member, factories.patent(cast.university, price=None))
    auctions.auction_register(auction=won, user=cast.ent_member)
    auctions.bid_place(auction_id=won.pk, user=cast.ent_member, amount=Decimal("100000"))
    failed = open_auction(cast.uni_member, factories.patent(cast.university, price=None))
    for auction in (won, failed):
        end_now(auction)
        auctions.auction_close(auction_id=auction.pk)
    stats_catch_up()
    body = api(cast.platform_admin).get("/api/v1/stats/", _year()).json()
    assert body["auctions"] == {"won": 1, "failed": 1, "success_rate": 0.5}
    assert body["totals"]["deals"] == 1  # the won auction opened a deal


def test_the_stats_view_exports_as_csv_and_xlsx(market, api):
    client = api(market.platform_admin)
    answer = client.get("/api/v1/stats/export.csv", {**_year(), "group_by": "contract_type"})
    assert answer.status_code == 200 and answer["Content-Type"].startswith("text/csv")
    text = b"".join(answer.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert len(rows) == 4 and len(rows[0]) == 2 + 8
    licence = next(row for row in rows if row[1] == "licence")
    assert licence[2:7] == ["1", "500000.00", "1", "500000.00", "450000.00"]

    workbook = client.get("/api/v1/stats/export.xlsx", _year())
    assert workbook.status_code == 200
    with zipfile.ZipFile(io.BytesIO(b"".join(workbook.streaming_content))) as archive:
        sheet = archive.read("xl/worksheets/sheet1.xml").decode()
    assert "<v>1010000</v>" in sheet  # the amount, as a number
    assert "Technology-transaction value (yuan)" in sheet or "技术交易额（元）" in sheet


def test_the_deal_register_lists_registered_contracts_with_their_fields(market, api):
    client = api(market.gov_member)
    answer = client.get("/api/v1/stats/deals.csv", {**_year(), "registered": "true"})
    assert answer.status_code == 200
    rows = list(csv.reader(io.StringIO(b"".join(answer.streaming_content).decode("utf-8").lstrip("\ufeff"))))
    numbers = sorted(row[-2] for row in rows[1:])
    assert numbers == ["R-1", "R-2"]
    assert rows[1][-1] == TODAY().isoformat()
    everything = client.get("/api/v1/stats/deals.csv", _year())
    assert len(b"".join(everything.streaming_content).decode("utf-8").strip().splitlines()) == 1 + 4
    filtered = client.get(
        "/api/v1/stats/deals.csv", {**_year(), "contract_type": "licence", "registered": "1"}
    )
    assert len(b"".join(filtered.streaming_content).decode("utf-8").strip().splitlines()) == 1 + 1
    assert client.get("/api/v1/stats/deals.pdf").status_code == 404


def test_plan_targets_show_progress_and_only_administrators_set_them(market, api):
    admin, viewer = api(market.platform_admin), api(market.gov_member)
    year = TODAY().year
    body = {
        "indicator": Indicator.TECHNOLOGY_TRANSACTION_VALUE,
        "starts_on": f"{year}-01-01",
        "ends_on": f"{year}-12-31",
        "target": "1400000",
        "note": "十四五",
    }
    assert viewer.post("/api/v1/stats/targets/", body, format="json").status_code == 403
    created = admin.post("/api/v1/stats/targets/", body, format="json")
    assert created.status_code == 201, created.content
    assert created.json()["achieved"] == "700000.00" and created.json()["progress"] == 0.5
    assert admin.post("/api/v1/stats/targets/", body, format="json").status_code == 409
    backwards = {**body, "starts_on": f"{year}-12-31", "ends_on": f"{year}-01-01"}
    refused = admin.post("/api/v1/stats/targets/", backwards, format="json")
    assert "ends_on" in refused.json()["error"]["fields"]

    listed = viewer.get("/api/v1/stats/targets/").json()
    assert [row["indicator"] for row in listed["results"]] == [Indicator.TECHNOLOGY_TRANSACTION_VALUE]
    target_id = created.json()["id"]
    changed = admin.patch(f"/api/v1/stats/targets/{target_id}/", {"target": "700000"}, format="json")
    assert changed.status_code == 200 and changed.json()["progress"] == 1.0
    assert PlanTarget.objects.get().set_by == market.platform_admin
    assert admin.delete(f"/api/v1/stats/targets/{target_id}/").status_code == 204
    assert not PlanTarget.objects.exists()


def test_every_indicator_counts_from_the_figures(market, api):
    admin = api(market.platform_admin)
    year = TODAY().year
    answers = {}
    for indicator in Indicator.values:
        body = {
            "indicator": indicator,
            "starts_on": f"{year}-01-01",
            "ends_on": f"{year}-12-31",
            "target": "10",
        }
        answers[indicator] = admin.post("/api/v1/stats/targets/", body, format="json").json()["achieved"]
    assert answers == {
        "inventions_industrialised": "0.00",
        "technology_transaction_value": "700000.00",
        "contracts_registered": "2.00",
        "supplier_listings": "0.00",  # the factories' listings were never published through review
        "demands_collected": "0.00",
    }


def test_replaying_everything_changes_no_figure(market, api):
    before = api(market.platform_admin).get("/api/v1/stats/", _year()).json()
    stats_catch_up()
    after = api(market.platform_admin).get("/api/v1/stats/", _year()).json()
    assert after["totals"] == before["totals"] and after["published"] == before["published"]
    assert date.fromisoformat(after["from"]) == date(TODAY().year, 1, 1)
