"""Who may call which write endpoint of the v1 API, as one table: every role against every write.

A refused call must leave the database exactly as it was (no row, status, version or outbox event changed);
an allowed call must write exactly the one outbox event its service announces. The second half checks what
each reader sees of anonymous demands and of expert contacts."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest
from django.db.models import Model

from market.accounts.models import Organization, User
from market.catalog.models import Achievement, Demand, Expert, NdaAcceptance, Patent
from market.events.models import OutboxEvent
from tests import factories
from tests.conftest import Cast

pytestmark = pytest.mark.django_db

ROLES = (
    "anonymous",
    "orgless",
    "platform_admin",
    "uni_admin",
    "uni_member",
    "inst_member",
    "ent_admin",
    "ent_member",
    "ent2_member",
    "broker",
    "gov_member",
    "pending_member",
)
ERROR_CODES = {401: "not_authenticated", 403: "permission_denied", 404: "not_found"}
STRONG_PASSWORD = "Sturdy-Pass-2026"


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings) -> None:
    """The cast's dozen users would cost seconds per test with the production hasher."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


# ---- the endpoints -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Endpoint:
    method: str
    #: `{id}` is replaced by the target's primary key
    path: str
    #: builds what the call acts on (None for creations)
    target: Callable[[Cast], Model | None]
    body: dict[str, Any]
    #: the one event an allowed call writes; None where the product announces nothing
    event: str | None
    #: fields the response of an allowed call must carry
    outcome: dict[str, Any]


def _nothing(cast: Cast) -> None:
    return None


PATENT_BODY = {
    "application_number": factories.application_number(7654321),
    "title": "一种固态电解质薄膜的制备方法",
    "filing_date": "2021-03-09",
    "ipc_codes": ["H01M 10/0562"],
}
ACHIEVEMENT_BODY = {
    "name": "低温等离子体废气处理装置",
    "field": "环境科学技术",
    "trl": 6,
    "stage": "trial",
    "pricing_method": "negotiated",
    "teaser": "VOCs 去除率 95% 以上。",
}
DEMAND_BODY = {
    "title": "注塑件表面缩痕消除工艺",
    "description": "年产 200 万件汽车内饰件，需要消除缩痕。",
    "field": "材料",
    "collaboration_mode": "commissioned",
    "deadline": (date.today() + timedelta(days=90)).isoformat(),
}
REGISTRATION_BODY = {
    "name": "钱塘理工学院",
    "org_type": "university",
    "credit_code": factories.credit_code(987654),
    "county_code": "330114",
    "admin_username": "qiantang_admin",
    "admin_password": STRONG_PASSWORD,
}
REASON = {"reason": "请补充权利要求书摘要。"}

LISTING_OWNERS: dict[str, Callable[[Cast], Organization]] = {
    "patents": lambda cast: cast.university,
    "achievements": lambda cast: cast.institute,
    "demands": lambda cast: cast.enterprise,
}
LISTING_BUILDERS = {
    "patents": factories.patent,
    "achievements": factories.achievement,
    "demands": factories.demand,
}
AGGREGATES = {"patents": "patent", "achievements": "achievement", "demands": "demand"}


def _listing(kind: str, status: str) -> Callable[[Cast], Model]:
    return lambda cast: LISTING_BUILDERS[kind](LISTING_OWNERS[kind](cast), status=status)


def _university_expert(cast: Cast) -> Expert:
    return factories.expert(cast.university, user=cast.uni_member)


ENDPOINTS: dict[str, Endpoint] = {
    "create-patent": Endpoint(
        "post", "/api/v1/patents/", _nothing, PATENT_BODY, "market.patent.created.v1", {"status": "draft"}
    ),
    "create-achievement": Endpoint(
        "post",
        "/api/v1/achievements/",
        _nothing,
        ACHIEVEMENT_BODY,
        "market.achievement.created.v1",
        {"status": "draft"},
    ),
    "create-demand": Endpoint(
        "post", "/api/v1/demands/", _nothing, DEMAND_BODY, "market.demand.created.v1", {"status": "draft"}
    ),
    "create-expert-self": Endpoint(
        "post",
        "/api/v1/experts/",
        _nothing,
        {"name": "陈志远"},
        "market.expert.created.v1",
        {"name": "陈志远"},
    ),
    "create-expert-other": Endpoint(
        "post",
        "/api/v1/experts/",
        _nothing,
        {"name": "林晓", "for_self": False},
        "market.expert.created.v1",
        {"name": "林晓", "user": None},
    ),
    "edit-expert": Endpoint(
        "patch",
        "/api/v1/experts/{id}/",
        _university_expert,
        {"title": "研究员"},
        "market.expert.updated.v1",
        {"title": "研究员"},
    ),
    **{
        f"edit-{kind}": Endpoint(
            "patch",
            f"/api/v1/{kind}/{{id}}/",
            _listing(kind, "draft"),
            {"field": "新材料"},
            f"market.{AGGREGATES[kind]}.updated.v1",
            {"field": "新材料", "status": "draft"},
        )
        for kind in LISTING_OWNERS
    },
    **{
        f"{action}-{kind}": Endpoint(
            "post",
            f"/api/v1/{kind}/{{id}}/{action}/",
            _listing(kind, initial),
            {},
            f"market.{AGGREGATES[kind]}.{fact}.v1",
            {"status": after},
        )
        for kind in LISTING_OWNERS
        for action, initial, fact, after in (
            ("submit", "draft", "submitted", "pending"),
            ("withdraw", "published", "withdrawn", "withdrawn"),
            ("close", "published", "closed", "closed"),
        )
    },
    **{
        f"{decision}-{kind}": Endpoint(
            "post",
            f"/api/v1/review/{kind}/{{id}}/{decision}/",
            _listing(kind, "pending"),
            body,
            f"market.{AGGREGATES[kind]}.{fact}.v1",
            outcome,
        )
        for kind in LISTING_OWNERS
        for decision, body, fact, outcome in (
            ("approve", {}, "published", {"status": "published"}),
            ("reject", REASON, "rejected", {"status": "rejected", "review_reason": REASON["reason"]}),
        )
    },
    "register-org": Endpoint(
        "post",
        "/api/v1/orgs/",
        _nothing,
        REGISTRATION_BODY,
        "market.organization.registered.v1",
        {"status": "pending", "name": REGISTRATION_BODY["name"]},
    ),
    "add-member": Endpoint(
        "post",
        "/api/v1/orgs/{id}/members/",
        lambda cast: cast.university,
        {"username": "new_member", "password": STRONG_PASSWORD},
        None,
        {"username": "new_member", "org_role": "member"},
    ),
    "approve-org": Endpoint(
        "post",
        "/api/v1/review/orgs/{id}/approve/",
        lambda cast: cast.pending_university,
        {},
        "market.organization.reviewed.v1",
        {"status": "approved"},
    ),
    "reject-org": Endpoint(
        "post",
        "/api/v1/review/orgs/{id}/reject/",
        lambda cast: cast.pending_university,
        REASON,
        "market.organization.reviewed.v1",
        {"status": "rejected", "review_reason": REASON["reason"]},
    ),
    "edit-me": Endpoint(
        "patch", "/api/v1/users/me/", _nothing, {"display_name": "小王"}, None, {"display_name": "小王"}
    ),
}

# Listings belong to: patents → university, achievements → institute, demands → enterprise. Drafts and pending
# listings are invisible outside their organization (404); published ones are visible, so changing them is
# refused (403). The pending university may not create anything until it is approved.
# fmt: off
EXPECTED: dict[str, tuple[int, ...]] = {
    #                          anon orgl padm uadm umem inst eadm emem ent2 brok gov  pend
    "create-patent":          (401, 403, 403, 201, 201, 201, 403, 403, 403, 403, 403, 403),
    "create-achievement":     (401, 403, 403, 201, 201, 201, 403, 403, 403, 403, 403, 403),
    "create-demand":          (401, 403, 403, 403, 403, 403, 201, 201, 201, 403, 403, 403),
    "create-expert-self":     (401, 403, 403, 201, 201, 201, 201, 201, 201, 201, 201, 403),
    "create-expert-other":    (401, 403, 403, 201, 403, 403, 201, 403, 403, 403, 403, 403),
    "edit-expert":            (401, 403, 200, 200, 200, 403, 403, 403, 403, 403, 403, 403),
    "edit-patents":           (401, 404, 403, 200, 200, 404, 404, 404, 404, 404, 404, 404),
    "edit-achievements":      (401, 404, 403, 404, 404, 200, 404, 404, 404, 404, 404, 404),
    "edit-demands":           (401, 404, 403, 404, 404, 404, 200, 200, 404, 404, 404, 404),
    "submit-patents":         (401, 404, 403, 200, 200, 404, 404, 404, 404, 404, 404, 404),
    "submit-achievements":    (401, 404, 403, 404, 404, 200, 404, 404, 404, 404, 404, 404),
    "submit-demands":         (401, 404, 403, 404, 404, 404, 200, 200, 404, 404, 404, 404),
    "withdraw-patents":       (401, 403, 403, 200, 200, 403, 403, 403, 403, 403, 403, 403),
    "withdraw-achievements":  (401, 403, 403, 403, 403, 200, 403, 403, 403, 403, 403, 403),
    "withdraw-demands":       (401, 403, 403, 403, 403, 403, 200, 200, 403, 403, 403, 403),
    "close-patents":          (401, 403, 403, 200, 200, 403, 403, 403, 403, 403, 403, 403),
    "close-achievements":     (401, 403, 403, 403, 403, 200, 403, 403, 403, 403, 403, 403),
    "close-demands":          (401, 403, 403, 403, 403, 403, 200, 200, 403, 403, 403, 403),
    "approve-patents":        (401, 403, 200, 403, 403, 403, 403, 403, 403, 403, 403, 403),
    "approve-achievements":   (401, 403, 200, 403, 403, 403, 403, 403, 403, 403, 403, 403),
    "approve-demands":        (401, 403, 200, 403, 403, 403, 403, 403, 403, 403, 403, 403),
    "reject-patents":         (401, 403, 200, 403, 403, 403, 403, 403, 403, 403, 403, 403),
    "reject-achievements":    (401, 403, 200, 403, 403, 403, 403, 403, 403, 403, 403, 403),
    "reject-demands":         (401, 403, 200, 403, 403, 403, 403, 403, 403, 403, 403, 403),
    "register-org":           (201, 201, 201, 201, 201, 201, 201, 201, 201, 201, 201, 201),
    "add-member":             (401, 403, 201, 201, 403, 403, 403, 403, 403, 403, 403, 403),
    "approve-org":            (401, 403, 200, 403, 403, 403, 403, 403, 403, 403, 403, 403),
    "reject-org":             (401, 403, 200, 403, 403, 403, 403, 403, 403, 403, 403, 403),
    "edit-me":                (401, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200),
}
# fmt: on
CASES = [
    pytest.param(name, role, code, id=f"{name}-{role}")
    for name, codes in EXPECTED.items()
    for role, code in zip(ROLES, codes, strict=True)
]

#: what "nothing changed" compares: every row of every table a write endpoint touches
TRACKED: dict[type[Model], tuple[str, ...]] = {
    Organization: ("id", "status", "version", "review_reason"),
    User: ("id", "organization_id", "org_role", "display_name", "email", "phone"),
    Patent: ("id", "status", "version", "title", "field", "review_reason", "reviewed_by_id"),
    Achievement: ("id", "status", "version", "name", "field", "review_reason", "reviewed_by_id"),
    Demand: ("id", "status", "version", "title", "field", "review_reason", "reviewed_by_id"),
    Expert: ("id", "version", "name", "title", "user_id"),
    NdaAcceptance: ("id",),
    OutboxEvent: ("id",),
}


def database_state() -> dict[str, list[tuple]]:
    return {model.__name__: sorted(model.objects.values_list(*fields)) for model, fields in TRACKED.items()}


def test_the_table_covers_every_endpoint() -> None:
    assert set(EXPECTED) == set(ENDPOINTS)


@pytest.mark.parametrize(("name", "role", "expected"), CASES)
def test_role_on_write_endpoint(cast, api, name: str, role: str, expected: int) -> None:
    endpoint = ENDPOINTS[name]
    target = endpoint.target(cast)
    path = endpoint.path.format(id=target.pk if target is not None else "")
    user = None if role == "anonymous" else getattr(cast, role)
    before = database_state()

    response = getattr(api(user), endpoint.method)(path, endpoint.body, format="json")

    assert response.status_code == expected, response.content
    body = response.json()
    if expected >= 400:
        assert body["error"]["code"] == ERROR_CODES[expected]
        assert database_state() == before
        return
    assert {key: body[key] for key in endpoint.outcome} == endpoint.outcome
    new_events = OutboxEvent.objects.exclude(id__in=[row[0] for row in before["OutboxEvent"]])
    if endpoint.event is None:
        assert not new_events.exists()
        return
    [event] = new_events
    aggregate = endpoint.event.split(".")[1]
    assert (event.type, event.key) == (endpoint.event, f"{aggregate}:{body['id']}")
    if target is not None:
        assert body["id"] == target.pk


def test_a_second_own_expert_profile_is_a_conflict(cast, api) -> None:
    factories.expert(cast.uni_member.organization, user=cast.uni_member)
    before = database_state()
    response = api(cast.uni_member).post("/api/v1/experts/", {"name": "重复"}, format="json")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "duplicate"
    assert database_state() == before


def test_members_of_a_pending_organization_cannot_list_experts_publicly(cast, api) -> None:
    """Unapproved organizations are hidden from the public, so nothing of theirs may be listed either."""
    response = api(cast.pending_member).post("/api/v1/experts/", {"name": "未审核"}, format="json")
    assert response.status_code == 403
    assert not Expert.objects.filter(organization=cast.pending_university).exists()
    assert cast.pending_university.pk not in [
        item["organization"]["id"] for item in api(None).get("/api/v1/experts/").json()["results"]
    ]


# ---- what readers see of anonymous demands -----------------------------------------------------------------


OWNER_VISIBLE = {
    "anonymous": False,
    "orgless": False,
    "platform_admin": True,
    "ent_admin": True,
    "ent_member": True,
    "ent2_member": False,
    "uni_member": False,
    "broker": False,
}


@pytest.mark.parametrize(("role", "sees_owner"), OWNER_VISIBLE.items())
def test_anonymous_demand_names_its_enterprise_only_to_it_and_reviewers(
    cast, api, role: str, sees_owner: bool
) -> None:
    demand = factories.demand(cast.enterprise, is_anonymous=True)
    client = api(None if role == "anonymous" else getattr(cast, role))

    detail = client.get(f"/api/v1/demands/{demand.pk}/")
    [listed] = client.get("/api/v1/demands/").json()["results"]

    assert detail.status_code == 200
    for shown in (detail.json(), listed):
        assert shown["is_anonymous"] is True
        assert (shown["owner"] is not None) is sees_owner
        if sees_owner:
            assert shown["owner"]["id"] == cast.enterprise.pk
    assert (cast.enterprise.name in detail.content.decode()) is sees_owner


@pytest.mark.parametrize("role", [role for role, sees in OWNER_VISIBLE.items() if not sees])
def test_owner_filter_does_not_unmask_anonymous_demands(cast, api, role: str) -> None:
    """Filtering by owner would otherwise tell the public which enterprise posted an anonymous demand."""
    factories.demand(cast.enterprise, is_anonymous=True)
    named = factories.demand(cast.enterprise)
    client = api(None if role == "anonymous" else getattr(cast, role))

    response = client.get("/api/v1/demands/", {"owner": cast.enterprise.pk})

    assert response.status_code == 200
    assert [item["id"] for item in response.json()["results"]] == [named.pk]


def test_owner_filter_still_finds_own_anonymous_demands(cast, api) -> None:
    hidden = factories.demand(cast.enterprise, is_anonymous=True)
    for user in (cast.ent_member, cast.platform_admin):
        response = api(user).get("/api/v1/demands/", {"owner": cast.enterprise.pk})
        assert [item["id"] for item in response.json()["results"]] == [hidden.pk]


def test_named_demand_shows_its_enterprise_to_everyone(cast, api) -> None:
    demand = factories.demand(cast.enterprise)
    response = api(None).get(f"/api/v1/demands/{demand.pk}/")
    assert response.json()["owner"]["name"] == cast.enterprise.name


def test_pending_anonymous_demand_names_its_enterprise_in_the_review_queue(cast, api) -> None:
    factories.demand(cast.enterprise, status="pending", is_anonymous=True)
    [queued] = api(cast.platform_admin).get("/api/v1/review/demands/").json()["results"]
    assert queued["owner"]["id"] == cast.enterprise.pk


# ---- expert contacts ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "sees_contact"),
    [("anonymous", False), ("orgless", True), ("ent_member", True), ("platform_admin", True)],
)
def test_expert_contact_is_for_signed_in_users(cast, api, role: str, sees_contact: bool) -> None:
    expert = factories.expert(cast.university, email="chen@zju.example.cn", phone="0571-87951234")
    client = api(None if role == "anonymous" else getattr(cast, role))

    detail = client.get(f"/api/v1/experts/{expert.pk}/").json()
    [listed] = client.get("/api/v1/experts/").json()["results"]

    expected = {"email": "chen@zju.example.cn", "phone": "0571-87951234"} if sees_contact else None
    assert detail["contact"] == expected
    assert listed["contact"] == expected
