"""Tunables of the notification service, each overridable from Django settings (and so from tests)."""

from typing import Any

from django.conf import settings

DEFAULTS: dict[str, Any] = {
    #: channels for notifications no subscription chose channels for, until the user sets a preference
    "NOTIFY_DEFAULT_CHANNELS": ["in_app", "email"],
    #: webhook and e-mail retries: delay = base * 2 ** (attempt - 1), capped
    "NOTIFY_RETRY_BASE_SECONDS": 30.0,
    "NOTIFY_RETRY_MAX_SECONDS": 6 * 3600.0,
    "NOTIFY_MAX_ATTEMPTS": 8,
    #: a webhook endpoint failing this many times in a row is disabled
    "NOTIFY_WEBHOOK_DISABLE_AFTER": 20,
    "NOTIFY_WEBHOOK_TIMEOUT": 5.0,
    #: pending deliveries this long overdue are re-queued by the beat sweep (their task was lost)
    "NOTIFY_SWEEP_GRACE_SECONDS": 120.0,
}


def setting(name: str) -> Any:
    return getattr(settings, name, DEFAULTS[name])
