"""An enterprise's demand pages in a real browser: posting an anonymous demand that the public pages never
name, the reviewer's reason on "My demands", and a university's proposal shortlisted and accepted; plus who
may open these pages at all."""

from decimal import Decimal

import pytest
from django.test import Client

from market.accounts.models import Organization
from market.catalog.models import Demand, ListingStatus
from market.catalog.services import listing_approve
from market.trading.models import Deal, Proposal, ProposalStatus
from market.trading.services import proposals
from tests import factories
from tests.web.conftest import search_catch_up

pytestmark = pytest.mark.django_db(transaction=True)

ENTERPRISE_NAME = "杭州星辰储能科技有限公司"


@pytest.fixture
def named_enterprise(cast):
    """The test enterprise under a name a page could not show by accident."""
    Organization.objects.filter(pk=cast.enterprise.pk).update(name=ENTERPRISE_NAME)
    cast.enterprise.refresh_from_db()
    cast.ent_member.refresh_from_db()
    return cast


def test_an_anonymous_demand_is_posted_and_no_public_page_names_the_enterprise(
    visit, named_enterprise, engine
) -> None:
    cast = named_enterprise
    visitor = visit(cast.ent_member)
    page = visitor.open("/")
    page.get_by_role("link", name="我的需求").click()
    page.wait_for_url("**/my/demands/")
    visitor.check("my-demands-empty")
    page.get_by_role("link", name="发布需求").click()
    visitor.check("demand-create")
    page.fill("#id_title", "退役动力电池快速分选技术")
    page.fill("#id_description", "需要在线检测退役电池一致性的方法，处理能力每小时 500 只。")
    page.fill("#id_field", "新能源")
    page.fill("#id_ipc_hints", "H01M 10/42")
    page.fill("#id_budget_min", "200000")
    page.fill("#id_budget_max", "100000")
    page.select_option("#id_collaboration_mode", "joint_development")
    page.check("#id_is_anonymous")
    page.get_by_role("button", name="提交审核").click()
    # the service's rule, beside the field it is about
    assert page.locator("#id_budget_max_error").inner_text() == "预算上限不能低于预算下限。"
    assert page.locator("#id_budget_max").get_attribute("aria-invalid") == "true"
    visitor.check("demand-create-error")
    page.fill("#id_budget_max", "800000")
    page.get_by_role("button", name="提交审核").click()
    page.wait_for_url("**/my/demands/*/")
    assert page.locator("#demand-status").inner_text() == "待审核"
    assert "匿名" in page.locator("dl.facts").inner_text()
    visitor.check("my-demand")

    demand = Demand.objects.get(title="退役动力电池快速分选技术")
    assert demand.is_anonymous and demand.status == ListingStatus.PENDING
    listing_approve(listing=demand, reviewer=cast.platform_admin)
    search_catch_up()

    public = visit()
    page = public.open("/search/?q=退役动力电池")
    assert page.locator(".result").count() == 1
    assert ENTERPRISE_NAME not in page.content()
    page = public.open("/")
    assert "退役动力电池快速分选技术" in page.content()
    assert ENTERPRISE_NAME not in page.content()
    # a university member is the public here too
    colleague = visit(cast.uni_member)
    page = colleague.open("/search/?type=demand")
    assert "退役动力电池快速分选技术" in page.content()
    assert ENTERPRISE_NAME not in page.content()


def test_my_demands_shows_the_status_and_the_reviewers_reason_and_a_fix_resubmits(visit, cast) -> None:
    factories.demand(
        cast.enterprise,
        title="高精度视觉检测",
        status=ListingStatus.REJECTED,
        review_reason="请补充检测精度指标。",
    )
    visitor = visit(cast.ent_member)
    page = visitor.open("/my/demands/")
    row = page.locator("tr", has_text="高精度视觉检测")
    assert "已驳回" in row.inner_text()
    assert "请补充检测精度指标。" in row.inner_text()
    visitor.check("my-demands")

    row.get_by_role("link", name="高精度视觉检测").click()
    page.get_by_role("link", name="编辑").click()
    visitor.check("demand-edit")
    page.fill("#id_description", "检测精度优于 0.01 mm。")
    page.get_by_role("button", name="保存修改").click()
    page.wait_for_url("**/my/demands/*/")
    page.get_by_role("button", name="提交审核").click()
    assert page.locator("#demand-status").inner_text() == "待审核"
    assert "需求已提交审核。" in page.locator(".messages").inner_text()


def test_a_universitys_proposal_is_shortlisted_and_accepted(visit, cast) -> None:
    demand = factories.demand(cast.enterprise, title="储能电池热失控预警")
    proposal = proposals.proposal_submit(
        demand=demand,
        user=cast.uni_member,
        summary="基于声发射的早期预警方案",
        approach="在电芯表面布置声发射传感器，提前 10 分钟预警。",
        amount=Decimal("300000"),
        transaction_mode="joint_development",
    )
    visitor = visit(cast.ent_member)
    page = visitor.open("/my/demands/")
    assert page.locator("tr", has_text="储能电池热失控预警").locator("td").last.inner_text() == "1"
    page.get_by_role("link", name="储能电池热失控预警").click()
    received = page.locator("section[aria-labelledby=proposals-heading]")
    assert received.locator("h2").inner_text() == "收到的揭榜方案"
    assert "基于声发射的早期预警方案" in received.inner_text()
    assert cast.university.name in received.inner_text()
    visitor.check("my-demand-proposals")

    received.get_by_role("button", name="入围").click()
    assert "已入围" in page.locator("article.proposal").inner_text()
    page.get_by_label("给未入选揭榜方的说明（选填）").fill("感谢参与。")
    page.get_by_role("button", name="采纳此方案").click()
    assert "您已采纳该方案，交易已建立。" in page.locator(".messages").inner_text()
    deal = Deal.objects.get(proposal=proposal)
    assert page.get_by_role("link", name="查看交易").get_attribute("href") == f"/deals/{deal.pk}/"
    assert Proposal.objects.get(pk=proposal.pk).status == ProposalStatus.ACCEPTED
    visitor.check("my-demand-accepted")


def test_only_the_enterprise_opens_its_demand_pages(cast) -> None:
    demand = factories.demand(cast.enterprise)
    proposal = proposals.proposal_submit(
        demand=demand,
        user=cast.inst_member,
        summary="方案",
        approach="做法",
        amount=Decimal("1000"),
        transaction_mode="service",
    )

    def client_of(user) -> Client:
        client = Client()
        if user is not None:
            client.force_login(user)
        return client

    assert client_of(None).get("/my/demands/").status_code == 302  # to the sign-in page
    assert client_of(cast.uni_member).get("/my/demands/").status_code == 403
    assert client_of(cast.uni_member).get("/my/demands/new/").status_code == 403
    assert client_of(cast.ent2_member).get(f"/my/demands/{demand.pk}/").status_code == 404
    assert client_of(cast.ent2_member).get(f"/my/demands/{demand.pk}/edit/").status_code == 404
    assert client_of(cast.ent2_member).post(f"/proposals/{proposal.pk}/shortlist/").status_code == 404
    # the proposer sees its proposal but does not decide on it, as the API answers
    assert client_of(cast.inst_member).post(f"/proposals/{proposal.pk}/shortlist/").status_code == 403
    assert Proposal.objects.get(pk=proposal.pk).status == ProposalStatus.SUBMITTED
    assert client_of(cast.ent_member).get(f"/my/demands/{demand.pk}/").status_code == 200
