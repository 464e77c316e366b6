"""Oversight of trading (item 7): platform administrators read every deal and every objection, government
members the deals (and their objections) where a party is in their jurisdiction, by the parties' region codes
at the level of their own organization's code; neither changes anything but registrations (and the
administrators' rulings)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from market.accounts.models import OrganizationType
from market.trading.models import Deal
from market.trading.services import deals
from tests import factories
from tests.trading.helpers import deal_between, noticed_deal

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_deals(cast) -> tuple[Deal, Deal]:
    """Zhejiang: the university (330106) sells to the enterprise (330127), negotiating. Elsewhere: the
    institute (Nanjing, 320102) was to license to the second enterprise (Shenzhen, 440305), cancelled."""
    zhejiang = deal_between(cast.uni_member, cast.ent_member)
    elsewhere = deal_between(cast.inst_member, cast.ent2_member, mode="licence_non_exclusive")
    deals.deal_cancel(deal=elsewhere, user=cast.ent2_member, reason="预算调整")
    return zhejiang, elsewhere


def _ids(api, user, **params) -> list[int]:
    response = api(user).get("/api/v1/deals/", params)
    assert response.status_code == 200, response.content
    return sorted(row["id"] for row in response.json()["results"])


def test_administrators_read_every_deal_with_filters(cast, api, two_deals):
    zhejiang, elsewhere = two_deals
    admin = cast.platform_admin
    assert _ids(api, admin) == sorted([zhejiang.pk, elsewhere.pk])
    assert _ids(api, admin, stage="negotiating") == [zhejiang.pk]
    assert _ids(api, admin, stage="cancelled") == [elsewhere.pk]
    assert _ids(api, admin, transaction_mode="licence_non_exclusive") == [elsewhere.pk]
    assert _ids(api, admin, region="320000") == [elsewhere.pk]  # the seller's province
    assert _ids(api, admin, region="440305") == [elsewhere.pk]  # the buyer's county
    assert _ids(api, admin, region="330100") == [zhejiang.pk]  # both parties' city
    later = (timezone.now() + timedelta(minutes=5)).isoformat()
    earlier = (timezone.now() - timedelta(minutes=5)).isoformat()
    assert _ids(api, admin, created_after=later) == []
    assert _ids(api, admin, created_after=earlier, created_before=later) == sorted(
        [zhejiang.pk, elsewhere.pk]
    )
    for bad in ({"region": "33"}, {"created_after": "soon"}, {"stage": "signed"}):
        response = api(admin).get("/api/v1/deals/", bad)
        assert response.status_code == 400 and list(response.json()["error"]["fields"]) == list(bad)
    detail = api(admin).get(f"/api/v1/deals/{elsewhere.pk}/")
    assert detail.status_code == 200
    assert [row["action"] for row in detail.json()["audit"]] == ["opened", "cancel"]


def test_oversight_changes_nothing_on_a_deal(cast, api, two_deals):
    zhejiang, _elsewhere = two_deals
    writes = [
        ("sign", {}),
        ("advance", {"to": "paid"}),
        ("cancel", {"reason": "检查"}),
        ("broker", {"broker_id": cast.broker.pk}),
        ("milestones", {"title": "检查"}),
        ("documents", {"title": "检查", "url": "https://example.org/a.pdf"}),
        (
            "registration",
            {"contract_type": "transfer", "contract_value": "1", "technology_transaction_value": "1"},
        ),
    ]
    for user in (cast.platform_admin, cast.gov_member, cast.registrar):
        for step, body in writes:
            response = api(user).post(f"/api/v1/deals/{zhejiang.pk}/{step}/", body, format="json")
            assert response.status_code == 403, (user.username, step, response.content)
    zhejiang.refresh_from_db()
    assert (zhejiang.version, zhejiang.stage) == (1, "negotiating")


def test_government_members_see_the_deals_of_their_jurisdiction(cast, api, two_deals):
    """A county bureau sees the deals where a party is in its county, a city bureau its city's, a provincial
    one its province's: the level of the bureau's own region code."""
    zhejiang, elsewhere = two_deals
    assert _ids(api, cast.gov_member) == [zhejiang.pk]  # the county bureau of 330106 (the university's)
    assert _ids(api, cast.registrar) == [zhejiang.pk]
    assert api(cast.gov_member).get(f"/api/v1/deals/{elsewhere.pk}/").status_code == 404

    def member_of(county_code: str):
        bureau = factories.organization(OrganizationType.GOVERNMENT, county_code=county_code)
        return factories.user(bureau)

    assert _ids(api, member_of("330127")) == [zhejiang.pk]  # the buyer's county
    assert _ids(api, member_of("330100")) == [zhejiang.pk]  # Hangzhou
    assert _ids(api, member_of("320000")) == [elsewhere.pk]  # Jiangsu: the institute
    assert _ids(api, member_of("440300")) == [elsewhere.pk]  # Shenzhen: the second enterprise
    assert _ids(api, member_of("330102")) == []  # another county of Hangzhou
    assert _ids(api, member_of("110000")) == []
    # a bureau still under review oversees nothing
    pending = factories.organization(OrganizationType.GOVERNMENT, county_code="330000", status="pending")
    assert _ids(api, factories.user(pending)) == []
    # within its jurisdiction the filters narrow further
    assert _ids(api, member_of("330000"), region="330127", stage="negotiating") == [zhejiang.pk]
    assert _ids(api, member_of("320000"), stage="negotiating") == []


def test_the_objections_queue(cast, api):
    """Administrators see every objection and filter by status (and deal); government members those on their
    region's deals; anyone else only what they lodged."""
    local = noticed_deal(cast.uni_member, cast.ent_member)
    remote = noticed_deal(cast.inst_member, cast.ent2_member)
    lodged = {
        (deal.pk, user.username): api(user)
        .post(
            f"/api/v1/notices/{deal.pk}/objections/", {"text": f"{user.username} 认为价格偏低"}, format="json"
        )
        .json()["id"]
        for deal in (local, remote)
        for user in (cast.inst_member, cast.ent_admin)
    }
    every = sorted(lodged.values())

    def queue(user, **params):
        response = api(user).get("/api/v1/objections/", params)
        assert response.status_code == 200, response.content
        return sorted(row["id"] for row in response.json()["results"])

    assert queue(cast.platform_admin) == every
    ruled = lodged[(remote.pk, "ent_admin")]
    assert (
        api(cast.platform_admin)
        .post(f"/api/v1/objections/{ruled}/rule/", {"upheld": False, "ruling": "定价合理"}, format="json")
        .status_code
        == 200
    )
    assert queue(cast.platform_admin, status="open") == sorted(set(every) - {ruled})
    assert queue(cast.platform_admin, status="dismissed") == [ruled]
    assert queue(cast.platform_admin, deal=local.pk) == sorted(
        lodged[(local.pk, name)] for name in ("inst_member", "ent_admin")
    )
    assert queue(cast.gov_member) == sorted(lodged[(local.pk, name)] for name in ("inst_member", "ent_admin"))
    assert queue(cast.inst_member) == sorted(lodged[(deal.pk, "inst_member")] for deal in (local, remote))
    assert queue(cast.ent2_member) == []
    row = api(cast.platform_admin).get(f"/api/v1/objections/{ruled}/").json()
    assert row["deal_title"] == remote.title and row["objector"] == cast.ent_admin.pk
    assert row["status"] == "dismissed" and row["ruling"] == "定价合理"
    assert api(cast.gov_member).get(f"/api/v1/objections/{ruled}/").status_code == 404
    bad = api(cast.platform_admin).get("/api/v1/objections/", {"status": "pending"})
    assert bad.status_code == 400 and list(bad.json()["error"]["fields"]) == ["status"]
    assert api(None).get("/api/v1/objections/").status_code == 401
