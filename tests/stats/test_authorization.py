"""Who may call which stats endpoint, for every role of the trading matrix: platform administrators and the
members of government organizations read (a viewer and a registrar alike); only administrators set targets;
everyone else is refused (403), anonymous callers are asked to sign in (401). A route added to the stats URLs
without a row here fails `test_every_stats_endpoint_has_a_row`."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from services.stats import urls as stats_urls
from services.stats.models import Indicator, PlanTarget
from tests.trading.test_authorization_matrix import ROLES, expect

pytestmark = pytest.mark.django_db

READERS = expect(403, anonymous=401, platform_admin=200, government=200, registrar=200)
YEAR = {"from": "2026-01-01", "to": "2026-12-31"}
TARGET = {
    "indicator": Indicator.INVENTIONS_INDUSTRIALISED,
    "starts_on": "2021-01-01",
    "ends_on": "2025-12-31",
}


def _target(cast: Any) -> PlanTarget:
    return PlanTarget.objects.create(**TARGET, target=44, set_by=cast.platform_admin)


@dataclass(frozen=True)
class Row:
    method: str
    route: str
    call: Callable[[Any], tuple[str, dict[str, Any]]]
    expected: dict[str, int]


ROWS = [
    Row("GET", "stats/", lambda cast: ("/api/v1/stats/", YEAR), READERS),
    Row("GET", "stats/export.csv", lambda cast: ("/api/v1/stats/export.csv", YEAR), READERS),
    Row("GET", "stats/export.xlsx", lambda cast: ("/api/v1/stats/export.xlsx", YEAR), READERS),
    Row("GET", "stats/deals.csv", lambda cast: ("/api/v1/stats/deals.csv", YEAR), READERS),
    Row("GET", "stats/deals.xlsx", lambda cast: ("/api/v1/stats/deals.xlsx", YEAR), READERS),
    Row("GET", "stats/targets/", lambda cast: ("/api/v1/stats/targets/", {}), READERS),
    Row(
        "POST",
        "stats/targets/",
        lambda cast: ("/api/v1/stats/targets/", {**TARGET, "target": "44"}),
        expect(403, anonymous=401, platform_admin=201),
    ),
    Row(
        "GET",
        "stats/targets/{pk}/",
        lambda cast: (f"/api/v1/stats/targets/{_target(cast).pk}/", {}),
        READERS,
    ),
    Row(
        "PATCH",
        "stats/targets/{pk}/",
        lambda cast: (f"/api/v1/stats/targets/{_target(cast).pk}/", {"target": "50"}),
        expect(403, anonymous=401, platform_admin=200),
    ),
    Row(
        "DELETE",
        "stats/targets/{pk}/",
        lambda cast: (f"/api/v1/stats/targets/{_target(cast).pk}/", {}),
        expect(403, anonymous=401, platform_admin=204),
    ),
]


@pytest.mark.parametrize("role", sorted(ROLES))
@pytest.mark.parametrize("row", ROWS, ids=lambda row: f"{row.method} {row.route}")
def test_each_role_gets_the_status_the_table_says(cast, api, row, role):
    member = ROLES[role]
    user = getattr(cast, member) if member else None
    path, body = row.call(cast)
    client = api(user)
    if row.method == "GET":
        answer = client.get(path, body)
    else:
        answer = getattr(client, row.method.lower())(path, body, format="json")
    assert answer.status_code == row.expected[role], (role, answer.content[:300])


def _routes() -> set[str]:
    routes = set()
    for pattern in stats_urls.urlpatterns:
        text = str(pattern.pattern).replace("^", "").replace("$", "").replace("\\.", ".")
        text = text.replace("<int:pk>", "{pk}")
        for extension in ("csv", "xlsx"):
            text_with = text.replace("(?P<extension>csv|xlsx)", extension)
            routes.add(text_with)
    return routes


def test_every_stats_endpoint_has_a_row():
    assert _routes() == {row.route for row in ROWS}
