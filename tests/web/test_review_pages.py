"""The administrators' review pages in a real browser: the queue of pending patents, achievements, demands
and organizations with their counts, each item's details, approve, and reject with a reason that the
services require (their message beside the field). Everyone but a reviewer gets the review API's answer."""

import pytest
from django.test import Client

from market.accounts.models import OrganizationStatus, OrganizationType
from market.catalog.models import ListingStatus
from tests import factories

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def pending(cast):
    return {
        "patents": factories.patent(cast.university, title="一种柔性传感器", status=ListingStatus.PENDING),
        "achievements": factories.achievement(
            cast.institute, name="海水淡化膜组件", status=ListingStatus.PENDING
        ),
        "demands": factories.demand(
            cast.enterprise, title="匿名的电机降噪需求", status=ListingStatus.PENDING, is_anonymous=True
        ),
        "orgs": cast.pending_university,
    }


def test_the_queue_counts_and_lists_every_kind(cast, visit, pending) -> None:
    factories.patent(cast.university, title="已发布的专利")
    admin = visit(cast.platform_admin)
    page = admin.open("/review/")
    assert page.locator("h1").inner_text() == "审核队列"
    assert [figure.inner_text().split()[0] for figure in page.locator(".figures li").all()] == ["1"] * 4
    main = page.locator("main").inner_text()
    for name in ("一种柔性传感器", "海水淡化膜组件", "匿名的电机降噪需求", cast.pending_university.name):
        assert name in main
    assert "已发布的专利" not in main
    admin.check("review-queue-full")

    page.get_by_role("link", name="海水淡化膜组件").click()
    facts = page.locator("dl.facts").inner_text()
    assert "包覆层厚度" in facts  # reviewers read the confidential details they approve
    admin.check("review-achievement")


def test_an_organization_is_approved_and_another_rejected_with_a_reason(cast, visit, pending) -> None:
    second = factories.organization(
        OrganizationType.INSTITUTE, status=OrganizationStatus.PENDING, name="某某研究所"
    )
    admin = visit(cast.platform_admin)
    page = admin.open(f"/review/orgs/{cast.pending_university.pk}/")
    assert cast.pending_university.credit_code in page.locator("dl.facts").inner_text()
    admin.check("review-organization")
    page.get_by_role("button", name="通过", exact=True).click()
    page.wait_for_url("**/review/")
    cast.pending_university.refresh_from_db()
    assert cast.pending_university.status == OrganizationStatus.APPROVED

    page.goto(f"{admin.base_url}/review/orgs/{second.pk}/")
    page.get_by_role("button", name="按此理由驳回").click()
    assert "理由" in page.locator("div:has(> #id_reason) .errorlist").inner_text()
    page.fill("#id_reason", "营业执照与统一社会信用代码不一致。")
    page.get_by_role("button", name="按此理由驳回").click()
    page.wait_for_url("**/review/")
    second.refresh_from_db()
    assert (second.status, second.review_reason) == (
        OrganizationStatus.REJECTED,
        "营业执照与统一社会信用代码不一致。",
    )
    assert "暂无待审核事项。" in page.locator("section:has(#queue-orgs)").inner_text()


def test_a_decided_item_offers_no_decision_and_a_second_decision_is_refused(cast, pending) -> None:
    client = Client()
    client.force_login(cast.platform_admin)
    demand = pending["demands"]
    assert client.post(f"/review/demands/{demand.pk}/approve/").status_code == 302
    demand.refresh_from_db()
    assert demand.status == ListingStatus.PUBLISHED

    again = client.post(f"/review/demands/{demand.pk}/reject/", {"reason": "晚了"}, follow=True)
    assert "该信息当前状态为“已发布”，无法执行此操作。" in again.content.decode()
    demand.refresh_from_db()
    assert (demand.status, demand.review_reason) == (ListingStatus.PUBLISHED, "")
    page = client.get(f"/review/demands/{demand.pk}/").content.decode()
    assert "该事项已不在待审核状态。" in page and "按此理由驳回" not in page


@pytest.mark.parametrize(
    "role", ["uni_admin", "uni_member", "ent_admin", "ent_member", "broker", "registrar", "orgless"]
)
def test_only_reviewers_open_the_review_pages(cast, pending, role: str) -> None:
    client = Client()
    client.force_login(getattr(cast, role))
    patent = pending["patents"]
    assert client.get("/review/").status_code == 403
    assert client.get(f"/review/patents/{patent.pk}/").status_code == 403
    assert client.post(f"/review/patents/{patent.pk}/approve/").status_code == 403
    assert client.post(f"/review/patents/{patent.pk}/reject/", {"reason": "x"}).status_code == 403
    assert client.post(f"/review/orgs/{cast.pending_university.pk}/approve/").status_code == 403
    patent.refresh_from_db()
    cast.pending_university.refresh_from_db()
    assert (patent.status, cast.pending_university.status) == (
        ListingStatus.PENDING,
        OrganizationStatus.PENDING,
    )


def test_anonymous_visitors_are_sent_to_sign_in(pending) -> None:
    response = Client().get("/review/")
    assert response.status_code == 302
    assert response["Location"].startswith("/sign-in/?next=/review/")
    assert Client().post(f"/review/patents/{pending['patents'].pk}/approve/").status_code == 302


def test_an_enterprise_member_sees_the_forbidden_page_and_no_review_link(cast, visit) -> None:
    visitor = visit(cast.ent_member)
    response = visitor.page.goto(visitor.base_url + "/review/")
    assert response is not None and response.status == 403
    assert visitor.page.locator("h1").inner_text() == "无权访问"
    assert visitor.page.get_by_role("link", name="审核", exact=True).count() == 0
    visitor.check("review-forbidden", status=403)


def test_unknown_kinds_and_items_are_not_found(cast) -> None:
    client = Client()
    client.force_login(cast.platform_admin)
    assert client.get("/review/experts/1/").status_code == 404
    assert client.get("/review/patents/999999/").status_code == 404
