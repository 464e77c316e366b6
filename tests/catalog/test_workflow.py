"""The review workflow through the HTTP API: a listing's whole life from draft to publication and back, the
transitions that must be refused, the reviewers' summary and queues, and an organization's registration up to
the moment its members may list."""

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest
from django.db.models import Model
from rest_framework.test import APIClient

from market.accounts.models import Organization, User
from market.catalog.models import Achievement, Demand, Patent
from market.events.models import OutboxEvent
from tests import factories

pytestmark = pytest.mark.django_db

STRONG_PASSWORD = "Sturdy-Pass-2026"


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings) -> None:
    """The cast's dozen users would cost seconds per test with the production hasher."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@dataclass(frozen=True)
class Kind:
    path: str
    model: type[Model]
    aggregate: str
    #: the cast member who lists this kind, and the organization attribute of the cast it belongs to
    author: str
    owner: str
    body: dict[str, Any]
    edit: dict[str, Any]


KINDS = {
    "patents": Kind(
        "/api/v1/patents/",
        Patent,
        "patent",
        "uni_member",
        "university",
        {
            "application_number": factories.application_number(7654321),
            "title": "一种钠离子电池硬碳负极材料",
            "filing_date": "2022-06-01",
            "ipc_codes": ["H01M 4/583"],
        },
        {"title": "一种钠离子电池硬碳负极材料及其制备方法"},
    ),
    "achievements": Kind(
        "/api/v1/achievements/",
        Achievement,
        "achievement",
        "inst_member",
        "institute",
        {
            "name": "城市污泥低温干化技术",
            "field": "环境工程",
            "trl": 7,
            "stage": "industrial",
            "pricing_method": "negotiated",
            "teaser": "能耗降低 40%。",
        },
        {"teaser": "能耗降低 40%，已在两座污水厂运行。"},
    ),
    "demands": Kind(
        "/api/v1/demands/",
        Demand,
        "demand",
        "ent_member",
        "enterprise",
        {
            "title": "锂电池极片涂布厚度在线检测",
            "description": "需要在线检测精度 ±1 μm。",
            "field": "测量",
            "collaboration_mode": "joint_development",
            "deadline": (date.today() + timedelta(days=60)).isoformat(),
        },
        {"description": "需要在线检测精度 ±1 μm，产线速度 60 m/min。"},
    ),
}
BUILDERS = {"patents": factories.patent, "achievements": factories.achievement, "demands": factories.demand}


def event_types(aggregate: str, pk: int) -> list[str]:
    rows = OutboxEvent.objects.filter(key=f"{aggregate}:{pk}").order_by("created_at")
    return [row.type for row in rows]


def listed_ids(client: APIClient, path: str) -> list[int]:
    return [item["id"] for item in client.get(path).json()["results"]]


@pytest.mark.parametrize("kind_name", KINDS)
def test_a_listing_from_draft_to_publication_and_back(cast, api, kind_name: str) -> None:
    kind = KINDS[kind_name]
    owner, reviewer, public = api(getattr(cast, kind.author)), api(cast.platform_admin), api(None)
    outsider = api(cast.ent2_member)

    created = owner.post(kind.path, kind.body, format="json")
    assert created.status_code == 201, created.content
    pk = created.json()["id"]
    detail = f"{kind.path}{pk}/"
    assert created.json()["status"] == "draft"

    submitted = owner.post(f"{detail}submit/")
    assert submitted.status_code == 200
    assert submitted.json()["status"] == "pending"
    assert public.get(detail).status_code == 404
    assert outsider.get(detail).status_code == 404
    assert pk not in listed_ids(public, kind.path)
    assert pk in listed_ids(reviewer, f"/api/v1/review/{kind_name}/")

    missing_reason = reviewer.post(f"/api/v1/review/{kind_name}/{pk}/reject/", {}, format="json")
    assert missing_reason.status_code == 400
    assert "reason" in missing_reason.json()["error"]["fields"]
    blank_reason = reviewer.post(f"/api/v1/review/{kind_name}/{pk}/reject/", {"reason": "  "}, format="json")
    assert blank_reason.status_code == 400
    assert "reason" in blank_reason.json()["error"]["fields"]
    assert kind.model.objects.get(pk=pk).status == "pending"

    reason = "信息不完整，请补充技术指标。"
    rejected = reviewer.post(f"/api/v1/review/{kind_name}/{pk}/reject/", {"reason": reason}, format="json")
    assert rejected.status_code == 200
    seen_by_owner = owner.get(detail).json()
    assert (seen_by_owner["status"], seen_by_owner["review_reason"]) == ("rejected", reason)
    assert public.get(detail).status_code == 404

    edited = owner.patch(detail, kind.edit, format="json")
    assert edited.status_code == 200
    assert {key: edited.json()[key] for key in kind.edit} == kind.edit
    assert edited.json()["status"] == "rejected"

    resubmitted = owner.post(f"{detail}submit/")
    assert (resubmitted.json()["status"], resubmitted.json()["review_reason"]) == ("pending", "")

    approved = reviewer.post(f"/api/v1/review/{kind_name}/{pk}/approve/")
    assert approved.status_code == 200
    assert approved.json()["status"] == "published"
    assert approved.json()["published_at"] is not None
    row = kind.model.objects.get(pk=pk)
    assert row.reviewed_by == cast.platform_admin
    assert row.published_at is not None
    public_view = public.get(detail)
    assert public_view.status_code == 200
    assert public_view.json()["status"] == "published"
    assert pk in listed_ids(public, kind.path)
    assert pk not in listed_ids(reviewer, f"/api/v1/review/{kind_name}/")

    withdrawn = owner.post(f"{detail}withdraw/")
    assert withdrawn.json()["status"] == "withdrawn"
    assert public.get(detail).status_code == 404
    assert owner.patch(detail, kind.edit, format="json").status_code == 200
    assert owner.post(f"{detail}submit/").json()["status"] == "pending"

    assert event_types(kind.aggregate, pk) == [
        f"market.{kind.aggregate}.{fact}.v1"
        for fact in (
            "created",
            "submitted",
            "rejected",
            "updated",
            "submitted",
            "published",
            "withdrawn",
            "updated",
            "submitted",
        )
    ]
    versions = list(
        OutboxEvent.objects.filter(key=f"{kind.aggregate}:{pk}")
        .order_by("created_at")
        .values_list("aggregate_version", flat=True)
    )
    assert versions == list(range(1, 10))
    assert kind.model.objects.get(pk=pk).version == 9


# ---- transitions that must be refused ----------------------------------------------------------------------


def _refused(response: Any, listing: Model, *, code: str) -> None:
    """409 with the given code, and the listing and the outbox untouched."""
    assert response.status_code == 409, response.content
    assert response.json()["error"]["code"] == code
    fresh = type(listing).objects.get(pk=listing.pk)
    assert (fresh.status, fresh.version) == (listing.status, listing.version)
    assert not OutboxEvent.objects.exists()


@pytest.mark.parametrize(
    ("action", "statuses"),
    [
        ("close", ["draft", "pending", "rejected", "withdrawn", "closed"]),
        ("withdraw", ["draft", "rejected", "withdrawn", "closed"]),
        ("submit", ["pending", "published", "closed"]),
    ],
)
@pytest.mark.parametrize("kind_name", KINDS)
def test_owner_transitions_from_the_wrong_status_conflict(
    cast, api, kind_name: str, action: str, statuses: list[str]
) -> None:
    kind = KINDS[kind_name]
    owner = api(getattr(cast, kind.author))
    for status in statuses:
        listing = BUILDERS[kind_name](getattr(cast, kind.owner), status=status)
        response = owner.post(f"{kind.path}{listing.pk}/{action}/")
        _refused(response, listing, code="invalid_transition")


@pytest.mark.parametrize("kind_name", KINDS)
def test_close_from_published_only(cast, api, kind_name: str) -> None:
    kind = KINDS[kind_name]
    listing = BUILDERS[kind_name](getattr(cast, kind.owner))
    response = api(getattr(cast, kind.author)).post(f"{kind.path}{listing.pk}/close/")
    assert response.status_code == 200
    assert response.json()["status"] == "closed"
    assert event_types(kind.aggregate, listing.pk) == [f"market.{kind.aggregate}.closed.v1"]
    assert api(None).get(f"{kind.path}{listing.pk}/").status_code == 404


@pytest.mark.parametrize("status", ["pending", "published", "closed"])
@pytest.mark.parametrize("kind_name", KINDS)
def test_editing_outside_draft_rejected_withdrawn_conflicts(cast, api, kind_name: str, status: str) -> None:
    kind = KINDS[kind_name]
    listing = BUILDERS[kind_name](getattr(cast, kind.owner), status=status)
    response = api(getattr(cast, kind.author)).patch(f"{kind.path}{listing.pk}/", kind.edit, format="json")
    _refused(response, listing, code="not_editable")


@pytest.mark.parametrize("decision", ["approve", "reject"])
@pytest.mark.parametrize("kind_name", KINDS)
def test_reviewing_a_listing_that_is_not_pending_conflicts(cast, api, kind_name: str, decision: str) -> None:
    kind = KINDS[kind_name]
    reviewer = api(cast.platform_admin)
    for status in ("draft", "published", "rejected", "withdrawn", "closed"):
        listing = BUILDERS[kind_name](getattr(cast, kind.owner), status=status)
        response = reviewer.post(
            f"/api/v1/review/{kind_name}/{listing.pk}/{decision}/", {"reason": "不予通过"}, format="json"
        )
        _refused(response, listing, code="invalid_transition")


def test_reviewing_a_missing_listing_is_not_found(cast, api) -> None:
    response = api(cast.platform_admin).post("/api/v1/review/patents/999999/approve/")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


# ---- the reviewers' summary and queues ---------------------------------------------------------------------


def test_review_summary_counts_what_awaits_review(cast, api) -> None:
    for _ in range(2):
        factories.patent(cast.university, status="pending")
    factories.patent(cast.university, status="draft")
    factories.achievement(cast.institute, status="pending")
    factories.demand(cast.enterprise, status="published")
    factories.organization("enterprise", status="pending")

    response = api(cast.platform_admin).get("/api/v1/review/")

    assert response.status_code == 200
    assert response.json() == {"patents": 2, "achievements": 1, "demands": 0, "orgs": 2}


@pytest.mark.parametrize(
    "path", ["/api/v1/review/", "/api/v1/review/patents/", "/api/v1/review/demands/", "/api/v1/review/orgs/"]
)
@pytest.mark.parametrize(("role", "status"), [("anonymous", 401), ("uni_admin", 403), ("ent_member", 403)])
def test_review_pages_are_for_reviewers_only(cast, api, path: str, role: str, status: int) -> None:
    factories.demand(cast.enterprise, status="pending")
    response = api(None if role == "anonymous" else getattr(cast, role)).get(path)
    assert response.status_code == status
    assert "results" not in response.json()
    assert response.json()["error"]["code"] in {"not_authenticated", "permission_denied"}


def test_review_queue_lists_pending_listings_oldest_submission_first(cast, api) -> None:
    author = api(cast.uni_member)
    first_drafted = factories.patent(cast.university, status="draft")
    second_drafted = factories.patent(cast.university, status="draft")
    third_drafted = factories.patent(cast.university, status="draft")
    factories.patent(cast.university, status="published")
    factories.achievement(cast.institute, status="pending")
    for patent in (second_drafted, third_drafted, first_drafted):
        assert author.post(f"/api/v1/patents/{patent.pk}/submit/").status_code == 200

    response = api(cast.platform_admin).get("/api/v1/review/patents/")

    assert response.status_code == 200
    assert [item["id"] for item in response.json()["results"]] == [
        second_drafted.pk,
        third_drafted.pk,
        first_drafted.pk,
    ]
    assert {item["status"] for item in response.json()["results"]} == {"pending"}


def test_review_queue_of_an_unknown_kind_is_not_found(cast, api) -> None:
    assert api(cast.platform_admin).get("/api/v1/review/experts/").status_code == 404


def test_organization_review_queue_lists_pending_organizations(cast, api) -> None:
    newer = factories.organization("institute", status="pending")
    response = api(cast.platform_admin).get("/api/v1/review/orgs/")
    assert [item["id"] for item in response.json()["results"]] == [cast.pending_university.pk, newer.pk]


# ---- an organization's registration ------------------------------------------------------------------------


REGISTRATION = {
    "name": "江南应用技术研究院",
    "org_type": "institute",
    "credit_code": factories.credit_code(876543),
    "county_code": "320211",
    "admin_username": "jiangnan_admin",
    "admin_password": STRONG_PASSWORD,
    "admin_email": "admin@jiangnan.example.cn",
}


def _sign_in(username: str, password: str) -> APIClient:
    """A client carrying a real JWT, as a browser-less integration would."""
    client = APIClient()
    token = client.post("/api/v1/auth/token/", {"username": username, "password": password}, format="json")
    assert token.status_code == 200, token.content
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token.json()['access']}")
    return client


def test_registered_organization_lists_only_after_approval(cast, api) -> None:
    registered = api(None).post("/api/v1/orgs/", REGISTRATION, format="json")
    assert registered.status_code == 201, registered.content
    org_id = registered.json()["id"]
    assert registered.json()["status"] == "pending"
    assert event_types("organization", org_id) == ["market.organization.registered.v1"]
    admin = User.objects.get(username="jiangnan_admin")
    assert (admin.organization_id, admin.org_role) == (org_id, "org_admin")

    member = _sign_in("jiangnan_admin", STRONG_PASSWORD)
    me = member.get("/api/v1/users/me/").json()
    assert (me["organization"]["id"], me["organization"]["status"]) == (org_id, "pending")
    assert member.get(f"/api/v1/orgs/{org_id}/").status_code == 200
    assert api(None).get(f"/api/v1/orgs/{org_id}/").status_code == 404
    assert org_id in listed_ids(api(cast.platform_admin), "/api/v1/review/orgs/")

    patent = KINDS["patents"].body
    refused = member.post("/api/v1/patents/", patent, format="json")
    assert refused.status_code == 403
    assert not Patent.objects.exists()

    approved = api(cast.platform_admin).post(f"/api/v1/review/orgs/{org_id}/approve/")
    assert approved.status_code == 200
    assert approved.json()["status"] == "approved"
    assert event_types("organization", org_id)[-1] == "market.organization.reviewed.v1"
    assert api(None).get(f"/api/v1/orgs/{org_id}/").status_code == 200

    created = member.post("/api/v1/patents/", patent, format="json")
    assert created.status_code == 201, created.content
    assert created.json()["owner"]["id"] == org_id
    assert member.post(f"/api/v1/patents/{created.json()['id']}/submit/").json()["status"] == "pending"


def test_rejected_organization_can_sign_in_but_not_list(cast, api) -> None:
    org_id = api(None).post("/api/v1/orgs/", REGISTRATION, format="json").json()["id"]
    reviewer = api(cast.platform_admin)

    missing_reason = reviewer.post(f"/api/v1/review/orgs/{org_id}/reject/", {}, format="json")
    assert missing_reason.status_code == 400
    assert "reason" in missing_reason.json()["error"]["fields"]

    rejected = reviewer.post(f"/api/v1/review/orgs/{org_id}/reject/", {"reason": "信用代码与名称不符"})
    assert (rejected.json()["status"], rejected.json()["review_reason"]) == ("rejected", "信用代码与名称不符")

    member = _sign_in("jiangnan_admin", STRONG_PASSWORD)
    assert member.get("/api/v1/users/me/").json()["organization"]["review_reason"] == "信用代码与名称不符"
    assert member.post("/api/v1/achievements/", KINDS["achievements"].body, format="json").status_code == 403

    again = reviewer.post(f"/api/v1/review/orgs/{org_id}/approve/")
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "not_pending"
    assert Organization.objects.get(pk=org_id).status == "rejected"
    assert event_types("organization", org_id) == [
        "market.organization.registered.v1",
        "market.organization.reviewed.v1",
    ]


def test_a_published_listing_links_to_listings_like_it_and_a_draft_does_not(cast, api) -> None:
    member = api(cast.uni_member)
    for kind, listing in (
        ("patent", factories.patent(cast.university)),
        ("achievement", factories.achievement(cast.university)),
    ):
        path = f"/api/v1/{kind}s/{listing.pk}/"
        assert member.get(path).json()["similar"] == f"/api/v1/search/similar/?type={kind}&id={listing.pk}"
        type(listing).objects.filter(pk=listing.pk).update(status="draft")
        assert member.get(path).json()["similar"] is None
