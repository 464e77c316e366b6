"""One shared reader of the process environment, so every settings module parses values the same way."""

from pathlib import Path

import environ

REPO_ROOT = Path(__file__).resolve().parents[2]
PACKAGE_ROOT = REPO_ROOT / "market"

env = environ.Env()
