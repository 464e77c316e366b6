"""Celery tasks of accounts: housekeeping of the sign-in tables."""

from celery import shared_task
from django.core.management import call_command


@shared_task(name="accounts.flush_expired_tokens", ignore_result=True)
def flush_expired_tokens() -> None:
    """Every sign-in records its refresh token (so a reused one can be refused); once expired, neither the
    record nor its blacklist entry is needed, and without this the tables grow by one row per sign-in."""
    call_command("flushexpiredtokens")
