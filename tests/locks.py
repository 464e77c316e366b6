"""Observing database locks from a test: a race is proven by seeing a session wait, not by sleeping."""

import time

from django.db import connection


def wait_until_blocked(pid: int, timeout: float = 10) -> None:
    """Until the backend `pid` waits for a lock held by another session."""
    deadline = time.monotonic() + timeout
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute("SELECT cardinality(pg_blocking_pids(%s))", [pid])
            if cursor.fetchone()[0]:
                return
            time.sleep(0.01)
    raise AssertionError(f"backend {pid} never waited for a lock")
