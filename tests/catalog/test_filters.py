"""Query parameters of every list endpoint: each filter keeps exactly the records it should, and a value it
cannot use is a 400 that names the parameter, never an empty page or a 500."""

from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from rest_framework.test import APIClient

from market.accounts.models import Organization, OrganizationStatus, OrganizationType
from market.catalog.models import ListingStatus
from tests import factories

pytestmark = pytest.mark.django_db


def _ids(client: APIClient, path: str, **params: Any) -> set[int]:
    response = client.get(path, {"page_size": 100, **params})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["next"] is None, "the test data must fit on one page"
    return {item["id"] for item in body["results"]}


# ---- region, owner and owner type: every list endpoint -------------------------------------------------


#: path -> builder of one visible record belonging to (or being) the organization
RECORD_BUILDERS: dict[str, Callable[[Organization], Any]] = {
    "/api/v1/patents/": factories.patent,
    "/api/v1/achievements/": factories.achievement,
    "/api/v1/demands/": factories.demand,
    "/api/v1/experts/": factories.expert,
    "/api/v1/orgs/": lambda org: org,
}


@pytest.fixture
def regional() -> dict[str, Organization]:
    """Two counties of one city, another city of the same province and another province."""
    return {
        "xihu": factories.organization(OrganizationType.UNIVERSITY, county_code="330106"),
        "shangcheng": factories.organization(OrganizationType.ENTERPRISE, county_code="330102"),
        "ningbo": factories.organization(OrganizationType.INSTITUTE, county_code="330212"),
        "shenzhen": factories.organization(OrganizationType.ENTERPRISE, county_code="440305"),
    }


@pytest.mark.parametrize("path", list(RECORD_BUILDERS))
@pytest.mark.parametrize(
    ("region", "expected"),
    [
        ("330000", {"xihu", "shangcheng", "ningbo"}),
        ("330100", {"xihu", "shangcheng"}),
        ("330106", {"xihu"}),
        ("330212", {"ningbo"}),
        ("440000", {"shenzhen"}),
        ("110000", set()),
        ("330108", set()),
    ],
)
def test_region_filters_at_province_city_and_county_level(api, regional, path, region, expected):
    records = {name: RECORD_BUILDERS[path](org) for name, org in regional.items()}
    assert _ids(api(None), path, region=region) == {records[name].pk for name in expected}


@pytest.mark.parametrize("path", [p for p in RECORD_BUILDERS if p != "/api/v1/orgs/"])
def test_owner_type_keeps_records_of_that_kind_of_organization(api, regional, path):
    records = {name: RECORD_BUILDERS[path](org) for name, org in regional.items()}
    client = api(None)
    assert _ids(client, path, owner_type="enterprise") == {
        records["shangcheng"].pk,
        records["shenzhen"].pk,
    }
    assert _ids(client, path, owner_type="institute") == {records["ningbo"].pk}
    assert _ids(client, path, owner_type="government") == set()


@pytest.mark.parametrize(
    ("path", "parameter"),
    [
        ("/api/v1/patents/", "owner"),
        ("/api/v1/achievements/", "owner"),
        ("/api/v1/demands/", "owner"),
        ("/api/v1/experts/", "organization"),
    ],
)
def test_owner_keeps_one_organizations_records(api, regional, path, parameter):
    records = {name: RECORD_BUILDERS[path](org) for name, org in regional.items()}
    second = RECORD_BUILDERS[path](regional["ningbo"])
    client = api(None)
    assert _ids(client, path, **{parameter: regional["ningbo"].pk}) == {records["ningbo"].pk, second.pk}
    assert _ids(client, path, **{parameter: regional["xihu"].pk}) == {records["xihu"].pk}
    assert _ids(client, path, **{parameter: 10**9}) == set()


# ---- status and visibility -----------------------------------------------------------------------------

LISTING_BUILDERS = {
    "/api/v1/patents/": factories.patent,
    "/api/v1/achievements/": factories.achievement,
    "/api/v1/demands/": factories.demand,
}


@pytest.mark.parametrize("path", list(LISTING_BUILDERS))
def test_status_filters_within_what_the_caller_may_see(cast, api, path):
    build = LISTING_BUILDERS[path]
    published = build(cast.university)
    own_draft = build(cast.university, status=ListingStatus.DRAFT)
    own_pending = build(cast.university, status=ListingStatus.PENDING)
    other_draft = build(cast.institute, status=ListingStatus.DRAFT)
    other_published = build(cast.institute)
    closed = build(cast.institute, status=ListingStatus.CLOSED)

    anonymous = api(None)
    assert _ids(anonymous, path) == {published.pk, other_published.pk}
    assert _ids(anonymous, path, status="published") == {published.pk, other_published.pk}
    assert _ids(anonymous, path, status="draft") == set()
    assert _ids(anonymous, path, status="closed") == set()

    member = api(cast.uni_member)
    assert _ids(member, path, status="draft") == {own_draft.pk}
    assert _ids(member, path, status="pending") == {own_pending.pk}
    assert _ids(member, path, status="published") == {published.pk, other_published.pk}

    reviewer = api(cast.platform_admin)
    assert _ids(reviewer, path, status="draft") == {own_draft.pk, other_draft.pk}
    assert _ids(reviewer, path, status="closed") == {closed.pk}


def test_orgs_filter_by_type_status_and_name(cast, api):
    anonymous = api(None)
    assert _ids(anonymous, "/api/v1/orgs/", org_type="enterprise") == {
        cast.enterprise.pk,
        cast.enterprise2.pk,
    }
    assert _ids(anonymous, "/api/v1/orgs/", org_type="university") == {cast.university.pk}
    assert _ids(anonymous, "/api/v1/orgs/", status="pending") == set()
    reviewer = api(cast.platform_admin)
    assert _ids(reviewer, "/api/v1/orgs/", status="pending") == {cast.pending_university.pk}
    assert _ids(reviewer, "/api/v1/orgs/", org_type="university") == {
        cast.university.pk,
        cast.pending_university.pk,
    }
    # a member of a pending organization sees it, and only it among the pending ones
    assert _ids(api(cast.pending_member), "/api/v1/orgs/", status="pending") == {cast.pending_university.pk}

    named = factories.organization(OrganizationType.INSTITUTE, name="浙江省先进材料研究院")
    factories.organization(OrganizationType.INSTITUTE, name="江苏省电力研究院")
    assert _ids(anonymous, "/api/v1/orgs/", q="先进材料") == {named.pk}


# ---- patents -------------------------------------------------------------------------------------------


@pytest.fixture
def patents(cast) -> dict[str, Any]:
    return {
        "battery": factories.patent(
            cast.university,
            title="一种LiFePO4正极材料",
            abstract="碳包覆。",
            ipc_codes=["H01M 4/525"],
            field="电学",
            patent_type="invention",
            legal_status="granted",
            filing_date=date(2020, 5, 17),
            price=Decimal("100000"),
            published_at=datetime(2024, 3, 1, tzinfo=UTC),
        ),
        "motor": factories.patent(
            cast.institute,
            title="永磁电机转子",
            abstract="适用于锂电池储能系统的电机。",
            ipc_codes=["H02K 1/27", "H01M 10/0525"],
            field="机械",
            patent_type="utility_model",
            legal_status="pending",
            filing_date=date(2018, 3, 1),
            price=None,
            published_at=datetime(2024, 6, 1, tzinfo=UTC),
        ),
        "carbon": factories.patent(
            cast.university,
            title="多孔碳的制备方法",
            abstract="以生物质为原料。",
            ipc_codes=["C01B 32/05"],
            field="化学",
            patent_type="design",
            legal_status="lapsed",
            filing_date=date(2022, 1, 10),
            price=Decimal("900000"),
            published_at=datetime(2024, 9, 1, tzinfo=UTC),
        ),
        "free": factories.patent(
            cast.institute,
            title="免费许可的测量装置",
            ipc_codes=["G01N 27/416"],
            field="电学",
            patent_type="invention",
            filing_date=date(2019, 7, 1),
            price=Decimal("0"),
            published_at=datetime(2024, 12, 1, tzinfo=UTC),
        ),
        "hidden": factories.patent(
            cast.university, status=ListingStatus.DRAFT, ipc_codes=["H01M 4/525"], field="电学"
        ),
    }


@pytest.mark.parametrize(
    ("ipc", "expected"),
    [
        ("H", {"battery", "motor"}),
        ("H01", {"battery", "motor"}),
        ("H01M", {"battery", "motor"}),
        ("h01m", {"battery", "motor"}),
        ("H02", {"motor"}),
        ("H01M 4/", {"battery"}),
        ("H01M4/", {"battery"}),
        ("H01M  4/5", {"battery"}),
        ("H01M 4/525", {"battery"}),
        ("H01M 10/", {"motor"}),
        ("H01M 4/526", set()),
        ("C", {"carbon"}),
        ("C01B 32/", {"carbon"}),
        ("A", set()),
    ],
)
def test_patent_ipc_prefix_at_every_level(api, patents, ipc, expected):
    assert _ids(api(None), "/api/v1/patents/", ipc=ipc) == {patents[name].pk for name in expected}


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"field": "电学"}, {"battery", "free"}),
        ({"field": "电"}, set()),
        ({"type": "invention"}, {"battery", "free"}),
        ({"type": "utility_model"}, {"motor"}),
        ({"type": "design"}, {"carbon"}),
        ({"legal_status": "granted"}, {"battery"}),
        ({"legal_status": "lapsed"}, {"carbon"}),
        ({"legal_status": "expired"}, set()),
        ({"filing_date_after": "2020-05-17"}, {"battery", "carbon"}),
        ({"filing_date_before": "2020-05-17"}, {"battery", "motor", "free"}),
        ({"filing_date_after": "2019-01-01", "filing_date_before": "2021-12-31"}, {"battery", "free"}),
        # expiry: utility model 2018 + 10 = 2028, inventions 2019/2020 + 20, design 2022 + 15 = 2037
        ({"expiry_date_before": "2037-01-10"}, {"motor", "carbon"}),
        ({"expiry_date_after": "2039-07-01"}, {"battery", "free"}),
        ({"expiry_date_after": "2030-01-01", "expiry_date_before": "2039-12-31"}, {"carbon", "free"}),
        ({"price_min": "100000"}, {"battery", "carbon"}),
        ({"price_min": "100000.01"}, {"carbon"}),
        ({"price_max": "100000"}, {"battery", "free"}),
        ({"price_min": "0", "price_max": "0"}, {"free"}),
        ({"price_min": "1", "price_max": "999999"}, {"battery", "carbon"}),
        ({"published_after": "2024-06-01T00:00:00Z"}, {"motor", "carbon", "free"}),
        ({"published_before": "2024-06-01T00:00:00+00:00"}, {"battery", "motor"}),
        (
            {"published_after": "2024-05-01T00:00:00Z", "published_before": "2024-10-01T00:00:00Z"},
            {"motor", "carbon"},
        ),
        ({"q": "lifepo4"}, {"battery"}),
        ({"q": "锂电池"}, {"motor"}),
        ({"q": "制备"}, {"carbon"}),
        ({"q": "不存在的词"}, set()),
        ({"field": "电学", "price_min": "1"}, {"battery"}),
        ({"ipc": "H01M", "type": "utility_model"}, {"motor"}),
    ],
)
def test_patent_filters(api, patents, params, expected):
    assert _ids(api(None), "/api/v1/patents/", **params) == {patents[name].pk for name in expected}


@pytest.mark.parametrize(
    ("bound", "expected"),
    [
        # ISO 8601 allows offsets PostgreSQL does not (beyond ±15:59); the instant is what counts
        ({"published_after": "2024-06-01T20:00:00+20:00"}, {"motor", "carbon", "free"}),
        ({"published_before": "2024-05-31T02:01:00-21:59"}, {"battery", "motor"}),
        ({"published_after": "1995-10-18T10:08:15+17:19"}, {"battery", "motor", "carbon", "free"}),
    ],
)
def test_published_range_accepts_any_iso_offset(api, patents, bound, expected):
    assert _ids(api(None), "/api/v1/patents/", **bound) == {patents[name].pk for name in expected}


def test_owner_member_filters_include_own_drafts(cast, api, patents):
    assert _ids(api(cast.uni_member), "/api/v1/patents/", ipc="H01M 4/") == {
        patents["battery"].pk,
        patents["hidden"].pk,
    }


# ---- achievements --------------------------------------------------------------------------------------


@pytest.fixture
def achievements(cast) -> dict[str, Any]:
    battery_patent = factories.patent(cast.university, ipc_codes=["H01M 4/525", "C01G 53/00"])
    motor_patent = factories.patent(cast.institute, ipc_codes=["H02K 1/27"])
    coating = factories.achievement(
        cast.university,
        name="高镍正极包覆技术",
        teaser="循环寿命提升30%。",
        keywords=["正极", "包覆"],
        field="材料科学与工程",
        category="新材料",
        trl=6,
        stage="pilot",
        pricing_method="listing",
        transfer_modes=["transfer", "licence"],
        price=Decimal("500000"),
        published_at=datetime(2024, 2, 1, tzinfo=UTC),
    )
    coating.patents.add(battery_patent)
    motor = factories.achievement(
        cast.institute,
        name="高效永磁电机",
        teaser="适用于新能源汽车的Motor。",
        keywords=["电机"],
        field="电气工程",
        category="装备制造",
        trl=8,
        stage="industrial",
        pricing_method="negotiated",
        transfer_modes=["investment"],
        price=None,
        published_at=datetime(2024, 8, 1, tzinfo=UTC),
    )
    motor.patents.add(motor_patent)
    lab = factories.achievement(
        cast.university,
        name="土壤修复菌剂",
        teaser="实验室阶段的正极废料回收思路。",
        keywords=["生物", "正极材料"],
        field="环境科学",
        category="",
        trl=3,
        stage="lab",
        pricing_method="open_to_offers",
        transfer_modes=[],
        price=Decimal("20000"),
        published_at=datetime(2024, 11, 1, tzinfo=UTC),
    )
    hidden = factories.achievement(cast.university, status=ListingStatus.WITHDRAWN, trl=6)
    hidden.patents.add(battery_patent)
    return {"coating": coating, "motor": motor, "lab": lab, "hidden": hidden}


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"ipc": "H"}, {"coating", "motor"}),
        ({"ipc": "H01M"}, {"coating"}),
        ({"ipc": "H01M 4/"}, {"coating"}),
        ({"ipc": "C01G"}, {"coating"}),
        ({"ipc": "H02K 1/27"}, {"motor"}),
        ({"ipc": "A01"}, set()),
        ({"field": "电气工程"}, {"motor"}),
        ({"category": "新材料"}, {"coating"}),
        ({"stage": "lab"}, {"lab"}),
        ({"stage": "trial"}, set()),
        ({"pricing_method": "listing"}, {"coating"}),
        ({"transfer_mode": "licence"}, {"coating"}),
        ({"transfer_mode": "investment"}, {"motor"}),
        ({"transfer_mode": "consulting"}, set()),
        ({"trl_min": "6"}, {"coating", "motor"}),
        ({"trl_max": "6"}, {"coating", "lab"}),
        ({"trl_min": "4", "trl_max": "7"}, {"coating"}),
        ({"trl_min": "9"}, set()),
        ({"price_min": "20000"}, {"coating", "lab"}),
        ({"price_max": "499999.99"}, {"lab"}),
        ({"price_min": "20000.01", "price_max": "500000"}, {"coating"}),
        ({"keyword": "正极"}, {"coating"}),
        ({"keyword": "正极材料"}, {"lab"}),
        ({"keyword": "正"}, set()),
        ({"q": "motor"}, {"motor"}),
        ({"q": "正极"}, {"coating", "lab"}),
        ({"published_after": "2024-08-01T00:00:00Z"}, {"motor", "lab"}),
        ({"published_before": "2024-08-01T00:00:00Z"}, {"coating", "motor"}),
    ],
)
def test_achievement_filters(api, achievements, params, expected):
    assert _ids(api(None), "/api/v1/achievements/", **params) == {achievements[name].pk for name in expected}


# ---- demands -------------------------------------------------------------------------------------------


@pytest.fixture
def demands(cast) -> dict[str, Any]:
    return {
        "warning": factories.demand(
            cast.enterprise,
            title="储能电池热失控预警",
            description="需要早期预警算法。",
            field="电学",
            ipc_hints=["H01M"],
            budget_min=Decimal("100000"),
            budget_max=Decimal("500000"),
            deadline=date(2030, 1, 1),
            collaboration_mode="joint_development",
            urgency="high",
        ),
        "casting": factories.demand(
            cast.enterprise2,
            title="铝合金压铸缺陷检测",
            description="X光检测，对锂电池壳体同样适用。",
            field="机械",
            ipc_hints=["G01N 23/04", "B22D 17/00"],
            budget_min=Decimal("600000"),
            budget_max=Decimal("1000000"),
            deadline=date(2031, 6, 30),
            collaboration_mode="commissioned",
            urgency="normal",
        ),
        "open": factories.demand(
            cast.enterprise,
            title="车间节能改造咨询",
            description="不限预算。",
            field="能源",
            ipc_hints=[],
            budget_min=None,
            budget_max=None,
            deadline=None,
            collaboration_mode="consulting",
            urgency="low",
        ),
        "hidden": factories.demand(cast.enterprise, status=ListingStatus.PENDING, ipc_hints=["H01M"]),
    }


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"ipc": "H"}, {"warning"}),
        ({"ipc": "H01M"}, {"warning"}),
        ({"ipc": "G01N 23/"}, {"casting"}),
        ({"ipc": "B22"}, {"casting"}),
        ({"ipc": "F"}, set()),
        ({"field": "机械"}, {"casting"}),
        ({"collaboration_mode": "commissioned"}, {"casting"}),
        ({"collaboration_mode": "licence"}, set()),
        ({"urgency": "high"}, {"warning"}),
        ({"urgency": "low"}, {"open"}),
        ({"deadline_after": "2030-01-01"}, {"warning", "casting"}),
        ({"deadline_after": "2030-01-02"}, {"casting"}),
        ({"deadline_before": "2030-12-31"}, {"warning"}),
        # budgets are ranges: budget_min keeps budgets reaching it, budget_max those starting below it
        ({"budget_min": "500000"}, {"warning", "casting"}),
        ({"budget_min": "500000.01"}, {"casting"}),
        ({"budget_max": "600000"}, {"warning", "casting"}),
        ({"budget_max": "599999"}, {"warning"}),
        ({"budget_min": "550000", "budget_max": "580000"}, set()),
        ({"budget_min": "200000", "budget_max": "700000"}, {"warning", "casting"}),
        ({"q": "锂电池"}, {"casting"}),
        ({"q": "预警"}, {"warning"}),
        ({"owner_type": "enterprise", "urgency": "normal"}, {"casting"}),
    ],
)
def test_demand_filters(api, demands, params, expected):
    assert _ids(api(None), "/api/v1/demands/", **params) == {demands[name].pk for name in expected}


# ---- experts -------------------------------------------------------------------------------------------


def test_expert_filters(cast, api):
    battery = factories.expert(cast.university, name="王电池", fields=["电化学储能", "材料"])
    motor = factories.expert(cast.institute, name="李电机", fields=["电机"])
    hidden = factories.expert(cast.university, name="赵隐藏", fields=["电机"], is_public=False)
    anonymous = api(None)
    assert _ids(anonymous, "/api/v1/experts/", field="电机") == {motor.pk}
    assert _ids(anonymous, "/api/v1/experts/", field="材料") == {battery.pk}
    assert _ids(anonymous, "/api/v1/experts/", field="电化学") == set()
    assert _ids(anonymous, "/api/v1/experts/", q="电池") == {battery.pk}
    assert _ids(anonymous, "/api/v1/experts/", organization=cast.university.pk) == {battery.pk}
    assert _ids(anonymous, "/api/v1/experts/", owner_type="institute") == {motor.pk}
    # colleagues see the hidden profile, and filters apply to it too
    assert _ids(api(cast.uni_member), "/api/v1/experts/", field="电机") == {motor.pk, hidden.pk}


def test_expert_q_finds_the_subject_in_fields_and_profile_word_by_word(cast, api):
    """`q=锂离子电池` found nobody: `q` looked at names only. Each word of the query (jieba splits Chinese,
    which has no spaces) must appear in the name, title, fields, biography or representative achievements."""
    cathode = factories.expert(
        cast.university,
        name="陈明",
        fields=["新能源材料"],
        bio="长期从事锂离子电池正极材料的制备与表征研究。",
    )
    storage = factories.expert(cast.institute, name="周华", fields=["锂离子电池", "储能系统"])
    coating = factories.expert(
        cast.institute, name="吴刚", fields=["电机"], achievements_summary="主持高镍正极包覆技术产业化项目"
    )
    motor = factories.expert(cast.institute, name="李电机", fields=["电机"], bio="研究永磁同步电机控制。")
    hidden = factories.expert(cast.university, name="赵隐藏", bio="锂离子电池热失控预警", is_public=False)
    anonymous = api(None)

    assert _ids(anonymous, "/api/v1/experts/", q="锂离子电池") == {cathode.pk, storage.pk}
    assert _ids(anonymous, "/api/v1/experts/", q="锂离子电池正极材料") == {cathode.pk}
    assert _ids(anonymous, "/api/v1/experts/", q="正极，锂离子电池") == {cathode.pk}  # words apart, any order
    assert _ids(anonymous, "/api/v1/experts/", q="正极") == {cathode.pk, coating.pk}
    assert _ids(anonymous, "/api/v1/experts/", q="储能系统") == {storage.pk}
    assert _ids(anonymous, "/api/v1/experts/", q="永磁") == {motor.pk}
    assert _ids(anonymous, "/api/v1/experts/", q="陈明") == {cathode.pk}  # names still count
    assert _ids(anonymous, "/api/v1/experts/", q="正极 电机控制") == set()  # every word, not any
    assert _ids(anonymous, "/api/v1/experts/", q="e@example.org") == set()  # contacts are not searched
    assert _ids(api(cast.uni_member), "/api/v1/experts/", q="热失控") == {hidden.pk}


# ---- values a filter cannot use ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("/api/v1/patents/", {"ipc": "ZZ"}, "ipc"),
        ("/api/v1/patents/", {"ipc": "H01M/4"}, "ipc"),
        ("/api/v1/achievements/", {"ipc": "ZZ"}, "ipc"),
        ("/api/v1/demands/", {"ipc": "ZZ"}, "ipc"),
        ("/api/v1/patents/", {"region": "12"}, "region"),
        ("/api/v1/achievements/", {"region": "33010"}, "region"),
        ("/api/v1/demands/", {"region": "abcdef"}, "region"),
        ("/api/v1/experts/", {"region": "12"}, "region"),
        ("/api/v1/orgs/", {"region": "12"}, "region"),
        ("/api/v1/achievements/", {"trl_min": "10"}, "trl_min"),
        ("/api/v1/achievements/", {"trl_max": "0"}, "trl_max"),
        ("/api/v1/achievements/", {"trl_min": "2.5"}, "trl_min"),
        ("/api/v1/patents/", {"price_min": "-1"}, "price_min"),
        ("/api/v1/patents/", {"price_min": "1e30"}, "price_min"),
        ("/api/v1/patents/", {"price_max": "abc"}, "price_max"),
        ("/api/v1/patents/", {"price_max": "NaN"}, "price_max"),
        ("/api/v1/achievements/", {"price_max": "1e30"}, "price_max"),
        ("/api/v1/demands/", {"budget_min": "-1"}, "budget_min"),
        ("/api/v1/demands/", {"budget_max": "1e30"}, "budget_max"),
        ("/api/v1/patents/", {"filing_date_after": "notadate"}, "filing_date_after"),
        ("/api/v1/patents/", {"expiry_date_before": "2020-02-30"}, "expiry_date_before"),
        ("/api/v1/patents/", {"published_after": "notadate"}, "published_after"),
        ("/api/v1/patents/", {"published_before": "0001-01-01T00:00:00+17:00"}, "published_before"),
        ("/api/v1/demands/", {"published_after": "9999-12-31T23:00:00-05:00"}, "published_after"),
        ("/api/v1/demands/", {"deadline_after": "notadate"}, "deadline_after"),
        ("/api/v1/patents/", {"type": "software"}, "type"),
        ("/api/v1/patents/", {"legal_status": "alive"}, "legal_status"),
        ("/api/v1/patents/", {"status": "bogus"}, "status"),
        ("/api/v1/patents/", {"owner_type": "alien"}, "owner_type"),
        ("/api/v1/patents/", {"owner": "abc"}, "owner"),
        ("/api/v1/patents/", {"owner": "1.5"}, "owner"),
        ("/api/v1/achievements/", {"stage": "moon"}, "stage"),
        ("/api/v1/achievements/", {"transfer_mode": "gift"}, "transfer_mode"),
        ("/api/v1/achievements/", {"pricing_method": "free"}, "pricing_method"),
        ("/api/v1/demands/", {"urgency": "asap"}, "urgency"),
        ("/api/v1/demands/", {"collaboration_mode": "marriage"}, "collaboration_mode"),
        ("/api/v1/experts/", {"owner_type": "alien"}, "owner_type"),
        ("/api/v1/experts/", {"organization": "abc"}, "organization"),
        ("/api/v1/orgs/", {"org_type": "alien"}, "org_type"),
        ("/api/v1/orgs/", {"status": "bogus"}, "status"),
        ("/api/v1/patents/", {"q": "x" * 101}, "q"),
        ("/api/v1/experts/", {"q": "nul\x00byte"}, "q"),
    ],
)
def test_unusable_filter_value_is_400_naming_the_parameter(api, path, params, field):
    response = api(None).get(path, params)
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert error["message"]
    assert list(error["fields"]) == [field]
    assert all(isinstance(message, str) and message for message in error["fields"][field])


def test_each_end_of_a_date_range_is_named_on_its_own(api):
    response = api(None).get(
        "/api/v1/patents/",
        {"published_after": "2024-01-01T00:00:00Z", "published_before": "soon", "filing_date_after": "x"},
    )
    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) == {"published_before", "filing_date_after"}


def test_every_bad_parameter_is_reported_at_once(api):
    response = api(None).get("/api/v1/achievements/", {"trl_min": "10", "price_min": "-1", "stage": "moon"})
    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) == {"trl_min", "price_min", "stage"}


def test_unknown_parameters_are_ignored(cast, api):
    published = factories.patent(cast.university)
    assert _ids(api(None), "/api/v1/patents/", colour="blue") == {published.pk}


def test_pending_organizations_stay_hidden_from_the_public_whatever_the_filter(api):
    pending = factories.organization(OrganizationType.UNIVERSITY, status=OrganizationStatus.PENDING)
    assert pending.pk not in _ids(api(None), "/api/v1/orgs/", region=pending.county_code)


def test_list_filters_do_not_hide_an_organizations_members(cast, api):
    """The members action is a detail route: list filters sent with it must not 404 the organization."""
    response = api(cast.uni_member).get(
        f"/api/v1/orgs/{cast.university.pk}/members/", {"org_type": "enterprise"}
    )
    assert response.status_code == 200
    assert {member["username"] for member in response.json()} == {"uni_admin", "uni_member"}
