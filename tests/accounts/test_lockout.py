"""Password guessing: the `auth` throttle counts by the real client address whatever `X-Forwarded-For` says,
and an account is locked after repeated failures wherever they come from, until its cool-off ends or a
platform administrator unlocks it."""

import io
from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.core.management import call_command
from django.test import Client, RequestFactory
from rest_framework.test import APIClient

from market.accounts.lockout import client_address
from tests import factories
from tests.accounts.test_accounts_api import TOKEN, assert_error

pytestmark = pytest.mark.django_db

WRONG = {"username": "uni_admin", "password": "guess-Pass-0000"}
RIGHT = {"username": "uni_admin", "password": factories.PASSWORD}
#: another machine of the attacker's (or the account's owner): a real address the throttle has not seen
ELSEWHERE = "127.0.0.2"


def auth_rate() -> int:
    return int(settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["auth"].split("/")[0])


def lock(username: str = "uni_admin") -> None:
    """Enough wrong passwords to lock the account, each from a different real address (so that the
    throttle, which counts per address, stays out of the way)."""
    for attempt in range(settings.AXES_FAILURE_LIMIT):
        APIClient().post(
            TOKEN,
            {"username": username, "password": "guess-Pass-0000"},
            format="json",
            REMOTE_ADDR=f"127.0.1.{attempt}",
        )


def test_forged_forwarded_for_neither_escapes_the_throttle_nor_unlocks_the_account(cast) -> None:
    """The attack as it was reported: 20 wrong passwords, 10 more each with a new forged X-Forwarded-For,
    then the right password. The forged attempts are throttled by the real address, and the account is
    locked: the right password is refused even from a machine the throttle has never seen."""
    client = APIClient()
    answers = [client.post(TOKEN, WRONG, format="json") for _ in range(auth_rate())]
    forged = [
        client.post(TOKEN, WRONG, format="json", HTTP_X_FORWARDED_FOR=f"127.9.{attempt}.1")
        for attempt in range(10)
    ]

    limit = settings.AXES_FAILURE_LIMIT
    assert [answer.status_code for answer in answers[: limit - 1]] == [401] * (limit - 1)
    for answer in answers[limit - 1 :]:
        assert_error(answer, 403, "account_locked")
    for answer in forged:
        assert_error(answer, 429, "throttled")
    assert_error(client.post(TOKEN, RIGHT, format="json"), 429, "throttled")
    locked = APIClient().post(TOKEN, RIGHT, format="json", REMOTE_ADDR=ELSEWHERE)
    assert "access" not in assert_error(locked, 403, "account_locked")


def test_the_lock_is_per_account(cast) -> None:
    lock("uni_admin")
    other = APIClient().post(
        TOKEN, {"username": "uni_member", "password": factories.PASSWORD}, REMOTE_ADDR=ELSEWHERE
    )
    assert other.status_code == 200


def test_lock_message_is_chinese_with_an_english_translation(cast) -> None:
    lock()
    chinese = assert_error(APIClient().post(TOKEN, RIGHT, REMOTE_ADDR=ELSEWHERE), 403, "account_locked")
    english = assert_error(
        APIClient().post(TOKEN, RIGHT, REMOTE_ADDR=ELSEWHERE, HTTP_ACCEPT_LANGUAGE="en"),
        403,
        "account_locked",
    )
    assert "锁定" in chinese["message"]
    assert "locked" in english["message"]
    assert f"{settings.AXES_COOLOFF_TIME.seconds // 60}" in english["message"]


def test_platform_administrator_unlocks_over_the_api(cast, api) -> None:
    lock()
    assert_error(api(cast.uni_member).post("/api/v1/users/unlock/", {"username": "uni_admin"}), 403)
    assert_error(APIClient().post(TOKEN, RIGHT, REMOTE_ADDR=ELSEWHERE), 403, "account_locked")

    response = api(cast.platform_admin).post(
        "/api/v1/users/unlock/", {"username": "uni_admin"}, format="json"
    )

    assert response.status_code == 200
    assert response.json() == {"username": "uni_admin", "had_failed_sign_ins": True}
    assert APIClient().post(TOKEN, RIGHT, REMOTE_ADDR=ELSEWHERE).status_code == 200
    again = api(cast.platform_admin).post("/api/v1/users/unlock/", {"username": "uni_admin"}, format="json")
    assert again.json()["had_failed_sign_ins"] is False


def test_management_command_unlocks(cast) -> None:
    lock()
    call_command("axes_reset_username", "uni_admin", stdout=io.StringIO())
    assert APIClient().post(TOKEN, RIGHT, REMOTE_ADDR=ELSEWHERE).status_code == 200


def test_the_lock_ends_after_the_cool_off(cast) -> None:
    lock()
    assert_error(APIClient().post(TOKEN, RIGHT, REMOTE_ADDR=ELSEWHERE), 403, "account_locked")
    # as if the cool-off had passed since the last failure
    for attempt in AccessAttempt.objects.filter(username="uni_admin"):
        attempt.attempt_time -= settings.AXES_COOLOFF_TIME + timedelta(seconds=1)
        attempt.save(update_fields=["attempt_time"])

    assert APIClient().post(TOKEN, RIGHT, REMOTE_ADDR=ELSEWHERE).status_code == 200


def test_a_successful_sign_in_clears_earlier_failures(cast) -> None:
    client = APIClient()
    for attempt in range(settings.AXES_FAILURE_LIMIT - 1):
        client.post(TOKEN, WRONG, REMOTE_ADDR=f"127.0.2.{attempt}")
    assert client.post(TOKEN, RIGHT, REMOTE_ADDR=ELSEWHERE).status_code == 200

    client.post(TOKEN, WRONG, REMOTE_ADDR="127.0.3.1")
    assert client.post(TOKEN, RIGHT, REMOTE_ADDR=ELSEWHERE).status_code == 200


def test_admin_sign_in_is_locked_too(cast) -> None:
    """The admin's session sign-in goes through the same lock, with the same message."""
    admin = factories.user(None, platform_admin=True, username="staff_admin", is_staff=True)
    for attempt in range(settings.AXES_FAILURE_LIMIT):
        Client(REMOTE_ADDR=f"127.0.4.{attempt}").post(
            "/admin/login/", {"username": admin.username, "password": "guess-Pass-0000"}
        )

    response = Client(REMOTE_ADDR=ELSEWHERE).post(
        "/admin/login/", {"username": admin.username, "password": factories.PASSWORD}
    )

    assert response.status_code == 403
    assert "锁定" in response.content.decode()
    assert "_auth_user_id" not in response.wsgi_request.session


@pytest.mark.parametrize(
    ("proxies", "forwarded_for", "client"),
    [
        (0, None, "127.0.0.1"),
        (0, "127.7.7.7", "127.0.0.1"),
        (1, "127.7.7.7, 127.0.0.50", "127.0.0.50"),
        (1, "127.0.0.50", "127.0.0.50"),
        (2, "127.7.7.7, 127.0.0.50, 127.0.0.60", "127.0.0.50"),
    ],
)
def test_client_address_believes_only_the_trusted_proxies(
    settings, proxies: int, forwarded_for: str | None, client: str
) -> None:
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": proxies}
    headers = {"HTTP_X_FORWARDED_FOR": forwarded_for} if forwarded_for else {}
    request = RequestFactory().post(TOKEN, REMOTE_ADDR="127.0.0.1", **headers)
    assert client_address(request) == client


def test_throttle_behind_one_proxy_counts_the_entry_the_proxy_wrote(cast, settings) -> None:
    """Behind one proxy a client can still prepend forged entries; only the last one, the proxy's, counts."""
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    client = APIClient()
    answers = [
        client.post(
            TOKEN,
            {"username": f"nobody{attempt}", "password": "guess-Pass-0000"},
            HTTP_X_FORWARDED_FOR=f"127.9.{attempt}.1, 127.0.0.50",
        )
        for attempt in range(auth_rate() + 1)
    ]
    assert {answer.status_code for answer in answers[:-1]} == {401}
    assert_error(answers[-1], 429, "throttled")
    other_client = client.post(TOKEN, RIGHT, HTTP_X_FORWARDED_FOR="127.0.0.51")
    assert other_client.status_code == 200


def test_administrator_unlocks_in_the_django_admin(cast) -> None:
    """The admin lists the account's access attempts as locked out; deleting them unlocks the account."""
    lock()
    superuser = factories.user(None, username="root_admin", is_staff=True, is_superuser=True)
    admin = Client()
    admin.force_login(superuser)
    changelist = "/admin/axes/accessattempt/"

    listing = admin.get(changelist)
    assert listing.status_code == 200
    assert "uni_admin" in listing.content.decode()
    attempts = list(AccessAttempt.objects.filter(username="uni_admin").values_list("pk", flat=True))
    deleted = admin.post(
        changelist, {"action": "delete_selected", "_selected_action": attempts, "post": "yes"}
    )

    assert deleted.status_code == 302
    assert not AccessAttempt.objects.filter(username="uni_admin").exists()
    assert APIClient().post(TOKEN, RIGHT, REMOTE_ADDR=ELSEWHERE).status_code == 200
