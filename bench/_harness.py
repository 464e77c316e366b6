"""Shared set-up for benchmarks: a scratch PostgreSQL database (migrated, dropped afterwards), Django
configured against it, and an embedded Kafka/Elasticsearch stand-in on free ports."""

import contextlib
import json
import os
import secrets
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


@contextlib.contextmanager
def scratch_database(name: str) -> Iterator[str]:
    """Create `name` next to the configured database, point Django at it, migrate; drop it afterwards."""
    import environ
    import psycopg

    base = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/test")
    config = environ.Env.db_url_config(base)
    admin = f"host={config['HOST']} port={config['PORT'] or 5432} user={config['USER']} dbname=postgres"
    if config.get("PASSWORD"):
        admin += f" password={config['PASSWORD']}"
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
        connection.execute(f'CREATE DATABASE "{name}"')
    os.environ["DATABASE_URL"] = base.rsplit("/", 1)[0] + "/" + name
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "market.config.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    # the settings need a key and hosts outside debug: a throw-away key for this run and its child processes,
    # and the host name of Django's test client, which the benchmarks call the API through
    os.environ.setdefault("DJANGO_SECRET_KEY", secrets.token_urlsafe(50))
    os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
    # the throttle stays in the request path, with a rate no benchmark reaches
    os.environ.setdefault("THROTTLE_USER", "10000000/min")
    os.environ.setdefault("THROTTLE_ANON", "10000000/min")
    # large indexes make the stand-in take seconds per query (engine-dominated figures, reported as such)
    os.environ.setdefault("SEARCH_REQUEST_TIMEOUT", "60")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connections

    call_command("migrate", verbosity=0)
    try:
        yield name
    finally:
        connections.close_all()
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextlib.contextmanager
def broker() -> Iterator[Any]:
    from market.localdev.embedded import embedded_broker

    with (
        tempfile.TemporaryDirectory(prefix="bench-noida-") as folder,
        embedded_broker(Path(folder)) as running,
    ):
        yield running


def timed(work: Callable[[], Any]) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


def report(name: str, figures: dict[str, Any]) -> None:
    """Human-readable lines, then the one JSON object scripts read (always the last line)."""
    for key, value in figures.items():
        print(f"{name}.{key}: {value}")
    print(json.dumps({"benchmark": name, **figures}, ensure_ascii=False))


@contextlib.contextmanager
def manage_processes(commands: list[list[str]], environment: dict[str, str]) -> Iterator[None]:
    """`manage.py COMMAND…` as their own processes, as deployed (in threads they would share this process's
    interpreter lock with what is measured); stopped by SIGTERM, killed if one does not stop within 30 s."""
    import signal
    import subprocess

    processes = [
        subprocess.Popen(
            [sys.executable, str(REPO / "manage.py"), *command], env=environment, stdout=subprocess.DEVNULL
        )
        for command in commands
    ]
    try:
        yield
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()


def percentile(delays: list[float], share: float) -> float | None:
    """`delays` holds inf for something never seen: a percentile that lands on one is None (not reached)."""
    import math

    value = sorted(delays)[min(len(delays) - 1, int(len(delays) * share))]
    return round(value, 3) if value != math.inf else None
