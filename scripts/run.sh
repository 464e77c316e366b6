#!/usr/bin/env bash
# Runs the whole market locally: installs, migrates, loads the real sample data on first start, starts the
# Kafka/Elasticsearch stand-in, the outbox relay, the consumers, Celery and the web server, and prints the URL
# and demo credentials. Ctrl-C stops everything. PORT (default 8000), DATABASE_URL and REDIS_URL override.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh

export DJANGO_SETTINGS_MODULE=market.config.settings
export DJANGO_DEBUG=${DJANGO_DEBUG:-true}
exec .venv/bin/python manage.py run_market --port "${PORT:-8000}"
