"""The public pages in a real browser: home, search with suggestions, facets and "save this search", a patent
page, sign-in with the API's lockout rule, and the error pages; each one checked for console errors and
accessibility and photographed at both widths."""

from decimal import Decimal

import pytest
from django.test import Client
from rest_framework.test import APIClient

from market.catalog.models import ListingStatus
from market.localdev.embedded import free_port
from services.notify.models import Subscription
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


@pytest.fixture
def every_kind(cast, engine):
    """One listing of each kind about lithium batteries, indexed."""
    patent = factories.patent(cast.university, title="锂电池极片涂布装置", field="新能源", price=500000)
    achievement = factories.achievement(cast.university, name="锂电池正极包覆技术", price=Decimal("1234.5"))
    demand = factories.demand(cast.enterprise, title="锂电池热失控预警", budget_max=Decimal("800000"))
    expert = factories.expert(cast.university, name="锂电池专家", fields=["电化学储能", "锂电池"])
    search_index(patent, achievement, demand, expert)
    return patent, achievement, demand, expert


def test_results_link_every_kind_to_its_page_with_fields_and_prices_written_out(visit, every_kind) -> None:
    patent, achievement, demand, expert = every_kind
    visitor = visit()
    page = visitor.open("/search/?q=锂电池")
    assert page.locator(".result").count() == 4
    links = {link.inner_text(): link.get_attribute("href") for link in page.locator(".result h3 a").all()}
    assert sorted(links.values()) == sorted(
        [
            f"/patents/{patent.pk}/",
            f"/achievements/{achievement.pk}/",
            f"/demands/{demand.pk}/",
            f"/experts/{expert.pk}/",
        ]
    )
    lines = " ".join(page.locator(".result p.muted").all_inner_texts())
    assert "电化学储能、锂电池" in lines and "['" not in lines
    assert "¥500,000" in lines and "¥1,234.50" in lines and "预算上限 ¥800,000" in lines
    page.locator(f'.result a[href="/experts/{expert.pk}/"]').click()
    page.wait_for_url(f"**/experts/{expert.pk}/")
    assert page.locator("h1").inner_text().startswith("锂电池专家")


def test_money_is_written_one_way() -> None:
    from market.web.templatetags.web import money

    assert money(Decimal("500000.00")) == "¥500,000"
    assert money(1234.5) == "¥1,234.50"
    assert money("12000000") == "¥12,000,000"
    assert money(None) == ""


def test_save_this_search_creates_a_saved_search_subscription(visit, cast, patents) -> None:
    anonymous = visit()
    page = anonymous.open("/search/?q=锂电池&type=patent")
    sign_in = page.get_by_role("link", name="登录后保存此搜索")
    assert sign_in.get_attribute("href").startswith("/sign-in/?next=/search/")
    assert page.locator(".save-search form").count() == 0

    member = visit(cast.ent_member)
    page = member.open("/search/?q=锂电池&type=patent&type=achievement&field=新能源&sort=newest")
    page.locator(".save-search summary").click()
    form = page.locator(".save-search form")
    assert form.get_by_label("名称").input_value() == "锂电池"
    member.check("search-save")
    form.get_by_label("名称").fill("锂电池专利")
    form.get_by_role("button", name="保存此搜索").click()
    page.wait_for_url("**/search/?*")
    assert "搜索已保存" in page.locator(".messages").inner_text()
    [saved] = Subscription.objects.filter(user=cast.ent_member)
    assert saved.kind == "search" and saved.name == "锂电池专利"
    assert saved.params == {"q": "锂电池", "type": "patent,achievement", "field": "新能源"}
    assert sorted(saved.channels) == ["email", "in_app"] and saved.frequency == "instant"
    # the same subscription as the API's endpoint shows it
    listed = APIClient()
    listed.force_authenticate(cast.ent_member)
    assert [row["id"] for row in listed.get("/api/v1/subscriptions/").json()["results"]] == [saved.pk]


def test_a_search_the_subscription_cannot_keep_says_why(visit, cast, patents) -> None:
    member = visit(cast.ent_member)
    page = member.open("/search/?q=锂电池&patent_type=invention")
    page.locator(".save-search summary").click()
    problems = page.locator(".save-search").inner_text()
    assert "此搜索无法按当前条件保存" in problems and "专利类型" in problems
    assert page.locator(".save-search form").count() == 0

    page = member.open("/search/?q=锂电池")
    page.locator(".save-search summary").click()
    form = page.locator(".save-search form")
    for box in form.locator("input[type=checkbox]").all():
        box.uncheck()
    form.get_by_role("button", name="保存此搜索").click()
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "保存此搜索"
    channels_error = page.locator("#save-search-channels_error")
    assert channels_error.is_visible()
    member.check("search-save-error", status=400)
    assert not Subscription.objects.exists()
    refused = Client().post("/search/save/?q=x", {"channels": ["in_app"], "frequency": "instant"})
    assert refused.status_code == 302 and refused["Location"].startswith("/sign-in/")


def test_a_search_engine_that_is_away_is_a_503_page_and_typing_goes_on(client, cast, settings) -> None:
    settings.ELASTICSEARCH_URL = f"http://127.0.0.1:{free_port()}"
    response = client.get("/search/?q=锂电池")
    assert response.status_code == 503
    assert "搜索服务暂时不可用" in response.content.decode()
    assert client.get("/search/suggest/?q=锂电", headers={"HX-Request": "true"}).status_code == 200
    response = client.get("/similar/patent/1/", headers={"HX-Request": "true"})
    assert response.status_code == 200 and "搜索服务暂时不可用" in response.content.decode()
