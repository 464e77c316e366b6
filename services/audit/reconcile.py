"""Proof that nothing was lost, end to end: every event the outbox sent (still retained, and sent longer than
a grace period ago, so normal lag is not a loss) must be in the audit log, which records every event of every
topic. An event that is not was lost on the way (a broker that lost acknowledged records, a consumer that
skipped offsets): it is marked unsent, so the relay sends it again. Every consumer de-duplicates by event id
(or by version), so re-sending an event that some consumer did get is harmless."""

import logging
from dataclasses import dataclass
from datetime import timedelta

from django.db import connection, transaction
from django.utils import timezone
from prometheus_client import Counter, Gauge

from market.events.models import OutboxEvent
from services.audit.models import AuditEntry

logger = logging.getLogger(__name__)

MISSING = Gauge(
    "outbox_reconcile_missing_events",
    "Sent outbox events missing from the audit log at the last reconciliation",
)
RESENT = Counter("outbox_reconcile_resent_events_total", "Lost outbox events the reconciler queued again")

_MISSING_SQL = f"""
SELECT outbox.id FROM {OutboxEvent._meta.db_table} outbox
WHERE outbox.sent_at IS NOT NULL AND outbox.sent_at < %s AND outbox.set_aside_at IS NULL
  AND NOT EXISTS (SELECT 1 FROM {AuditEntry._meta.db_table} audit WHERE audit.event_id = outbox.id::text)
ORDER BY outbox.sequence
"""


@dataclass(frozen=True)
class Reconciliation:
    checked: int  # sent events old enough to be in the audit log
    missing: int  # of those, not in it
    requeued: int  # marked unsent for the relay (0 on a dry run)


def outbox_reconcile(*, grace_seconds: int, dry_run: bool = False) -> Reconciliation:
    """Compare, and queue what is missing again (unless `dry_run`). Rows set aside and then discarded by an
    operator were never sent: they are left alone."""
    cutoff = timezone.now() - timedelta(seconds=grace_seconds)
    with transaction.atomic():
        checked = OutboxEvent.objects.filter(
            sent_at__isnull=False, sent_at__lt=cutoff, set_aside_at__isnull=True
        ).count()
        with connection.cursor() as cursor:
            cursor.execute(_MISSING_SQL, [cutoff])
            missing = [row[0] for row in cursor.fetchall()]
        requeued = 0 if dry_run else OutboxEvent.objects.filter(id__in=missing).update(sent_at=None)
    MISSING.set(len(missing))
    RESENT.inc(requeued)
    if missing:
        logger.error(
            "reconciliation: %s of %s sent events never reached the audit log; %s queued again",
            len(missing),
            checked,
            requeued,
        )
    return Reconciliation(checked=checked, missing=len(missing), requeued=requeued)
