"""The settings refuse to run without a key and hosts of their own outside debug, the key that used to ship in
the repository signs nothing, and `manage.py check --deploy` finds nothing to warn about with production-like
environment variables."""

import datetime
import os
import secrets
import subprocess
import sys
import uuid
from pathlib import Path

import jwt
import pytest
from django.conf import settings
from rest_framework.test import APIClient

REPO = Path(__file__).resolve().parents[2]
#: the fallback key `market/config/settings.py` carried until it was removed
OLD_REPOSITORY_KEY = "insecure-local-development-key-change-me-in-production"
PRODUCTION_LIKE = {
    "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
    "DJANGO_ALLOWED_HOSTS": "market.example.org",
    "DJANGO_CSRF_TRUSTED_ORIGINS": "https://market.example.org",
    "DJANGO_SECURE_PROXY_SSL_HEADER": "HTTP_X_FORWARDED_PROTO",
    "DJANGO_SECURE_SSL_REDIRECT": "true",
    "DJANGO_SECURE_HSTS_SECONDS": "31536000",
    "DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS": "true",
    "DJANGO_SECURE_HSTS_PRELOAD": "true",
    "DJANGO_SESSION_COOKIE_SECURE": "true",
    "DJANGO_CSRF_COOKIE_SECURE": "true",
    "TRUSTED_PROXY_COUNT": "1",
}
SETTINGS_VARIABLES = {"DJANGO_DEBUG", "DJANGO_SECRET_KEY", "DJANGO_ALLOWED_HOSTS", *PRODUCTION_LIKE}


def run_django(code: str, **environment: str) -> subprocess.CompletedProcess:
    """`code` in a fresh interpreter after `django.setup()`, with this process's environment less every
    setting of the security module, plus `environment`."""
    env = {key: value for key, value in os.environ.items() if key not in SETTINGS_VARIABLES}
    env.update(DJANGO_SETTINGS_MODULE="market.config.settings", **environment)
    script = f"import django\ndjango.setup()\n{code}"
    return subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, env=env, capture_output=True, text=True, timeout=60
    )


@pytest.mark.parametrize(
    ("missing", "environment"),
    [
        ("DJANGO_SECRET_KEY", {"DJANGO_ALLOWED_HOSTS": "market.example.org"}),
        ("DJANGO_ALLOWED_HOSTS", {"DJANGO_SECRET_KEY": secrets.token_urlsafe(50)}),
        ("DJANGO_SECRET_KEY", {"DJANGO_DEBUG": "false", "DJANGO_ALLOWED_HOSTS": "market.example.org"}),
    ],
)
def test_outside_debug_the_process_refuses_to_start_without(missing: str, environment: dict) -> None:
    result = run_django("print('started')", **environment)
    assert result.returncode != 0
    assert "started" not in result.stdout
    assert "ImproperlyConfigured" in result.stderr
    assert f"{missing} is not set" in result.stderr


def test_debug_without_a_key_uses_a_random_one_not_a_shipped_one() -> None:
    code = "from django.conf import settings\nprint(settings.SECRET_KEY)"
    first, second = (run_django(code, DJANGO_DEBUG="true") for _ in range(2))
    assert first.returncode == second.returncode == 0, first.stderr
    keys = {first.stdout.strip(), second.stdout.strip()}
    assert len(keys) == 2
    assert OLD_REPOSITORY_KEY not in keys


def test_settings_read_the_proxy_count_for_throttling_and_the_lockout() -> None:
    code = (
        "from django.conf import settings\n"
        "from django.test import RequestFactory\n"
        "from market.accounts.lockout import client_address\n"
        "request = RequestFactory().get('/', HTTP_X_FORWARDED_FOR='127.7.7.7, 127.0.0.50')\n"
        "print(settings.REST_FRAMEWORK['NUM_PROXIES'], client_address(request))"
    )
    assert run_django(code, **PRODUCTION_LIKE).stdout.split() == ["1", "127.0.0.50"]
    assert run_django(code, DJANGO_DEBUG="true").stdout.split() == ["0", "127.0.0.1"]


def test_check_deploy_reports_no_issues_with_production_like_settings() -> None:
    env = {key: value for key, value in os.environ.items() if key not in SETTINGS_VARIABLES}
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=REPO,
        env={**env, **PRODUCTION_LIKE},
        capture_output=True,
        text=True,
        timeout=120,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "System check identified no issues" in output
    assert "WARNING" not in output


def forged_access_token(user_id: int, key: str) -> str:
    now = datetime.datetime.now(datetime.UTC)
    claims = {
        "token_type": "access",
        "exp": now + datetime.timedelta(minutes=5),
        "iat": now,
        "jti": uuid.uuid4().hex,
        "user_id": str(user_id),
    }
    return jwt.encode(claims, key, algorithm="HS256")


@pytest.mark.django_db
def test_a_token_signed_with_the_old_repository_key_is_refused(cast) -> None:
    assert settings.SECRET_KEY != OLD_REPOSITORY_KEY
    client = APIClient()

    client.credentials(
        HTTP_AUTHORIZATION=f"Bearer {forged_access_token(cast.platform_admin.pk, OLD_REPOSITORY_KEY)}"
    )
    refused = client.get("/api/v1/users/me/")

    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "token_not_valid"
    # the same token signed with the process's own key is accepted: only the key made the difference
    client.credentials(
        HTTP_AUTHORIZATION=f"Bearer {forged_access_token(cast.platform_admin.pk, settings.SECRET_KEY)}"
    )
    assert client.get("/api/v1/users/me/").json()["username"] == "reviewer"
