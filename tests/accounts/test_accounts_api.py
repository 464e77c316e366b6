"""Accounts over HTTP: JWT sign-in and its throttle, the signed-in user's own profile, organization
registration input, and members (and their roles: a government organization's registrars)."""

import queue
import threading

import pytest
from django.conf import settings
from django.db import connection, connections, transaction
from rest_framework.test import APIClient
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken

from market.accounts.models import Organization, OrganizationType, OrgRole, User
from market.events.models import OutboxEvent
from tests import factories
from tests.locks import wait_until_blocked

pytestmark = pytest.mark.django_db

TOKEN = "/api/v1/auth/token/"
REFRESH = "/api/v1/auth/token/refresh/"
STRONG_PASSWORD = "Sturdy-Pass-2026"


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings) -> None:
    """The cast's dozen users would cost seconds per test with the production hasher."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def assert_error(response, status: int, code: str | None = None) -> dict:
    """The one error shape: `{"error": {"code", "message", "fields"}}`."""
    assert response.status_code == status, response.content
    error = response.json()["error"]
    assert set(error) == {"code", "message", "fields"}
    assert error["message"]
    if code is not None:
        assert error["code"] == code
    return error


# ---- JWT ---------------------------------------------------------------------------------------------------


def test_token_with_good_credentials_works_as_bearer(cast) -> None:
    client = APIClient()
    response = client.post(TOKEN, {"username": "uni_member", "password": factories.PASSWORD}, format="json")

    assert response.status_code == 200
    tokens = response.json()
    assert set(tokens) == {"access", "refresh"}
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    me = client.get("/api/v1/users/me/")
    assert me.status_code == 200
    assert (me.json()["username"], me.json()["organization"]["id"]) == ("uni_member", cast.university.pk)
    assert me.json()["org_role"] == "member"


def test_refresh_token_gives_a_working_access_token(cast) -> None:
    client = APIClient()
    refresh = client.post(TOKEN, {"username": "ent_admin", "password": factories.PASSWORD}).json()["refresh"]

    response = client.post(REFRESH, {"refresh": refresh}, format="json")

    assert response.status_code == 200
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {response.json()['access']}")
    assert client.get("/api/v1/users/me/").json()["username"] == "ent_admin"


def test_refresh_rotates_and_a_reused_refresh_token_is_refused(cast) -> None:
    """A refresh token works once: its use returns a new one and blacklists it, so whoever replays it later
    (a thief after the owner refreshed, or the owner after a thief did) is refused."""
    client = APIClient()
    first = client.post(TOKEN, {"username": "ent_admin", "password": factories.PASSWORD}).json()["refresh"]

    rotated = client.post(REFRESH, {"refresh": first}, format="json")
    assert rotated.status_code == 200
    second = rotated.json()["refresh"]
    assert second != first

    assert_error(client.post(REFRESH, {"refresh": first}, format="json"), 401, "token_not_valid")
    again = client.post(REFRESH, {"refresh": second}, format="json")
    assert again.status_code == 200
    assert again.json()["refresh"] not in {first, second}


def test_the_nightly_task_drops_expired_refresh_tokens_and_keeps_live_ones(cast) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from market.accounts.tasks import flush_expired_tokens

    client = APIClient()
    client.post(TOKEN, {"username": "ent_admin", "password": factories.PASSWORD})
    client.post(TOKEN, {"username": "ent_member", "password": factories.PASSWORD})
    assert OutstandingToken.objects.count() == 2
    expired = OutstandingToken.objects.filter(user=cast.ent_admin)
    expired.update(expires_at=timezone.now() - timedelta(minutes=1))
    flush_expired_tokens()
    assert list(OutstandingToken.objects.values_list("user__username", flat=True)) == ["ent_member"]
    assert "accounts.flush_expired_tokens" in {
        entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()
    }


class RefreshInThread(threading.Thread):
    """One refresh request on its own database connection, whose backend pid the test can watch."""

    def __init__(self, refresh: str) -> None:
        super().__init__(daemon=True)
        self.refresh = refresh
        self.pid: queue.Queue[int] = queue.Queue()
        self.status: int | None = None

    def run(self) -> None:
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                self.pid.put(cursor.fetchone()[0])
            self.status = APIClient().post(REFRESH, {"refresh": self.refresh}, format="json").status_code
        finally:
            connections.close_all()


@pytest.mark.django_db(transaction=True)
def test_a_refresh_racing_another_with_the_same_token_is_refused() -> None:
    """The second of two simultaneous refreshes with one token waits for the first and is then refused
    (checked, then blacklisted, without the lock both would pass the check)."""
    factories.user(None, username="racer")
    refresh = APIClient().post(TOKEN, {"username": "racer", "password": factories.PASSWORD}).json()["refresh"]
    second = RefreshInThread(refresh)
    with transaction.atomic():
        # the first refresh, midway: it holds the token's row and blacklists the token before it commits
        OutstandingToken.objects.select_for_update().get(jti=RefreshToken(refresh)["jti"])
        second.start()
        wait_until_blocked(second.pid.get(timeout=10))
        RefreshToken(refresh).blacklist()
    second.join(timeout=30)
    assert second.status == 401


def test_bad_credentials_are_401_in_the_error_format(cast) -> None:
    """A wrong password and an unknown username get the same answer, so sign-in does not reveal who exists."""
    wrong_password = APIClient().post(TOKEN, {"username": "uni_member", "password": "wrong-Pass-2026"})
    unknown_user = APIClient().post(TOKEN, {"username": "nobody_here", "password": factories.PASSWORD})

    assert_error(wrong_password, 401, "no_active_account")
    assert unknown_user.json() == wrong_password.json()
    assert unknown_user.status_code == 401
    assert "access" not in wrong_password.json()


def test_inactive_user_gets_no_token(cast) -> None:
    User.objects.filter(pk=cast.uni_member.pk).update(is_active=False)
    response = APIClient().post(TOKEN, {"username": "uni_member", "password": factories.PASSWORD})
    assert_error(response, 401, "no_active_account")


def test_missing_credentials_name_the_fields(db) -> None:
    error = assert_error(APIClient().post(TOKEN, {}, format="json"), 400, "invalid")
    assert set(error["fields"]) == {"username", "password"}


@pytest.mark.parametrize(
    ("header", "code"),
    [
        ("Bearer not-a-token", "token_not_valid"),
        ("Bearer ", "authentication_failed"),
        ("Token abc", "not_authenticated"),
    ],
)
def test_bad_bearer_tokens_are_401_in_the_error_format(db, header: str, code: str) -> None:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)
    assert_error(client.get("/api/v1/users/me/"), 401, code)


def test_refresh_token_is_not_an_access_token(cast) -> None:
    client = APIClient()
    refresh = client.post(TOKEN, {"username": "broker", "password": factories.PASSWORD}).json()["refresh"]
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {refresh}")
    assert_error(client.get("/api/v1/users/me/"), 401, "token_not_valid")


def test_token_endpoint_is_throttled(cast) -> None:
    """Password guessing stops after the `auth` rate; even the right password is then refused. (Each guess
    names another account: repeated failures on one account lock it first, see test_lockout.py.)"""
    rate = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["auth"]
    limit = int(rate.split("/")[0])
    client = APIClient()
    wrong = {"username": "uni_admin", "password": "guess-Pass-0000"}

    for attempt in range(limit):
        guess = {"username": f"guessed_user{attempt}", "password": "guess-Pass-0000"}
        assert client.post(TOKEN, guess, format="json").status_code == 401

    throttled = client.post(TOKEN, wrong, format="json")
    assert_error(throttled, 429, "throttled")
    assert int(throttled["Retry-After"]) > 0
    right = client.post(TOKEN, {"username": "uni_admin", "password": factories.PASSWORD}, format="json")
    assert_error(right, 429, "throttled")


def test_default_auth_rate_is_twenty_a_minute() -> None:
    assert settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["auth"] == "20/min"


# ---- the signed-in user ------------------------------------------------------------------------------------


def test_me_requires_sign_in(db, api) -> None:
    assert_error(api(None).get("/api/v1/users/me/"), 401, "not_authenticated")


def test_me_updates_contact_details_only(cast, api) -> None:
    response = api(cast.ent_member).patch(
        "/api/v1/users/me/",
        {
            "display_name": "王工",
            "phone": "0571-86001234",
            "org_role": "org_admin",
            "is_platform_admin": True,
            "organization": cast.university.pk,
            "username": "renamed",
        },
        format="json",
    )

    assert response.status_code == 200
    assert (response.json()["display_name"], response.json()["phone"]) == ("王工", "0571-86001234")
    user = User.objects.get(pk=cast.ent_member.pk)
    assert (user.display_name, user.phone) == ("王工", "0571-86001234")
    assert (user.username, user.org_role, user.is_platform_admin, user.organization_id) == (
        "ent_member",
        "member",
        False,
        cast.enterprise.pk,
    )


def test_me_rejects_a_bad_email_naming_the_field(cast, api) -> None:
    error = assert_error(
        api(cast.ent_member).patch("/api/v1/users/me/", {"email": "not-an-email"}, format="json"), 400
    )
    assert "email" in error["fields"]
    assert User.objects.get(pk=cast.ent_member.pk).email == ""


# ---- organization registration input -----------------------------------------------------------------------


def registration(**changes) -> dict:
    return {
        "name": "钱塘理工学院",
        "org_type": "university",
        "credit_code": factories.credit_code(987654),
        "county_code": "330114",
        "admin_username": "qiantang_admin",
        "admin_password": STRONG_PASSWORD,
        **changes,
    }


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"credit_code": "91330100MA27XXXXX1"}, "credit_code"),
        ({"county_code": "999999"}, "county_code"),
        ({"org_type": "church"}, "org_type"),
        ({"admin_password": "123"}, "admin_password"),
        ({"admin_username": "has space"}, "admin_username"),
        ({"name": ""}, "name"),
    ],
)
def test_registration_input_errors_name_the_field(db, api, changes: dict, field: str) -> None:
    error = assert_error(api(None).post("/api/v1/orgs/", registration(**changes), format="json"), 400)
    assert field in error["fields"]
    assert not Organization.objects.exists()
    assert not User.objects.exists()
    assert not OutboxEvent.objects.exists()


@pytest.mark.parametrize(
    "changes",
    [
        {"admin_password": "qiantang_admin"},
        {"admin_password": "Qiantang_Admin"},
        {"admin_email": "zhang.wei.2026@qq.com", "admin_password": "zhang.wei.2026"},
    ],
)
def test_registration_refuses_a_password_like_the_administrators_details(db, api, changes: dict) -> None:
    """The password validators see the user being created: long and uncommon is not enough when the
    password is the username or the e-mail address."""
    error = assert_error(api(None).post("/api/v1/orgs/", registration(**changes), format="json"), 400)
    assert list(error["fields"]) == ["admin_password"]
    assert not Organization.objects.exists()
    assert not User.objects.exists()
    assert not OutboxEvent.objects.exists()


def test_registration_with_a_taken_username_conflicts(cast, api) -> None:
    response = api(None).post("/api/v1/orgs/", registration(admin_username="uni_admin"), format="json")
    error = assert_error(response, 409)
    assert "admin_username" in error["fields"]
    assert not Organization.objects.filter(name="钱塘理工学院").exists()
    assert not OutboxEvent.objects.exists()


@pytest.mark.parametrize("clash", ["name", "credit_code"])
def test_registration_of_an_existing_organization_conflicts(cast, api, clash: str) -> None:
    existing = {"name": cast.university.name, "credit_code": cast.university.credit_code}[clash]
    response = api(None).post("/api/v1/orgs/", registration(**{clash: existing}), format="json")
    error = assert_error(response, 400, "invalid")
    assert clash in error["fields"]
    assert not User.objects.filter(username="qiantang_admin").exists()
    assert not OutboxEvent.objects.exists()


# ---- members -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("anonymous", 401),
        ("uni_member", 200),
        ("uni_admin", 200),
        ("platform_admin", 200),
        ("ent_admin", 403),
    ],
)
def test_member_list_is_for_members_and_reviewers(cast, api, role: str, status: int) -> None:
    response = api(None if role == "anonymous" else getattr(cast, role)).get(
        f"/api/v1/orgs/{cast.university.pk}/members/"
    )
    assert response.status_code == status
    if status == 200:
        assert [member["username"] for member in response.json()] == ["uni_admin", "uni_member"]
        assert "password" not in response.content.decode()


def test_added_member_can_sign_in_and_list(cast, api) -> None:
    response = api(cast.uni_admin).post(
        f"/api/v1/orgs/{cast.university.pk}/members/",
        {"username": "li_lei", "password": STRONG_PASSWORD, "display_name": "李雷"},
        format="json",
    )
    assert response.status_code == 201
    assert "password" not in response.json()

    client = APIClient()
    token = client.post(TOKEN, {"username": "li_lei", "password": STRONG_PASSWORD}).json()["access"]
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert client.get("/api/v1/users/me/").json()["organization"]["id"] == cast.university.pk


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"username": "uni_member", "password": STRONG_PASSWORD}, 409, "username"),
        ({"username": "weak_one", "password": "123"}, 400, "password"),
        ({"username": "li_lei_2026", "password": "li_lei_2026"}, 400, "password"),
        (
            {"username": "hmm", "password": "meimei.han.88", "email": "meimei.han.88@qq.com"},
            400,
            "password",
        ),
        (
            {"username": "han_mm", "password": "HanMeimei2026", "display_name": "HanMeimei2026"},
            400,
            "password",
        ),
        ({"username": "bad role", "password": STRONG_PASSWORD}, 400, "username"),
        ({"username": "boss", "password": STRONG_PASSWORD, "org_role": "owner"}, 400, "org_role"),
    ],
)
def test_member_input_errors_name_the_field(cast, api, body: dict, status: int, field: str) -> None:
    users_before = User.objects.count()
    response = api(cast.uni_admin).post(f"/api/v1/orgs/{cast.university.pk}/members/", body, format="json")
    error = assert_error(response, status)
    assert field in error["fields"]
    assert User.objects.count() == users_before


def test_a_registrar_is_a_role_of_government_members_only(cast, api):
    """Item 8: a government organization's administrator names registrars; no other organization has them."""
    bureau = factories.organization(OrganizationType.GOVERNMENT, county_code="330106")
    head = factories.user(bureau, role=OrgRole.ORG_ADMIN)
    body = {"username": "new_registrar", "password": "Long-enough-pass-42", "org_role": "registrar"}
    created = api(head).post(f"/api/v1/orgs/{bureau.pk}/members/", body, format="json")
    assert created.status_code == 201 and created.json()["org_role"] == "registrar"
    refused = api(cast.uni_admin).post(
        f"/api/v1/orgs/{cast.university.pk}/members/", {**body, "username": "uni_registrar"}, format="json"
    )
    assert refused.status_code == 400 and list(refused.json()["error"]["fields"]) == ["org_role"]
    me = api(cast.registrar).get("/api/v1/users/me/").json()
    assert me["org_role"] == "registrar" and me["organization"]["org_type"] == "government"
