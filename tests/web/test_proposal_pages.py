"""揭榜 in a real browser: a university's member proposes a solution on the demand page (the API's input
serializer and the service decide what is refused, beside the fields), the enterprise finds it under its
demand, the university under its proposals; anonymous readers are asked to sign in, enterprises are offered
nothing. And the achievement page's "make an offer", as the patent page has it."""

from decimal import Decimal

import pytest
from django.test import Client

from market.trading.models import Offer, Proposal, ProposalStatus
from tests import factories
from tests.web.conftest import search_index

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def demand(cast, engine):
    demand = factories.demand(cast.enterprise, title="储能电站热失控早期预警")
    search_index(demand)  # the demand page's "technology that may meet it"
    return demand


def test_who_is_offered_the_proposal_form(visit, cast, demand) -> None:
    anonymous = visit()
    page = anonymous.open(f"/demands/{demand.pk}/")
    sign_in = page.get_by_role("link", name="登录")
    assert sign_in.last.get_attribute("href") == f"/sign-in/?next=/demands/{demand.pk}/"
    assert "高校和科研院所成员" in page.locator("main").inner_text()
    assert page.locator("form[action$='/proposals/']").count() == 0
    anonymous.check("demand-anonymous")

    for user in (cast.ent_member, cast.ent2_member, cast.broker):
        page = visit(user).open(f"/demands/{demand.pk}/")
        assert page.locator("#proposal-heading").count() == 0
        assert page.locator("form[action$='/proposals/']").count() == 0
    # and a post from them is refused as the API refuses it
    client = Client()
    client.force_login(cast.ent2_member)
    refused = client.post(
        f"/demands/{demand.pk}/proposals/", {"summary": "x", "approach": "y", "amount": "1"}
    )
    assert refused.status_code == 403
    assert not Proposal.objects.exists()


def test_a_university_proposes_and_the_enterprise_reads_it(visit, cast, demand) -> None:
    late = visit(cast.uni_admin)  # a colleague with the form open before the proposal is sent
    late_page = late.open(f"/demands/{demand.pk}/")

    member = visit(cast.uni_member)
    page = member.open(f"/demands/{demand.pk}/")
    form = page.locator(f"form[action='/demands/{demand.pk}/proposals/']")
    assert page.get_by_role("heading", name="揭榜").is_visible()
    member.check("demand-propose")

    # what is missing, then what the API's own input serializer refuses: each message beside its field
    form.get_by_label("方案概要").fill("基于多传感器融合的热失控预警")
    form.get_by_role("button", name="提交方案").click()
    assert page.locator("#id_approach_error").is_visible()
    assert form.get_by_label("技术方案").get_attribute("aria-invalid") == "true"
    form.get_by_label("技术方案").fill("气体、温度与电压三类传感器融合，已在两座电站试运行。")
    form.get_by_label("报价金额（元）").fill("0")
    form.get_by_role("button", name="提交方案").click()
    assert "0.01" in page.locator("#id_amount_error").inner_text()
    assert form.get_by_label("报价金额（元）").get_attribute("aria-invalid") == "true"
    assert Proposal.objects.count() == 0
    member.check("demand-propose-errors", status=400)

    form.get_by_label("报价金额（元）").fill("450000")
    form.get_by_label("交易方式").select_option("joint_development")
    form.get_by_role("button", name="提交方案").click()
    page.wait_for_url(f"**/demands/{demand.pk}/")
    assert "您的方案已提交" in page.locator(".messages").inner_text()
    proposal = Proposal.objects.get()
    assert (proposal.proposer_id, proposal.proposer_user_id) == (cast.university.pk, cast.uni_member.pk)
    assert proposal.amount == Decimal("450000") and proposal.transaction_mode == "joint_development"
    assert page.locator("#own-proposal-status").inner_text() == "已提交"
    assert page.locator("form[action$='/proposals/']").count() == 0
    member.check("demand-proposed")

    # the service's refusal (one proposal per organization) at the top of the colleague's form
    late_form = late_page.locator("form[action$='/proposals/']")
    late_form.get_by_label("方案概要").fill("另一个方案")
    late_form.get_by_label("技术方案").fill("另一种思路。")
    late_form.get_by_label("报价金额（元）").fill("300000")
    late_form.get_by_role("button", name="提交方案").click()
    assert "已针对该技术需求提交过揭榜方案" in late_page.locator(".messages").inner_text()
    assert late_page.locator("#own-proposal-status").inner_text() == "已提交"
    assert Proposal.objects.count() == 1

    # the university's own list links the demand; the enterprise reads the proposal under its demand
    listings = member.open("/my/listings/")
    proposals = listings.locator("section[aria-labelledby=proposals-heading]")
    assert proposals.get_by_role("link", name=demand.title).get_attribute("href") == f"/demands/{demand.pk}/"

    enterprise = visit(cast.ent_member)
    mine = enterprise.open(f"/my/demands/{demand.pk}/")
    received = mine.locator("section[aria-labelledby=proposals-heading]").inner_text()
    assert "基于多传感器融合的热失控预警" in received and cast.university.name in received
    enterprise.check("my-demand-proposal-received")


def test_a_decided_proposal_links_to_its_deal_not_to_the_closed_demand(visit, cast, demand) -> None:
    from market.trading.services import proposals

    proposal = proposals.proposal_submit(
        demand=demand,
        user=cast.inst_member,
        summary="方案",
        approach="思路",
        amount=Decimal("100000"),
        transaction_mode="transfer",
    )
    proposals.proposal_shortlist(proposal=proposal, user=cast.ent_member)
    proposals.proposal_accept(proposal=proposal, user=cast.ent_member)
    proposal.refresh_from_db()
    assert proposal.status == ProposalStatus.ACCEPTED
    member = visit(cast.inst_member)
    page = member.open("/my/listings/")
    row = page.locator("section[aria-labelledby=proposals-heading] tbody tr")
    assert row.get_by_role("link", name=demand.title).count() == 0  # closed: its page is no longer public
    assert row.get_by_role("link", name="查看交易").get_attribute("href") == f"/deals/{proposal.deal.pk}/"


def test_an_enterprise_makes_an_offer_from_the_achievement_page(visit, cast, engine) -> None:
    achievement = factories.achievement(
        cast.university, name="钠离子电池正极材料", pricing_method="open_to_offers"
    )
    fixed = factories.achievement(cast.university, name="固定价格成果", pricing_method="listing")
    search_index(achievement, fixed)
    buyer = visit(cast.ent_member)
    page = buyer.open(f"/achievements/{fixed.pk}/")
    assert page.locator(".offer-box").count() == 0
    page = buyer.open(f"/achievements/{achievement.pk}/")
    buyer.check("achievement-offer-box")
    page.locator(".offer-box").get_by_role("link", name="提出报价").click()
    assert "listing_kind=achievement" in page.url and f"listing_id={achievement.pk}" in page.url
    assert page.get_by_role("link", name=achievement.name).get_attribute("href") == (
        f"/achievements/{achievement.pk}/"
    )
    buyer.check("offer-make-achievement")
    page.get_by_label("报价金额（元）").fill("180000")
    page.get_by_role("button", name="发送报价").click()
    page.wait_for_url("**/my/offers/*/")
    offer = Offer.objects.get()
    assert offer.achievement_id == achievement.pk and offer.amount == Decimal("180000")

    # the owner's own members and anonymous readers are offered nothing
    for visitor in (visit(cast.uni_member), visit()):
        assert visitor.open(f"/achievements/{achievement.pk}/").locator(".offer-box").count() == 0
