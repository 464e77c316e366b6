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
    #: a worker's claim on a delivery it is sending; past it, the sweep hands the delivery to another worker.
    #: Well above NOTIFY_WEBHOOK_TIMEOUT and EMAIL_TIMEOUT, so a live worker always reports back first.
    "NOTIFY_DELIVERY_LEASE_SECONDS": 300.0,
    #: pending deliveries this long overdue are re-queued by the beat sweep (their task was lost)
    "NOTIFY_SWEEP_GRACE_SECONDS": 120.0,
}


def setting(name: str) -> Any:
    """A tunable: Django's setting when there is one (those read from the environment live in
    market/config/integrations/notify.py), else its default here."""
    if name in DEFAULTS:
        return getattr(settings, name, DEFAULTS[name])
    return getattr(settings, name)
