"""Every failure reaches clients in one shape, `{"error": {"code", "message", "fields"}}`, with the status
that says what went wrong: 400, 401, 403, 404, 405, 409, 415 and 429."""

from datetime import date
from typing import Any

import pytest
from rest_framework_simplejwt.tokens import AccessToken

from market.catalog.models import ListingStatus, Patent
from market.common.errors import Invalid
from market.events.models import OutboxEvent
from tests import factories

pytestmark = pytest.mark.django_db


def _error(response: Any, status: int, code: str | None = None) -> dict[str, Any]:
    """The error object of a response, after checking its status, shape and (optionally) code."""
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}
    error = body["error"]
    assert set(error) == {"code", "message", "fields"}
    assert isinstance(error["code"], str) and error["code"]
    assert isinstance(error["message"], str) and error["message"]
    assert isinstance(error["fields"], dict)
    if code is not None:
        assert error["code"] == code
    return error


def _patent_input(**overrides: Any) -> dict[str, Any]:
    return {
        "application_number": factories.application_number(4242),
        "title": "一种固态电解质及其制备方法",
        "filing_date": "2020-05-17",
        "ipc_codes": ["H01M 10/0562"],
        **overrides,
    }


# ---- 400 -------------------------------------------------------------------------------------------------


def test_field_errors_name_every_bad_field(cast, api):
    response = api(cast.uni_member).post(
        "/api/v1/patents/",
        {"title": "", "filing_date": "notadate", "price": "-5", "patent_type": "software"},
        format="json",
    )
    error = _error(response, 400, "invalid")
    assert set(error["fields"]) == {"application_number", "title", "filing_date", "price", "patent_type"}
    assert all(isinstance(messages, list) and messages for messages in error["fields"].values())
    assert not Patent.objects.exists()


def test_errors_in_list_items_are_keyed_by_position(cast, api):
    response = api(cast.uni_member).post(
        "/api/v1/achievements/",
        {
            "name": "包覆技术",
            "field": "材料",
            "trl": 5,
            "stage": "pilot",
            "pricing_method": "negotiated",
            "teaser": "简介",
            "transfer_modes": ["transfer", "gift", "licence", "barter"],
            "keywords": ["ok", "x" * 61],
        },
        format="json",
    )
    error = _error(response, 400, "invalid")
    assert set(error["fields"]) == {"transfer_modes", "keywords"}
    assert set(error["fields"]["transfer_modes"]) == {"1", "3"}
    assert set(error["fields"]["keywords"]) == {"1"}
    assert all(error["fields"]["transfer_modes"]["1"])


def test_rules_checked_by_the_service_come_back_as_field_errors(cast, api):
    response = api(cast.uni_member).post(
        "/api/v1/patents/",
        _patent_input(application_number="2020100000000", ipc_codes=["H01M 4/525", "not an ipc"]),
        format="json",
    )
    error = _error(response, 400, "invalid")
    assert set(error["fields"]) == {"application_number", "ipc_codes"}
    assert not OutboxEvent.objects.exists()


def test_missing_body_is_a_field_error(cast, api):
    listing = factories.patent(cast.university, status=ListingStatus.PENDING)
    response = api(cast.platform_admin).post(
        f"/api/v1/review/patents/{listing.pk}/reject/", {}, format="json"
    )
    assert list(_error(response, 400, "invalid")["fields"]) == ["reason"]


def test_wrong_json_type_of_the_whole_body_is_a_400(cast, api):
    response = api(cast.uni_member).post("/api/v1/patents/", [1, 2, 3], format="json")
    error = _error(response, 400, "invalid")
    assert "non_field_errors" in error["fields"]


def test_malformed_json_is_a_parse_error(cast, api):
    response = api(cast.uni_member).post(
        "/api/v1/patents/", data='{"title": "unterminated', content_type="application/json"
    )
    error = _error(response, 400, "parse_error")
    assert error["fields"] == {}


def test_unsupported_content_type_is_a_415(cast, api):
    response = api(cast.uni_member).post("/api/v1/patents/", data="title=whatever", content_type="text/plain")
    error = _error(response, 415, "unsupported_media_type")
    assert "text/plain" in error["message"]
    assert not Patent.objects.exists()


# ---- 401 and 403 -----------------------------------------------------------------------------------------


def test_anonymous_write_is_a_401_with_a_bearer_challenge(api):
    response = api(None).post("/api/v1/patents/", _patent_input(), format="json")
    _error(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_invalid_bearer_token_is_a_401(client, cast):
    response = client.get("/api/v1/users/me/", HTTP_AUTHORIZATION="Bearer not-a-token")
    _error(response, 401, "token_not_valid")


def test_valid_bearer_token_signs_in(client, cast):
    token = str(AccessToken.for_user(cast.uni_member))
    response = client.get("/api/v1/users/me/", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 200
    assert response.json()["username"] == "uni_member"


def test_anonymous_reviewer_endpoint_is_a_401_and_a_member_gets_a_403(cast, api):
    _error(api(None).get("/api/v1/review/"), 401, "not_authenticated")
    _error(api(cast.uni_member).get("/api/v1/review/patents/"), 403, "permission_denied")


def test_role_not_allowed_by_the_service_is_a_403(cast, api):
    response = api(cast.ent_member).post("/api/v1/patents/", _patent_input(), format="json")
    error = _error(response, 403, "permission_denied")
    assert error["fields"] == {}
    assert not Patent.objects.exists()


def test_editing_another_organizations_listing_is_a_403(cast, api):
    listing = factories.patent(cast.university, status=ListingStatus.PUBLISHED)
    response = api(cast.inst_member).post(f"/api/v1/patents/{listing.pk}/withdraw/")
    _error(response, 403, "permission_denied")
    listing.refresh_from_db()
    assert listing.status == ListingStatus.PUBLISHED


# ---- 404 and 405 -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/patents/999999999/",
        "/api/v1/achievements/999999999/",
        "/api/v1/demands/999999999/",
        "/api/v1/experts/999999999/",
        "/api/v1/orgs/999999999/",
        "/api/v1/patents/not-a-number/",
        "/api/v1/patents/99999999999999999999999/",
        "/api/v1/no-such-resource/",
        "/api/v1/patents/1/no-such-action/",
        "/api/v1/review/unicorns/",
        "/api/v2/patents/",
    ],
)
def test_unknown_ids_and_urls_are_a_404_in_the_error_format(cast, api, path):
    _error(api(cast.platform_admin).get(path), 404, "not_found")


def test_a_listing_the_caller_may_not_see_is_a_404(cast, api):
    draft = factories.patent(cast.university, status=ListingStatus.DRAFT)
    _error(api(None).get(f"/api/v1/patents/{draft.pk}/"), 404, "not_found")
    _error(api(cast.inst_member).get(f"/api/v1/patents/{draft.pk}/"), 404, "not_found")
    assert api(cast.uni_member).get(f"/api/v1/patents/{draft.pk}/").status_code == 200


def test_web_pages_keep_their_html_404(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert not response["Content-Type"].startswith("application/json")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("delete", "/api/v1/patents/{id}/"),
        ("put", "/api/v1/patents/{id}/"),
        ("delete", "/api/v1/patents/"),
        ("get", "/api/v1/patents/{id}/submit/"),
        ("put", "/api/v1/users/me/"),
    ],
)
def test_wrong_method_is_a_405(cast, api, method, path):
    listing = factories.patent(cast.university, status=ListingStatus.DRAFT)
    response = getattr(api(cast.uni_member), method)(path.format(id=listing.pk), {}, format="json")
    _error(response, 405, "method_not_allowed")
    assert Patent.objects.filter(pk=listing.pk, status=ListingStatus.DRAFT).exists()


# ---- 409 -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("spelling", ["{number}", "CN{number}", "ZL {number}"])
def test_duplicate_application_number_is_a_409(cast, api, spelling):
    existing = factories.patent(cast.institute)
    before = OutboxEvent.objects.count()
    response = api(cast.uni_member).post(
        "/api/v1/patents/",
        _patent_input(application_number=spelling.format(number=existing.application_number)),
        format="json",
    )
    error = _error(response, 409, "duplicate")
    assert list(error["fields"]) == ["application_number"]
    assert Patent.objects.count() == 1
    assert OutboxEvent.objects.count() == before


def test_wrong_workflow_step_is_a_409(cast, api):
    listing = factories.patent(cast.university, status=ListingStatus.PUBLISHED)
    response = api(cast.uni_member).patch(
        f"/api/v1/patents/{listing.pk}/", {"title": "新标题"}, format="json"
    )
    _error(response, 409, "not_editable")


# ---- 429 -------------------------------------------------------------------------------------------------


def test_too_many_requests_is_a_429_with_retry_after(client, cast):
    """The token endpoint allows 20 attempts a minute per client (counters start empty in every test)."""
    statuses = [client.post("/api/v1/auth/token/", {}).status_code for _ in range(20)]
    assert set(statuses) == {400}
    response = client.post("/api/v1/auth/token/", {"username": "uni_member", "password": factories.PASSWORD})
    error = _error(response, 429, "throttled")
    assert error["fields"] == {}
    assert int(response["Retry-After"]) > 0


# ---- bad input that once reached a 500 or an HTML page --------------------------------------------------


@pytest.mark.parametrize("body", ["[" * 1000 + "]" * 1000, "[" * 100_000, '{"a":' * 5000 + "1" + "}" * 5000])
def test_deeply_nested_json_is_a_parse_error_for_anyone(cast, api, body):
    for client, path in ((api(None), "/api/v1/auth/token/"), (api(cast.uni_member), "/api/v1/patents/")):
        _error(client.post(path, data=body, content_type="application/json"), 400, "parse_error")
    assert not Patent.objects.exists()


def test_json_nested_within_the_bound_still_parses(cast, api):
    from market.common.parsers import MAX_JSON_DEPTH

    nested = "[" * (MAX_JSON_DEPTH - 1) + "]" * (MAX_JSON_DEPTH - 1)
    body = '{"title": "一种电池", "ipc_codes": ' + nested + "}"
    error = _error(
        api(cast.uni_member).post("/api/v1/patents/", data=body, content_type="application/json"), 400
    )
    assert error["code"] == "invalid" and "ipc_codes" in error["fields"]


def test_a_filing_date_far_in_the_future_is_a_field_error(cast, api):
    for filing_date in ("9980-01-01", "9999-12-31", "0001-01-01"):
        response = api(cast.uni_member).post(
            "/api/v1/patents/", _patent_input(filing_date=filing_date), format="json"
        )
        assert list(_error(response, 400, "invalid")["fields"]) == ["filing_date"]
    assert not Patent.objects.exists()


def test_the_service_bounds_dates_too(cast):
    """Writers other than the API (imports, the admin) pass through the same service rule."""
    from market.catalog.services import patent_create

    with pytest.raises(Invalid) as raised:
        patent_create(
            user=cast.uni_member,
            **{**_patent_input(filing_date=date(9980, 1, 1)), "ipc_codes": ["H01M 10/0562"]},
        )
    assert set(raised.value.fields) == {"filing_date"}


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("/api/v1/patents/", {"filing_date_after": "9999-12-31"}, "filing_date_after"),
        ("/api/v1/patents/", {"published_after": "0001-01-01T00:00:00+14:00"}, "published_after"),
        ("/api/v1/demands/", {"deadline_before": "0001-01-01"}, "deadline_before"),
        ("/api/v1/search/", {"published_after": "9999-01-01"}, "published_after"),
    ],
)
def test_dates_out_of_the_calendar_are_refused_in_filters(cast, api, path, params, field):
    assert list(_error(api(None).get(path, params), 400, "invalid")["fields"]) == [field]


def test_a_body_over_the_size_limit_is_a_400_in_the_error_format(cast, api, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    big = {"title": "电" * 20_000, "filing_date": "2020-01-01"}
    client = api(cast.uni_member)
    _error(client.post("/api/v1/patents/", big, format="json"), 400, "request_too_large")
    _error(client.post("/api/v1/patents/", big, format="multipart"), 400, "request_too_large")
    _error(api(None).post("/api/v1/auth/token/", {"username": "x" * 20_000}, format="json"), 400)
    assert not Patent.objects.exists()


@pytest.mark.parametrize("debug", [False, True])
def test_unrouted_api_paths_answer_json_even_in_debug(client, settings, debug):
    settings.DEBUG = debug
    for path in ("/api/v1/no-such-thing/", "/api/nothing", "/api/v1/patents/1/2/3/4/"):
        response = client.get(path)
        error = _error(response, 404, "not_found")
        assert "URLconf" not in error["message"] and b"urlpatterns" not in response.content
