#!/usr/bin/env bash
# The test command: installs what it needs, lints, and runs the suite against the PostgreSQL and Redis on
# 127.0.0.1 (override with DATABASE_URL / REDIS_URL). Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh

export DJANGO_SETTINGS_MODULE=market.config.settings
.venv/bin/ruff check market services tests bench
.venv/bin/python manage.py makemigrations --check --dry-run >/dev/null || {
    echo "models changed without a migration: run .venv/bin/python manage.py makemigrations" >&2
    exit 1
}
exec .venv/bin/python -m pytest -n "${TEST_WORKERS:-2}" "$@"
