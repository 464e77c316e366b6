"""For tests that start the market's own processes (consumers, Celery): where those find the test database."""

from django.db import connection


def child_database_url() -> str:
    """The database this test runs against, as a DATABASE_URL for a child process."""
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db["PASSWORD"] else ""
    return f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
