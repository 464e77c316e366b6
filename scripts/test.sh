#!/usr/bin/env bash
# The test command: installs what it needs, lints, type-checks, and runs the suite against the PostgreSQL and Redis on
# 127.0.0.1 (override with DATABASE_URL / REDIS_URL). Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh

export DJANGO_SETTINGS_MODULE=market.config.settings
# The settings refuse to start without a key and hosts outside debug, and the tests run without debug: a
# fresh random key per run (inherited by every process a test starts), never one kept in the repository.
export DJANGO_SECRET_KEY=${DJANGO_SECRET_KEY:-$(.venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(50))')}
export DJANGO_ALLOWED_HOSTS=${DJANGO_ALLOWED_HOSTS:-127.0.0.1,localhost,testserver}
.venv/bin/ruff check market services tests bench
.venv/bin/mypy
.venv/bin/python manage.py makemigrations --check --dry-run >/dev/null || {
    echo "models changed without a migration: run .venv/bin/python manage.py makemigrations" >&2
    exit 1
}
exec .venv/bin/python -m pytest -n "${TEST_WORKERS:-2}" "$@"
