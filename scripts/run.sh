#!/usr/bin/env bash
# Runs the whole market locally: installs, migrates, loads the real sample data on first start, starts the
# Kafka/Elasticsearch stand-in, the outbox relay, the consumers, Celery and the web server, and prints the URL
# and demo credentials. Ctrl-C stops everything. PORT (default 8000), DATABASE_URL and REDIS_URL override;
# notification links lead to http://127.0.0.1:PORT unless MARKET_PUBLIC_URL is set.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh

export DJANGO_SETTINGS_MODULE=market.config.settings
export DJANGO_DEBUG=${DJANGO_DEBUG:-true}
# A key of this checkout, generated on the first run and kept (sign-ins survive restarts); .run/ is ignored
# by git. DJANGO_SECRET_KEY in the environment wins.
if [ -z "${DJANGO_SECRET_KEY:-}" ]; then
    mkdir -p .run
    if [ ! -s .run/secret_key ]; then
        (umask 077 && .venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(50))' >.run/secret_key)
    fi
    DJANGO_SECRET_KEY=$(cat .run/secret_key)
    export DJANGO_SECRET_KEY
fi
exec .venv/bin/python manage.py run_market --port "${PORT:-8000}"
