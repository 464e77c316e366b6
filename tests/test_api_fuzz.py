"""Property-based fuzzing of the catalog API from its live OpenAPI schema (/api/schema/): whatever
schemathesis sends to the patents, achievements, demands, experts, orgs and review endpoints, the server never
answers with a 500, and documented responses have their documented shape.

The app runs in-process through its WSGI entry point. Requests go through Django's full request cycle, which
closes the database connection of a test transaction, so these tests use transactional databases. Ids in
paths are mostly pointed at records that exist, so the handlers behind the 404 get exercised too."""

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from rest_framework.throttling import SimpleRateThrottle
from rest_framework_simplejwt.tokens import AccessToken
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from market.accounts.models import User
from market.catalog.models import ListingStatus
from market.config.wsgi import application
from tests import factories

pytestmark = pytest.mark.slow

CATALOG_PATHS = r"^/api/v1/(patents|achievements|demands|experts|orgs|review)/"
#: generated cases per operation and phase; the coverage phase adds its boundary cases on top
MAX_EXAMPLES = 15


def _load_schema() -> Any:
    """Loaded at collection: under pytest 9 the lazy `from_fixture` loader fails (it rewrites `_nodeid`)."""
    loaded = schemathesis.openapi.from_wsgi("/api/schema/", application)
    # bounded and seeded: the same cases on every run, so CI failures reproduce
    loaded.config.generation.update(max_examples=MAX_EXAMPLES, deterministic=True, database="none")
    return loaded


_schema = _load_schema()
# one include() per selection: separate include() calls widen the selection instead of narrowing it
catalog = _schema.include(path_regex=CATALOG_PATHS)
catalog_reads = _schema.include(path_regex=CATALOG_PATHS, method="GET")


def _bearer(user: User) -> str:
    return f"Bearer {AccessToken.for_user(user)}"


@pytest.fixture
def market(cast) -> dict[str, Any]:
    """Records in every state the endpoints act on, and who calls each resource."""
    records: dict[str, list[int]] = {
        "patents": [
            factories.patent(cast.university, status=status, price=None).pk
            for status in (ListingStatus.DRAFT, ListingStatus.PUBLISHED, ListingStatus.PENDING)
        ],
        "achievements": [
            factories.achievement(cast.university, status=status).pk
            for status in (ListingStatus.DRAFT, ListingStatus.PUBLISHED, ListingStatus.PENDING)
        ],
        "demands": [
            factories.demand(cast.enterprise, status=status).pk
            for status in (ListingStatus.DRAFT, ListingStatus.PUBLISHED, ListingStatus.PENDING)
        ],
        "experts": [
            factories.expert(cast.university, user=cast.uni_member).pk,
            factories.expert(cast.institute, is_public=False).pk,
        ],
        "orgs": [cast.university.pk, cast.pending_university.pk, cast.enterprise.pk],
    }
    return {
        "records": records,
        "reviewer": _bearer(cast.platform_admin),
        # writers of each resource: enterprises post demands, universities list the rest
        "demands": _bearer(cast.ent_member),
        "default": _bearer(cast.uni_member),
    }


def _resource(path: str, path_parameters: dict[str, Any]) -> str:
    """`patents` for /api/v1/patents/{id}/..., the `kind` for /api/v1/review/{kind}/{id}/..."""
    segment = path.split("/")[3]
    if segment == "review":
        return path_parameters.get("kind") if "{kind}" in path else path.split("/")[4]
    return segment


def _aim_at_existing_records(case: Any, records: dict[str, list[int]]) -> None:
    """Three in four generated ids become the id of a seeded record of that resource; the rest stay."""
    parameters = case.path_parameters or {}
    for name, resource in (("id", _resource(case.operation.path, parameters)), ("demand_id", "demands")):
        drawn = parameters.get(name)
        if isinstance(drawn, str) and drawn.isascii() and drawn.isdigit():
            drawn = int(drawn)
        if not isinstance(drawn, int) or isinstance(drawn, bool) or drawn < 0 or drawn % 4 == 3:
            continue
        known = records.get(resource)
        if known:
            parameters[name] = known[drawn % len(known)]


def _writer(case: Any, market: dict[str, Any]) -> str:
    """Reviewers review, enterprises post and edit demands, universities do the rest (proposals included)."""
    path = case.operation.path
    if path.startswith("/api/v1/review/"):
        return market["reviewer"]
    if path.startswith("/api/v1/demands/") and "{demand_id}" not in path:
        return market["demands"]
    return market["default"]


@pytest.fixture
def unthrottled(monkeypatch) -> None:
    """Hundreds of requests a minute are the point here; the rate limits have tests of their own."""
    monkeypatch.setattr(
        SimpleRateThrottle, "THROTTLE_RATES", dict.fromkeys(("anon", "user", "auth"), "100000/min")
    )


FUZZ_SETTINGS = settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
    ],
)
CHECKS = [not_a_server_error, response_schema_conformance]

# Each test also takes a one-value `caller` parameter: under pytest 9, schemathesis items get unique node ids
# (which -k, --lf and xdist rely on) only when pytest parametrization is present.


@catalog.parametrize()
@FUZZ_SETTINGS
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("caller", ["signed-in"])
def test_signed_in_calls_never_fail_with_a_server_error(
    case: Any, market: dict[str, Any], unthrottled: None, caller: str
) -> None:
    _aim_at_existing_records(case, market["records"])
    case.call_and_validate(headers={"Authorization": _writer(case, market)}, checks=CHECKS)


@catalog_reads.parametrize()
@FUZZ_SETTINGS
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("caller", ["anonymous"])
def test_anonymous_reads_never_fail_with_a_server_error(
    case: Any, market: dict[str, Any], unthrottled: None, caller: str
) -> None:
    _aim_at_existing_records(case, market["records"])
    case.call_and_validate(checks=CHECKS)
