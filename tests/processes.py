"""For tests that start the market's own processes (consumers, Celery): where those find the test database."""

import contextlib
import socket
import sys
import time
from collections.abc import Callable
from pathlib import Path

from django.db import connection


def child_database_url() -> str:
    """The database this test runs against, as a DATABASE_URL for a child process."""
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db["PASSWORD"] else ""
    return f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


#: a search engine stand-in that hangs (see tests/stub_engine.py); PORT, ANSWERS, HUNG_ONCE in its environment
STUB_ENGINE = [sys.executable, str(Path(__file__).parent / "stub_engine.py")]


def until(condition: Callable[[], object], timeout: float, what: str) -> None:
    """Wait for `condition`, polling; fail the test if it does not hold within `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"not within {timeout} s: {what}"
        time.sleep(0.02)


def port_open(port: int) -> bool:
    with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0
