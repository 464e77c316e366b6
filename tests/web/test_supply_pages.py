"""A university's pages in a real browser: its listings with their review status and the reviewer's reason,
the patent and achievement forms (a service's refusal beside its field), submit, withdraw and resubmit, who
accepted an NDA, the offers and proposals of the organization, and opening an auction. Who may not use
these pages gets the API's answer: 403 for other roles, 404 or 403 for another organization's listing."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from market.catalog.models import ListingStatus, Patent
from market.catalog.services import achievement_accept_nda
from market.trading.models import Auction
from market.trading.services.offers import offer_make
from market.trading.services.proposals import proposal_submit
from tests import factories
from tests.web.conftest import search_catch_up

pytestmark = pytest.mark.django_db(transaction=True)


def _field_errors(page, field_id: str) -> str:
    """The error messages Django renders in the field's own group, right beside the input."""
    return page.locator(f"div:has(> #{field_id}) .errorlist").inner_text()


def _fill_patent(page, *, application_number: str, title: str) -> None:
    page.fill("#id_application_number", application_number)
    page.fill("#id_title", title)
    page.fill("#id_abstract", "本发明公开了一种固态电解质薄膜的制备方法。")
    page.fill("#id_ipc_codes", "H01M 10/0562、H01M 4/13")
    page.fill("#id_applicants", "浙江某大学")
    page.fill("#id_inventors", "张三，李四, 王五")
    page.fill("#id_filing_date", "2021-03-15")
    page.fill("#id_field", "新能源")
    page.fill("#id_price", "300000")


def test_a_patent_is_listed_rejected_fixed_and_published(cast, visit, engine) -> None:
    member = visit(cast.uni_member)
    page = member.open("/my/listings/")
    assert page.locator("h1").inner_text() == "本机构的成果与专利"
    assert page.get_by_role("link", name="我的发布").is_visible()
    member.check("my-listings-empty")

    page.get_by_role("link", name="新建专利").click()
    _fill_patent(page, application_number="2021100012", title="一种固态电解质薄膜的制备方法")
    page.get_by_role("button", name="保存草稿").click()
    assert "申请号" in _field_errors(page, "id_application_number")
    assert page.locator("#id_application_number").get_attribute("aria-invalid") == "true"
    member.check("patent-form-errors")

    number = factories.application_number(12, year=2021)
    page.fill("#id_application_number", number)
    page.get_by_role("button", name="保存草稿").click()
    page.wait_for_url("**/my/listings/patents/*/")
    patent = Patent.objects.get()
    assert (patent.application_number, patent.status) == (number, ListingStatus.DRAFT)
    assert (patent.ipc_codes, patent.inventors) == (["H01M 10/0562", "H01M 4/13"], ["张三", "李四", "王五"])
    assert patent.patent_type == "invention"  # derived from the application number by the service
    member.check("my-listing-draft")
    page.get_by_role("button", name="提交审核").click()
    assert page.locator(".badge").first.inner_text() == "待审核"

    admin = visit(cast.platform_admin)
    queue = admin.open("/review/")
    assert queue.get_by_role("link", name="审核", exact=True).is_visible()
    admin.check("review-queue")
    queue.get_by_role("link", name="一种固态电解质薄膜的制备方法").click()
    assert number in queue.locator("dl.facts").inner_text()
    admin.check("review-item")
    queue.get_by_role("button", name="按此理由驳回").click()
    assert "理由" in _field_errors(queue, "id_reason")
    admin.check("review-reject-error")
    queue.fill("#id_reason", "请补充摘要中的技术效果。")
    queue.get_by_role("button", name="按此理由驳回").click()
    queue.wait_for_url("**/review/")
    assert "已驳回" in queue.locator(".messages").inner_text()

    page.goto(member.base_url + "/my/listings/")
    row = page.locator("#my-patents tbody tr").first
    assert "请补充摘要中的技术效果。" in row.locator(".review-reason").inner_text()
    assert row.locator(".badge").inner_text() == "已驳回"
    member.check("my-listings-rejected")
    row.get_by_role("link", name="编辑").click()
    assert page.locator("#id_ipc_codes").input_value() == "H01M 10/0562、H01M 4/13"
    page.fill("#id_abstract", "本发明公开了一种固态电解质薄膜的制备方法，离子电导率提高一倍。")
    member.check("patent-edit")
    page.get_by_role("button", name="保存修改").click()
    page.wait_for_url("**/my/listings/patents/*/")
    page.get_by_role("button", name="重新提交审核").click()
    assert page.locator(".badge").first.inner_text() == "待审核"

    queue.goto(admin.base_url + f"/review/patents/{patent.pk}/")
    queue.get_by_role("button", name="通过", exact=True).click()
    queue.wait_for_url("**/review/")
    assert "审核通过" in queue.locator(".messages").inner_text()

    page.goto(member.base_url + "/my/listings/")
    assert page.locator("#my-patents tbody tr .badge").first.inner_text() == "已发布"
    member.check("my-listings-published")
    search_catch_up()  # the search consumer's part: the public page asks the index for similar listings
    page.goto(member.base_url + f"/patents/{patent.pk}/")
    assert page.locator("h1").inner_text() == "一种固态电解质薄膜的制备方法"
    assert "离子电导率提高一倍" in page.content()


def test_an_achievement_with_its_nda_signers_offers_proposals_and_an_auction(cast, visit) -> None:
    achievement = factories.achievement(cast.university, name="高镍正极包覆技术")
    factories.patent(cast.university, title="一种高镍正极材料", status=ListingStatus.DRAFT)
    achievement_accept_nda(achievement=achievement, user=cast.ent_member)
    offer_make(
        user=cast.ent2_member,
        listing_kind="achievement",
        listing_id=achievement.pk,
        amount=Decimal("420000"),
        transaction_mode="transfer",
    )
    demand = factories.demand(cast.enterprise, title="储能电池热失控预警")
    proposal_submit(
        demand=demand,
        user=cast.uni_member,
        summary="基于阻抗谱的早期预警",
        approach="在线阻抗谱测量与模型。",
        amount=Decimal("200000"),
        transaction_mode="joint_development",
    )

    member = visit(cast.uni_member)
    page = member.open("/my/listings/")
    listings = page.locator("main").inner_text()
    for expected in (
        "高镍正极包覆技术",
        "¥420,000",
        "储能电池热失控预警",
        "基于阻抗谱的早期预警",
        "ent_member",
    ):
        assert expected in listings
    page.get_by_role("link", name="新建成果").click()
    assert page.get_by_label("一种高镍正极材料", exact=False).count() == 1  # own patents to link
    page.fill("#id_name", "固态电池界面改性技术")
    page.fill("#id_teaser", "界面阻抗降低一半。")
    page.fill("#id_keywords", "固态电池，界面、改性")
    page.fill("#id_field", "材料科学与工程")
    page.fill("#id_trl", "4")
    page.select_option("#id_stage", "lab")
    page.select_option("#id_pricing_method", "listing")
    page.get_by_role("button", name="保存草稿").click()
    assert "价格" in _field_errors(page, "id_price")  # the service: a listed price needs a price
    member.check("achievement-form-errors")

    page.goto(member.base_url + f"/my/listings/achievements/{achievement.pk}/")
    assert "ent_member" in page.locator("main").inner_text()
    member.check("my-listing-achievement")
    page.get_by_role("link", name="发起拍卖").click()
    now = timezone.localtime()
    page.fill("#id_starts_at", (now + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"))
    page.fill("#id_ends_at", now.strftime("%Y-%m-%dT%H:%M"))
    page.fill("#id_starting_price", "300000")
    page.fill("#id_bid_increment", "10000")
    page.fill("#id_reserve_price", "100000")
    page.get_by_role("button", name="开始拍卖").click()
    assert _field_errors(page, "id_ends_at")
    assert _field_errors(page, "id_reserve_price")
    member.check("auction-form-errors")
    page.fill("#id_ends_at", (now + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M"))
    page.fill("#id_reserve_price", "500000")
    page.fill("#id_deposit_amount", "20000")
    page.get_by_role("button", name="开始拍卖").click()
    page.wait_for_url(f"**/my/listings/achievements/{achievement.pk}/")
    auction = Auction.objects.get()
    assert (auction.starting_price, auction.reserve_price, auction.deposit_amount) == (
        Decimal("300000"),
        Decimal("500000"),
        Decimal("20000"),
    )
    assert "¥300,000" in page.locator("main").inner_text()
    assert page.get_by_role("link", name="发起拍卖").count() == 0  # the auction reserves the listing


def test_withdrawing_a_published_patent_makes_it_editable(cast, visit) -> None:
    patent = factories.patent(cast.university, title="一种耐高温涂层")
    member = visit(cast.uni_member)
    page = member.open(f"/my/listings/patents/{patent.pk}/")
    assert page.get_by_role("link", name="编辑").count() == 0
    page.get_by_role("button", name="撤回").click()
    assert page.locator(".badge").first.inner_text() == "已撤回"
    assert page.get_by_role("link", name="编辑").is_visible()


@pytest.mark.parametrize(
    "path", ["/my/listings/", "/my/listings/patents/new/", "/my/listings/achievements/new/"]
)
@pytest.mark.parametrize("role", ["ent_member", "broker", "gov_member", "pending_member", "orgless"])
def test_other_roles_may_not_list_supply(cast, role: str, path: str) -> None:
    client = Client()
    client.force_login(getattr(cast, role))
    assert client.get(path).status_code == 403
    response = client.post(
        "/my/listings/patents/new/",
        {"application_number": factories.application_number(7), "title": "x", "filing_date": "2020-01-01"},
    )
    assert response.status_code == 403
    assert not Patent.objects.exists()


def test_anonymous_visitors_are_sent_to_sign_in(cast) -> None:
    response = Client().get("/my/listings/")
    assert response.status_code == 302
    assert response["Location"].startswith("/sign-in/?next=/my/listings/")


def test_an_enterprise_member_sees_the_forbidden_page(cast, visit) -> None:
    visitor = visit(cast.ent_member)
    response = visitor.page.goto(visitor.base_url + "/my/listings/patents/new/")
    assert response is not None and response.status == 403
    assert visitor.page.get_by_role("link", name="我的发布").count() == 0
    visitor.check("supply-forbidden", status=403)


def test_another_universitys_member_cannot_change_the_listing(cast) -> None:
    """As the API: a listing the other member cannot see is not found (404); a published one they can see
    is not theirs to change (403). Nothing changes either way."""
    other_university = factories.organization("university", county_code="310104")
    outsider = Client()
    outsider.force_login(factories.user(other_university))
    draft = factories.patent(cast.university, status=ListingStatus.REJECTED, review_reason="补充摘要")
    published = factories.patent(cast.university)

    for patent, status in ((draft, 404), (published, 403)):
        before = (patent.title, patent.status, patent.version)
        base = f"/my/listings/patents/{patent.pk}/"
        assert outsider.get(base).status_code == status
        assert outsider.get(f"{base}edit/").status_code == status
        assert outsider.post(f"{base}edit/", {"title": "改掉"}).status_code == status
        for action in ("submit", "withdraw", "auction"):
            assert outsider.post(f"{base}{action}/").status_code == status
        patent.refresh_from_db()
        assert (patent.title, patent.status, patent.version) == before
    assert outsider.get(f"/my/listings/demands/{draft.pk}/").status_code == 404


def test_a_university_with_many_listings_pages_them_and_filters_by_status(cast, visit) -> None:
    for number in range(55):
        factories.patent(cast.university, title=f"批量专利 {number:02d}")
    factories.patent(
        cast.university, title="被驳回的专利", status=ListingStatus.REJECTED, review_reason="缺少摘要"
    )
    member = visit(cast.uni_member)
    page = member.open("/my/listings/")
    assert page.locator("#my-patents tbody tr").count() == 50
    member.check("my-listings-paged")
    page.get_by_role("navigation", name="专利分页").get_by_role("link", name="下一页").click()
    page.wait_for_url("**patents_page=2*")
    assert page.locator("#my-patents tbody tr").count() == 6
    page.select_option("#status-filter", "rejected")
    page.get_by_role("button", name="显示").click()
    page.wait_for_url("**status=rejected*")
    rows = page.locator("#my-patents tbody tr")
    assert rows.count() == 1 and "缺少摘要" in rows.inner_text()
