#!/usr/bin/env bash
# Creates .venv (Python 3.11) and installs the project with its dev tools, and the tests' Node AsyncAPI
# validator; re-installs each only when pyproject.toml or the validator's lockfile changed since the last install.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3.11}
command -v "$PYTHON" >/dev/null 2>&1 || PYTHON=python3
if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi
stamp=.venv/.installed-$(sha256sum pyproject.toml | cut -c1-16)
if [ ! -f "$stamp" ]; then
    .venv/bin/python -m pip install --quiet --upgrade pip
    .venv/bin/python -m pip install --quiet -e '.[dev]'
    rm -f .venv/.installed-*
    touch "$stamp"
fi

# The official AsyncAPI parser (Node), which tests/events/test_asyncapi.py validates the event contract with;
# pinned by its lockfile, re-installed only when that changed. --ignore-scripts: nothing in it needs building.
validator=tests/events/asyncapi
stamp=$validator/node_modules/.installed-$(sha256sum "$validator/package-lock.json" | cut -c1-16)
if [ ! -f "$stamp" ]; then
    npm ci --prefix "$validator" --ignore-scripts --no-audit --no-fund --loglevel=error
    touch "$stamp"
fi
