"""The achievement, demand and expert pages, the home page's most viewed listings and the public notices
(公示) with the objection form: in a real browser (console, axe, screenshots), with the visibility rules of
the API on each page."""

from datetime import date, timedelta

import pytest
from django.test import Client
from django.utils import timezone

from market.catalog.models import ListingStatus, NdaAcceptance
from market.catalog.selectors import achievement_nda_offered
from market.trading.models import Deal, DealObjection, DealStage
from market.trading.selectors import notice_running_list
from market.web.models import ListingDailyViews
from market.web.selectors import MOST_VIEWED_DAYS, most_viewed
from market.web.services import listing_view_record
from tests import factories
from tests.trading.helpers import noticed_deal
from tests.web.conftest import search_index

pytestmark = pytest.mark.django_db(transaction=True)


def _client(user=None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


# ---- achievements ------------------------------------------------------------------------------------------


@pytest.fixture
def coating(cast, engine):
    """A published achievement of the university with an NDA, a linked published patent and a linked draft
    one, indexed beside a similar patent."""
    patent = factories.patent(cast.university, title="一种高镍正极材料包覆方法", field="材料科学与工程")
    draft = factories.patent(cast.university, title="尚未公开的包覆专利", status=ListingStatus.PENDING)
    achievement = factories.achievement(
        cast.university, name="高镍正极材料表面包覆技术", keywords=["正极", "包覆"], ip_forms=["patent"]
    )
    achievement.patents.set([patent, draft])
    search_index(achievement, patent)
    return achievement


def test_achievement_page_hides_the_confidential_details_until_the_nda_is_accepted(
    visit, cast, coating
) -> None:
    anonymous = visit()
    page = anonymous.open(f"/achievements/{coating.pk}/")
    assert page.locator("h1").inner_text() == "高镍正极材料表面包覆技术"
    facts = page.locator("dl.facts").first.inner_text()
    assert "¥500,000" in facts and "转让、许可" in facts and "TRL 5" in facts
    assert coating.confidential_details not in page.content()
    assert coating.nda_text not in page.content()
    assert page.get_by_role("link", name="登录").last.get_attribute("href").startswith("/sign-in/?next=")
    # linked patents as this reader may see them: the draft is not named
    assert page.locator("section").first.get_by_role("link", name="一种高镍正极材料包覆方法").is_visible()
    assert "尚未公开的包覆专利" not in page.content()
    page.locator("#similar-heading + div .result").first.wait_for()
    assert "一种高镍正极材料包覆方法" in page.locator("#similar-heading + div").inner_text()
    anonymous.check("achievement")

    buyer = visit(cast.ent_member)
    page = buyer.open(f"/achievements/{coating.pk}/")
    assert coating.nda_text in page.locator(".nda").inner_text()
    assert coating.confidential_details not in page.content()
    buyer.check("achievement-nda-offered")
    page.get_by_role("button", name="接受保密协议").click()
    page.wait_for_url(f"**/achievements/{coating.pk}/")
    assert "您已接受保密协议" in page.locator(".messages").inner_text()
    assert coating.confidential_details in page.locator(".confidential").inner_text()
    assert page.get_by_role("button", name="接受保密协议").count() == 0
    assert NdaAcceptance.objects.filter(achievement=coating, user=cast.ent_member).count() == 1
    buyer.check("achievement-nda-accepted")


def test_achievement_visibility_is_the_apis(cast, coating) -> None:
    pending = factories.achievement(cast.university, status=ListingStatus.PENDING, name="待审核的成果")
    url = f"/achievements/{pending.pk}/"
    assert _client().get(url).status_code == 404
    assert _client(cast.ent_member).get(url).status_code == 404
    owner_page = _client(cast.uni_member).get(url)
    assert owner_page.status_code == 200 and "待审核的成果" in owner_page.text
    # the owner reads the details without an NDA, and no NDA is offered to them
    assert pending.confidential_details in owner_page.text and "接受保密协议" not in owner_page.text
    assert _client(cast.platform_admin).get(url).status_code == 200
    # accepting an NDA is for signed-in readers: the anonymous are sent to sign in, a hidden one is a 404
    anonymous = _client().post(f"/achievements/{coating.pk}/nda/")
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/sign-in/")
    assert _client(cast.ent_member).post(f"{url}nda/").status_code == 404
    assert not NdaAcceptance.objects.exists()


def test_an_achievement_without_an_nda_offers_none(cast) -> None:
    plain = factories.achievement(cast.university, nda_text="", confidential_details="")
    assert not achievement_nda_offered(achievement=plain, user=cast.ent_member)
    page = _client(cast.ent_member).get(f"/achievements/{plain.pk}/")
    assert "接受保密协议" not in page.text and "权利人未在此提供保密信息" in page.text
    refused = _client(cast.ent_member).post(f"/achievements/{plain.pk}/nda/", follow=True)
    assert "This achievement has no confidential details." in refused.text or "没有保密" in refused.text
    assert not NdaAcceptance.objects.exists()


def test_the_nda_is_offered_to_signed_in_readers_not_yet_allowed(cast) -> None:
    achievement = factories.achievement(cast.university)
    assert not achievement_nda_offered(achievement=achievement, user=None)
    assert not achievement_nda_offered(achievement=achievement, user=cast.uni_member)  # the owner
    assert not achievement_nda_offered(achievement=achievement, user=cast.platform_admin)
    assert achievement_nda_offered(achievement=achievement, user=cast.ent_member)
    NdaAcceptance.objects.create(achievement=achievement, user=cast.ent_member, nda_text=achievement.nda_text)
    assert not achievement_nda_offered(achievement=achievement, user=cast.ent_member)
    withdrawn = factories.achievement(cast.university, status=ListingStatus.WITHDRAWN)
    assert not achievement_nda_offered(achievement=withdrawn, user=cast.ent_member)


# ---- demands -----------------------------------------------------------------------------------------------


def test_an_anonymous_demand_hides_the_enterprise_on_its_page(visit, cast, engine) -> None:
    demand = factories.demand(cast.enterprise, title="储能电池热失控预警算法", is_anonymous=True)
    named = factories.demand(cast.enterprise2, title="工业视觉缺陷检测")
    answer = factories.patent(cast.university, title="一种储能电池热失控预警方法", field="电学")
    search_index(demand, named, answer)

    anonymous = visit()
    page = anonymous.open(f"/demands/{demand.pk}/")
    assert page.locator("h1").inner_text() == "储能电池热失控预警算法"
    assert page.locator(".demand-owner").inner_text() == "某企业（匿名）"
    assert cast.enterprise.name not in page.content()
    assert "¥100,000 – ¥500,000" in page.locator("dl.facts").inner_text()
    page.locator("#similar-heading + div .result").first.wait_for()
    anonymous.check("demand-anonymous")

    for stranger in (None, cast.ent2_member, cast.uni_member):
        assert cast.enterprise.name not in _client(stranger).get(f"/demands/{demand.pk}/").text
    for insider in (cast.ent_member, cast.platform_admin):
        assert cast.enterprise.name in _client(insider).get(f"/demands/{demand.pk}/").text

    page = anonymous.open(f"/demands/{named.pk}/")
    assert page.locator(".demand-owner").inner_text() == cast.enterprise2.name
    anonymous.check("demand")


def test_a_pending_demand_is_its_owners_only(cast) -> None:
    pending = factories.demand(cast.enterprise, status=ListingStatus.PENDING)
    url = f"/demands/{pending.pk}/"
    assert _client().get(url).status_code == 404
    assert _client(cast.ent2_member).get(url).status_code == 404
    assert _client(cast.ent_member).get(url).status_code == 200
    assert not ListingDailyViews.objects.exists()  # an owner reading a draft is no reader of the market


# ---- experts -----------------------------------------------------------------------------------------------


def test_expert_page_shows_contacts_to_signed_in_readers_only(visit, cast, engine) -> None:
    expert = factories.expert(
        cast.university, name="张教授", fields=["电化学储能", "材料"], bio="从事锂电池研究。"
    )
    hidden = factories.expert(cast.institute, name="李研究员", is_public=False)
    search_index(expert, factories.patent(cast.university, title="锂电池电化学储能装置", field="电学"))

    anonymous = visit()
    page = anonymous.open(f"/experts/{expert.pk}/")
    assert page.locator("h1").inner_text().startswith("张教授")
    assert "电化学储能、材料" in page.locator("dl.facts").first.inner_text()
    assert expert.email not in page.content() and expert.phone not in page.content()
    page.locator("#similar-heading + div").get_by_text("锂电池电化学储能装置").wait_for()
    anonymous.check("expert")

    member = visit(cast.ent_member)
    page = member.open(f"/experts/{expert.pk}/")
    assert page.get_by_role("link", name=expert.email).is_visible()
    member.check("expert-signed-in")

    url = f"/experts/{hidden.pk}/"
    assert _client().get(url).status_code == 404
    assert _client(cast.ent_member).get(url).status_code == 404
    assert _client(cast.inst_member).get(url).status_code == 200  # a colleague, as in the API


# ---- most viewed -------------------------------------------------------------------------------------------


def test_views_are_counted_per_listing_and_day_in_place(cast) -> None:
    patent = factories.patent(cast.university)
    today = date(2026, 3, 2)
    for _ in range(3):
        listing_view_record(kind="patent", listing_id=patent.pk, day=today)
    listing_view_record(kind="patent", listing_id=patent.pk, day=today - timedelta(days=1))
    listing_view_record(kind="achievement", listing_id=patent.pk, day=today)
    rows = ListingDailyViews.objects.filter(kind="patent").order_by("day").values_list("day", "views")
    assert list(rows) == [(today - timedelta(days=1), 1), (today, 3)]


def test_most_viewed_counts_the_last_30_days_of_published_listings(cast) -> None:
    today = date(2026, 3, 31)
    popular, steady, withdrawn, old = (factories.patent(cast.university) for _ in range(4))
    withdrawn.status = ListingStatus.WITHDRAWN
    withdrawn.save(update_fields=["status"])

    def views(patent, day, count) -> None:
        ListingDailyViews.objects.create(kind="patent", listing_id=patent.pk, day=day, views=count)

    views(popular, today, 5)
    views(popular, today - timedelta(days=3), 4)
    views(steady, today - timedelta(days=MOST_VIEWED_DAYS - 1), 6)
    views(withdrawn, today, 50)
    views(old, today - timedelta(days=MOST_VIEWED_DAYS), 100)
    ranked = most_viewed(kind="patent", limit=5, today=today)
    assert [(item.listing.pk, item.views) for item in ranked] == [(popular.pk, 9), (steady.pk, 6)]
    assert [item.listing for item in most_viewed(kind="patent", limit=1, today=today)] == [popular]
    assert most_viewed(kind="demand", limit=5, today=today) == []


def test_home_shows_the_most_viewed_listings(visit, cast, engine) -> None:
    seen = factories.patent(cast.university, title="常被浏览的专利")
    factories.patent(cast.university, title="无人问津的专利")
    achievement = factories.achievement(cast.university, name="常被浏览的成果")
    demand = factories.demand(cast.enterprise, title="常被浏览的需求")
    reader = _client()
    for _ in range(3):
        assert reader.get(f"/patents/{seen.pk}/").status_code == 200
    reader.get(f"/achievements/{achievement.pk}/")
    reader.get(f"/demands/{demand.pk}/")

    visitor = visit()
    page = visitor.open("/")
    most = page.locator(".most-viewed")
    assert most.locator("#popular-patents + ol li").all_inner_texts() == ["常被浏览的专利 3 次浏览"]
    assert (
        most.get_by_role("link", name="常被浏览的成果").get_attribute("href")
        == f"/achievements/{achievement.pk}/"
    )
    assert most.get_by_role("link", name="常被浏览的需求").is_visible()
    assert "无人问津的专利" not in most.inner_text()
    visitor.check("home-most-viewed")


# ---- public notices ----------------------------------------------------------------------------------------


@pytest.fixture
def noticed(cast) -> Deal:
    return noticed_deal(cast.uni_member, cast.ent_member)


def test_notices_page_lists_running_notices_and_takes_objections(visit, cast, noticed) -> None:
    ended = noticed_deal(cast.inst_member, cast.ent2_member)
    Deal.objects.filter(pk=ended.pk).update(notice_ends_at=timezone.now() - timedelta(minutes=1))

    anonymous = visit()
    page = anonymous.open("/notices/")
    assert page.locator("h1").inner_text() == "交易公示"
    running = page.locator("article.notice")
    assert running.count() == 1 and noticed.title in running.inner_text()
    assert "¥480,000" in running.inner_text()
    assert page.locator("form textarea").count() == 0
    assert page.get_by_role("link", name="登录").last.is_visible()
    assert ended.title in page.locator("table").inner_text()
    anonymous.check("notices")

    objector = visit(cast.gov_member)
    page = objector.open("/notices/")
    page.get_by_role("button", name="提交异议").click()
    page.wait_for_load_state()
    field = page.get_by_label("异议内容")
    described = field.get_attribute("aria-describedby") or ""
    error = page.locator(f"#id_deal{noticed.pk}-text_error")
    assert error.is_visible() and f"id_deal{noticed.pk}-text_error" in described
    objector.check("notices-objection-error", status=400)
    field.fill("成交价格明显低于评估价值")
    page.get_by_role("button", name="提交异议").click()
    page.wait_for_url("**/notices/")
    assert "异议已提交" in page.locator(".messages").inner_text()
    assert list(DealObjection.objects.values_list("deal_id", "user_id", "text")) == [
        (noticed.pk, cast.gov_member.pk, "成交价格明显低于评估价值")
    ]
    objector.check("notices-objection-lodged")


def test_an_objection_after_the_notice_ended_is_refused_with_the_services_reason(cast, noticed) -> None:
    Deal.objects.filter(pk=noticed.pk).update(notice_ends_at=timezone.now() - timedelta(seconds=1))
    response = _client(cast.gov_member).post(
        f"/notices/{noticed.pk}/objection/", {f"deal{noticed.pk}-text": "迟到"}
    )
    assert response.status_code == 400
    assert "This deal is not in a public notice period." in response.text or "公示期" in response.text
    assert not DealObjection.objects.exists()
    anonymous = _client().post(f"/notices/{noticed.pk}/objection/", {f"deal{noticed.pk}-text": "匿名"})
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/sign-in/")


def test_running_notices_are_those_one_may_still_object_to(cast, noticed) -> None:
    assert list(notice_running_list()) == [noticed]
    Deal.objects.filter(pk=noticed.pk).update(stage=DealStage.CANCELLED)
    assert list(notice_running_list()) == []
    noticed.refresh_from_db()
    assert not noticed.notice_running(timezone.now())
