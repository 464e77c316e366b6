"""The public pages in a real browser: home, search with suggestions and facets, a patent page, sign-in with
the API's lockout rule, and the error pages; each one checked for console errors and accessibility and
photographed at both widths."""

import pytest
from django.test import Client

from market.catalog.models import ListingStatus
from tests import factories
from tests.web.conftest import search_index

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def patents(cast, engine):
    battery = factories.patent(
        cast.university,
        title="一种锂电池极片涂布装置",
        abstract="本发明公开了一种锂电池极片涂布装置，提高涂布均匀性。",
        field="新能源",
        price=500000,
    )
    camera = factories.patent(cast.institute, title="基于深度学习的图像识别方法", field="人工智能")
    draft = factories.patent(cast.university, title="尚未审核的锂电池专利", status=ListingStatus.PENDING)
    search_index(battery, camera)
    return battery, camera, draft


def test_home_shows_search_latest_listings_and_counts(visit, patents) -> None:
    visitor = visit()
    page = visitor.open("/")
    assert page.locator("h1").inner_text() == "找技术、找买家"
    assert page.get_by_role("link", name="一种锂电池极片涂布装置").is_visible()
    assert "尚未审核的锂电池专利" not in page.content()
    assert page.locator("#live-counts li").first.inner_text().startswith("2")
    visitor.check("home")


def test_search_suggests_as_you_type_and_filters_by_facet(visit, patents) -> None:
    visitor = visit()
    page = visitor.open("/search/?q=锂电池")
    assert page.locator(".result").count() == 1
    assert page.locator(".result em").first.inner_text() in {"锂电池", "锂电", "电池"}
    visitor.check("search-results")

    page.fill("#q", "一种锂")
    page.locator("#suggestions a").first.wait_for()
    assert page.locator("#suggestions a").first.inner_text() == "一种锂电池极片涂布装置"

    page.goto(visitor.base_url + "/search/")
    page.get_by_label("人工智能").check()
    page.get_by_role("button", name="应用筛选").click()
    page.wait_for_url("**field=*")
    titles = [title.inner_text() for title in page.locator(".result h3").all()]
    assert titles == ["基于深度学习的图像识别方法"]


def test_bad_search_parameters_are_named_on_the_page(visit, patents) -> None:
    visitor = visit()
    response = visitor.page.goto(visitor.base_url + "/search/?trl_min=12")
    assert response is not None and response.status == 400
    assert "trl_min" in visitor.page.locator("[role=alert]").inner_text()


def test_patent_page_shows_the_patent_and_more_like_it(visit, patents) -> None:
    battery, _camera, draft = patents
    visitor = visit()
    page = visitor.open(f"/patents/{battery.pk}/")
    assert page.locator("h1").inner_text() == battery.title
    assert battery.application_number in page.locator("dl.facts").inner_text()
    page.locator("#similar-heading").wait_for()
    visitor.check("patent")

    response = page.goto(f"{visitor.base_url}/patents/{draft.pk}/")
    assert response is not None and response.status == 404
    assert page.locator("h1").inner_text() == "页面不存在"
    visitor.check("not-found", status=404)


def test_sign_in_with_a_password_and_the_lockout_of_the_api(visit, cast, settings) -> None:
    settings.AXES_FAILURE_LIMIT = 3
    visitor = visit()
    page = visitor.open("/sign-in/")
    visitor.check("sign-in")
    page.get_by_label("用户名").fill("uni_member")
    page.get_by_label("密码").fill(factories.PASSWORD)
    page.get_by_role("button", name="登录").last.click()
    page.wait_for_url(visitor.base_url + "/")
    assert page.locator(".who").inner_text() == "uni_member"

    stranger = visit()
    page = stranger.open("/sign-in/")
    for _attempt in range(3):
        page.get_by_label("用户名").fill("uni_admin")
        page.get_by_label("密码").fill("wrong-Pass-0000")
        page.get_by_role("button", name="登录").last.click()
    assert page.locator("h1").inner_text() == "账户已锁定"
    # locked for the API as well: the same rule, the same counter
    response = Client().post("/api/v1/auth/token/", {"username": "uni_admin", "password": factories.PASSWORD})
    assert response.status_code == 403


def test_pages_carry_a_policy_without_inline_scripts(client, cast) -> None:
    response = client.get("/")
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert client.get("/api/docs/").get("Content-Security-Policy") is None


def test_english_is_one_click_away(visit, patents) -> None:
    visitor = visit()
    page = visitor.open("/")
    page.get_by_role("button", name="English").click()
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "Find technology to buy, or the buyer for yours"
    assert page.locator("html").get_attribute("lang") == "en"
    visitor.check("home-en")
