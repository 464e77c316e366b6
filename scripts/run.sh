#!/usr/bin/env bash
# Runs the whole market locally: installs, migrates, loads the real sample data on first start, prints the
# URL and demo credentials, and serves until Ctrl-C. PORT (default 8000), DATABASE_URL and REDIS_URL override.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh

export DJANGO_SETTINGS_MODULE=market.config.settings
export DJANGO_DEBUG=${DJANGO_DEBUG:-true}
PORT=${PORT:-8000}
.venv/bin/python manage.py migrate --no-input
.venv/bin/python manage.py seed_market --if-empty
cat <<INFO

  网上技术市场 3.0 is running:   http://127.0.0.1:${PORT}/
  API:                          http://127.0.0.1:${PORT}/api/v1/
  API docs (OpenAPI):           http://127.0.0.1:${PORT}/api/docs/
  Admin:                        http://127.0.0.1:${PORT}/admin/

INFO
.venv/bin/python manage.py demo_credentials
exec .venv/bin/python manage.py runserver "127.0.0.1:${PORT}" --noreload
