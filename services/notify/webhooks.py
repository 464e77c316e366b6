"""Signed webhook requests. The receiver checks them with the snippet in WEBHOOKS.md (tested against this
code): `X-Market-Signature: v1=<hex HMAC-SHA256(secret, "<timestamp>." + raw body)>` and
`X-Market-Timestamp: <unix seconds>`, so a forged body fails the HMAC and a replayed old request fails the
timestamp window."""

import hashlib
import hmac
import json
import secrets
import time
import urllib.error
import urllib.request
from dataclasses import dataclass

from services.notify.conf import setting

SIGNATURE_HEADER = "X-Market-Signature"
TIMESTAMP_HEADER = "X-Market-Timestamp"
EVENT_HEADER = "X-Market-Event"
DELIVERY_HEADER = "X-Market-Delivery"


def secret_generate() -> str:
    return secrets.token_hex(32)


def signature(secret: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"v1={digest}"


@dataclass(frozen=True)
class WebhookResult:
    ok: bool
    status_code: int | None
    error: str


def webhook_post(*, url: str, secret: str, payload: dict, delivery_id: str, event_id: str) -> WebhookResult:
    """POST the payload as JSON with its signature; a 2xx answer is success, anything else a failure."""
    body = json.dumps(payload, ensure_ascii=False, sort_keys=True).encode()
    timestamp = int(time.time())
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "tech-market-webhooks/1",
            SIGNATURE_HEADER: signature(secret, timestamp, body),
            TIMESTAMP_HEADER: str(timestamp),
            EVENT_HEADER: event_id,
            DELIVERY_HEADER: delivery_id,
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=setting("NOTIFY_WEBHOOK_TIMEOUT")) as response:
            return WebhookResult(True, response.status, "")
    except urllib.error.HTTPError as error:
        return WebhookResult(False, error.code, f"HTTP {error.code}")
    except (urllib.error.URLError, OSError) as error:
        return WebhookResult(False, None, str(getattr(error, "reason", error))[:500])
