"""Ordering and cursor pagination of the list endpoints: walking every page shows every record exactly once,
in the requested order, ties and missing values included; a broken cursor is a 4xx, never a 500; and a page
costs the same number of queries however many records it holds."""

import base64
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

from market.accounts.models import Organization, OrganizationStatus, OrganizationType
from market.catalog.models import ListingStatus, Patent
from tests import factories

pytestmark = pytest.mark.django_db

#: a date after every real deadline: demands without one come last when sorting by deadline
OPEN_ENDED = date.max


def _walk(client: APIClient, path: str, **params: Any) -> list[dict[str, Any]]:
    """Every record of the list, following `next` from the first page."""
    records: list[dict[str, Any]] = []
    response = client.get(path, params)
    for _ in range(100):
        assert response.status_code == 200, response.content
        body = response.json()
        assert len(body["results"]) <= int(params.get("page_size", 20))
        records.extend(body["results"])
        if body["next"] is None:
            return records
        response = client.get(body["next"])
    raise AssertionError("pagination did not end")


def _expected(records: list[Any], key: Callable[[Any], Any], *, descending: bool) -> list[int]:
    """The order the API promises: the sort key, then the id in the same direction as a tiebreak."""
    return [record.pk for record in sorted(records, key=lambda r: (key(r), r.pk), reverse=descending)]


def _published(day: int) -> datetime:
    return datetime(2024, 1, 1, tzinfo=UTC) + timedelta(days=day)


@pytest.fixture
def priced_patents(cast) -> list[Any]:
    """Ten patents with prices that repeat, are zero or missing, and publication times that repeat; plus a
    draft (no publication time) that only its owner and reviewers see."""
    prices = [
        None,
        Decimal("0"),
        Decimal("100"),
        Decimal("100"),
        None,
        Decimal("5000000"),
        Decimal("100"),
        Decimal("0.01"),
        None,
        Decimal("99999999.99"),
    ]
    owners = [cast.university, cast.institute]
    patents = [
        factories.patent(owners[i % 2], price=price, published_at=_published(i // 2))
        for i, price in enumerate(prices)
    ]
    patents.append(factories.patent(cast.university, status=ListingStatus.DRAFT, price=Decimal("7")))
    return patents


def _price(record: Any) -> Decimal:
    return record.price if record.price is not None else Decimal("0")


def _published_sort(record: Any) -> datetime:
    return record.published_at or record.created_at


@pytest.mark.parametrize(
    ("ordering", "key", "descending"),
    [
        ("price", _price, False),
        ("-price", _price, True),
        ("published_at", _published_sort, False),
        ("-published_at", _published_sort, True),
        ("created_at", lambda r: r.created_at, False),
        ("-created_at", lambda r: r.created_at, True),
        ("updated_at", lambda r: r.updated_at, False),
    ],
)
def test_patent_pages_cover_every_record_once_in_order(cast, api, priced_patents, ordering, key, descending):
    public = [patent for patent in priced_patents if patent.status == ListingStatus.PUBLISHED]
    walked = _walk(api(None), "/api/v1/patents/", ordering=ordering, page_size=3)
    assert [item["id"] for item in walked] == _expected(public, key, descending=descending)

    # reviewers also see the draft, which sorts by creation time when ordering by publication time
    walked = _walk(api(cast.platform_admin), "/api/v1/patents/", ordering=ordering, page_size=3)
    assert [item["id"] for item in walked] == _expected(priced_patents, key, descending=descending)


def test_default_order_is_newest_publication_first(api, priced_patents):
    public = [patent for patent in priced_patents if patent.status == ListingStatus.PUBLISHED]
    expected = _expected(public, _published_sort, descending=True)
    assert [item["id"] for item in _walk(api(None), "/api/v1/patents/", page_size=3)] == expected


@pytest.mark.parametrize("ordering", ["bogus", "owner__name", "trl", "-title", "price_sort", ""])
def test_unknown_ordering_falls_back_to_the_default(api, priced_patents, ordering):
    default = [item["id"] for item in _walk(api(None), "/api/v1/patents/", page_size=3)]
    walked = _walk(api(None), "/api/v1/patents/", ordering=ordering, page_size=3)
    assert [item["id"] for item in walked] == default


def test_unknown_terms_of_a_combined_ordering_are_skipped(api, priced_patents):
    public = [patent for patent in priced_patents if patent.status == ListingStatus.PUBLISHED]
    walked = _walk(api(None), "/api/v1/patents/", ordering="bogus,-price", page_size=3)
    assert [item["id"] for item in walked] == _expected(public, _price, descending=True)


def test_previous_links_walk_back_through_the_same_pages(api, priced_patents):
    client = api(None)
    pages: list[list[int]] = []
    body = client.get("/api/v1/patents/", {"ordering": "price", "page_size": 3}).json()
    pages.append([item["id"] for item in body["results"]])
    while body["next"]:
        body = client.get(body["next"]).json()
        pages.append([item["id"] for item in body["results"]])
    backwards = [pages[-1]]
    while body["previous"]:
        body = client.get(body["previous"]).json()
        backwards.append([item["id"] for item in body["results"]])
    assert backwards == pages[::-1]


@pytest.mark.parametrize(("ordering", "descending"), [("trl", False), ("-trl", True)])
def test_achievement_pages_by_trl(cast, api, ordering, descending):
    trls = [5, 3, 9, 5, 1, 5, 7, 3]
    achievements = [
        factories.achievement(cast.university if i % 2 else cast.institute, trl=trl, price=None)
        for i, trl in enumerate(trls)
    ]
    walked = _walk(api(None), "/api/v1/achievements/", ordering=ordering, page_size=3)
    assert [item["id"] for item in walked] == _expected(achievements, lambda a: a.trl, descending=descending)


@pytest.mark.parametrize(("ordering", "descending"), [("price", False), ("-price", True)])
def test_achievement_pages_by_price_with_missing_prices(cast, api, ordering, descending):
    prices = [None, Decimal("10"), None, Decimal("10"), Decimal("0"), Decimal("3"), None]
    achievements = [factories.achievement(cast.university, price=price) for price in prices]
    walked = _walk(api(None), "/api/v1/achievements/", ordering=ordering, page_size=3)
    assert [item["id"] for item in walked] == _expected(achievements, _price, descending=descending)


@pytest.mark.parametrize(("ordering", "descending"), [("deadline", False), ("-deadline", True)])
def test_demand_pages_by_deadline_with_open_ended_demands(cast, api, ordering, descending):
    deadlines = [date(2031, 1, 1), None, date(2030, 6, 1), date(2031, 1, 1), None, date(2029, 12, 31), None]
    demands = [factories.demand(cast.enterprise, deadline=deadline) for deadline in deadlines]
    walked = _walk(api(None), "/api/v1/demands/", ordering=ordering, page_size=3)
    expected = _expected(demands, lambda d: d.deadline or OPEN_ENDED, descending=descending)
    assert [item["id"] for item in walked] == expected


@pytest.mark.parametrize(("ordering", "descending"), [("price", False), ("-price", True)])
def test_demand_pages_by_budget(cast, api, ordering, descending):
    budgets = [(None, None), (Decimal("1"), Decimal("50")), (None, Decimal("50")), (Decimal("5"), None)]
    demands = [
        factories.demand(cast.enterprise, budget_min=low, budget_max=high) for low, high in budgets * 2
    ]
    walked = _walk(api(None), "/api/v1/demands/", ordering=ordering, page_size=3)
    expected = _expected(demands, lambda d: d.budget_max or Decimal("0"), descending=descending)
    assert [item["id"] for item in walked] == expected


@pytest.mark.parametrize(("ordering", "descending"), [("name", False), ("-name", True)])
def test_expert_pages_by_name(cast, api, ordering, descending):
    names = ["Delta", "Alpha", "Charlie", "Alpha", "Echo", "Bravo", "Charlie"]
    experts = [factories.expert(cast.university, name=name) for name in names]
    walked = _walk(api(None), "/api/v1/experts/", ordering=ordering, page_size=3)
    assert [item["id"] for item in walked] == _expected(experts, lambda e: e.name, descending=descending)


def test_expert_default_order_is_newest_first(cast, api):
    experts = [factories.expert(cast.institute) for _ in range(7)]
    walked = _walk(api(None), "/api/v1/experts/", page_size=3)
    assert [item["id"] for item in walked] == _expected(experts, lambda e: e.created_at, descending=True)


@pytest.mark.parametrize(("ordering", "descending"), [("name", False), ("-created_at", True)])
def test_organization_pages(cast, api, ordering, descending):
    for name in ["Zhejiang Lab", "Anhui Works", "Mingde College"]:
        factories.organization(OrganizationType.INSTITUTE, name=name)
    visible = list(Organization.objects.filter(status=OrganizationStatus.APPROVED))
    key = (lambda o: o.name) if ordering == "name" else (lambda o: o.created_at)
    walked = _walk(api(None), "/api/v1/orgs/", ordering=ordering, page_size=3)
    assert [item["id"] for item in walked] == _expected(visible, key, descending=descending)


def test_page_size_is_capped(cast, api):
    for _ in range(3):
        factories.expert(cast.university)
    response = api(None).get("/api/v1/experts/", {"page_size": 10_000})
    assert response.status_code == 200
    assert len(response.json()["results"]) == 3


@pytest.mark.parametrize("path", ["/api/v1/review/patents/", "/api/v1/review/orgs/"])
@pytest.mark.parametrize("ordering", ["title", "-name", "bogus"])
def test_review_queues_stay_oldest_first_whatever_the_ordering_parameter(cast, api, path, ordering):
    for _ in range(4):
        factories.patent(cast.university, status=ListingStatus.PENDING)
        factories.organization(OrganizationType.INSTITUTE, status=OrganizationStatus.PENDING)
    walked = _walk(api(cast.platform_admin), path, ordering=ordering, page_size=3)
    pending = (
        Organization.objects.filter(status=OrganizationStatus.PENDING)
        if path.endswith("orgs/")
        else Patent.objects.filter(status=ListingStatus.PENDING)
    )
    expected = _expected(list(pending), lambda r: r.updated_at, descending=False)
    assert [item["id"] for item in walked] == expected


# ---- broken cursors ------------------------------------------------------------------------------------


def _cursor(raw: str) -> str:
    return base64.b64encode(raw.encode()).decode()


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/api/v1/patents/", {"cursor": "zzz"}),
        ("/api/v1/patents/", {"cursor": _cursor("o=abc&p=1")}),
        ("/api/v1/patents/", {"cursor": _cursor("p=2024-13-45")}),
        ("/api/v1/patents/", {"cursor": _cursor("p=not-a-time")}),
        ("/api/v1/patents/", {"cursor": _cursor("p=%00")}),
        ("/api/v1/patents/", {"cursor": _cursor("p=abc"), "ordering": "price"}),
        ("/api/v1/patents/", {"cursor": _cursor("p=1e999999"), "ordering": "-price"}),
        ("/api/v1/achievements/", {"cursor": _cursor("p=abc"), "ordering": "trl"}),
        ("/api/v1/achievements/", {"cursor": _cursor("p=1.5"), "ordering": "-trl"}),
        ("/api/v1/demands/", {"cursor": _cursor("p=soon"), "ordering": "deadline"}),
        ("/api/v1/experts/", {"cursor": _cursor("p=a%00b"), "ordering": "name"}),
        ("/api/v1/orgs/", {"cursor": _cursor("p=x%00"), "ordering": "-name"}),
        ("/api/v1/orgs/", {"cursor": _cursor("p=yesterday")}),
        # a position with a UTC offset ISO 8601 allows and PostgreSQL refuses (was a 500)
        ("/api/v1/patents/", {"cursor": "bz0wJnA9MjAyNi0wMS0wMVQwMCUzQTAwJTNBMDAlMkIyMyUzQTAw"}),
        ("/api/v1/patents/", {"cursor": _cursor("p=2026-01-01T00%3A00%3A00-15%3A30")}),
        # an instant that leaves the calendar once in UTC
        ("/api/v1/patents/", {"cursor": _cursor("p=9999-12-31T23%3A00%3A00-05%3A00")}),
        ("/api/v1/patents/", {"cursor": _cursor("p=0001-01-01T00%3A00%3A00%2B14%3A00")}),
    ],
)
def test_a_broken_cursor_is_an_invalid_cursor_error(cast, api, path, params):
    factories.patent(cast.university)
    response = api(cast.uni_member).get(path, params)
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "invalid_cursor"
    assert error["message"]
    assert list(error["fields"]) == ["cursor"]


def test_a_cursor_made_for_another_ordering_is_rejected_not_a_500(cast, api):
    for price in (Decimal("1"), Decimal("2"), Decimal("3"), Decimal("4")):
        factories.achievement(cast.university, price=price)
    client = api(None)
    next_by_time = client.get("/api/v1/achievements/", {"page_size": 2}).json()["next"]
    [cursor] = parse_qs(urlsplit(next_by_time).query)["cursor"]
    assert client.get("/api/v1/achievements/", {"cursor": cursor, "page_size": 2}).status_code == 200
    response = client.get("/api/v1/achievements/", {"cursor": cursor, "ordering": "trl", "page_size": 2})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_cursor"


# ---- a page costs a fixed number of queries --------------------------------------------------------------


def _spread(cast, count: int) -> None:
    """`count` visible records of every kind, spread over several owners, achievements with linked patents."""
    suppliers = [cast.university, cast.institute, factories.organization(OrganizationType.UNIVERSITY)]
    buyers = [cast.enterprise, cast.enterprise2]
    for i in range(count):
        supplier = suppliers[i % len(suppliers)]
        patent = factories.patent(supplier)
        factories.achievement(supplier).patents.add(patent, factories.patent(supplier))
        factories.demand(buyers[i % 2], is_anonymous=bool(i % 3 == 0))
        factories.expert(supplier)
        factories.organization(OrganizationType.ENTERPRISE)


#: path -> queries per page: the page itself, plus one prefetch of linked patents for achievements
QUERIES_PER_PAGE = {
    "/api/v1/patents/": 1,
    "/api/v1/achievements/": 2,
    "/api/v1/demands/": 1,
    "/api/v1/experts/": 1,
    "/api/v1/orgs/": 1,
}
#: a bearer token costs one more query (the user's row); a session-less test client login costs none
BEARER_QUERIES = 1


@pytest.mark.parametrize("who", ["anonymous", "uni_member", "ent_member", "platform_admin", "bearer"])
def test_query_count_of_a_page_does_not_grow_with_its_size(cast, api, django_assert_num_queries, who):
    extra = 0
    if who == "anonymous":
        client = api(None)
    elif who == "bearer":
        client = api(None)
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(cast.uni_member)}")
        extra = BEARER_QUERIES
    else:
        client = api(getattr(cast, who))
    _spread(cast, 3)
    small = {}
    for path, queries in QUERIES_PER_PAGE.items():
        with django_assert_num_queries(queries + extra):
            small[path] = client.get(path, {"page_size": 30})
    _spread(cast, 29)
    for path, base in QUERIES_PER_PAGE.items():
        queries = base + extra
        with django_assert_num_queries(queries):
            large = client.get(path, {"page_size": 30})
        assert small[path].status_code == large.status_code == 200
        assert len(small[path].json()["results"]) < len(large.json()["results"]) == 30
        with django_assert_num_queries(queries):
            following = client.get(large.json()["next"])
        assert following.status_code == 200
        assert following.json()["results"], path
