"""Handler of the audit consumer: one AuditEntry per event, written with the inbox row (exactly once)."""

from django.utils import timezone

from market.events.catalogue import TOPICS
from services.audit.models import AuditEntry
from services.common.consumer import ConsumerSpec, ReceivedEvent, decode, deduplicate


def audit_record(received: ReceivedEvent) -> None:
    """The payload is kept as received, with any fields a newer producer added."""
    AuditEntry.objects.create(
        event_id=received.id,
        event_type=received.type,
        aggregate_key=received.key or "",
        aggregate_version=received.event.version,
        occurred_at=received.time or timezone.now(),
        data=received.data,
        topic=received.topic,
        partition=received.partition,
        offset=received.offset,
    )


SPEC = ConsumerSpec(
    name="audit", topics=tuple(sorted(set(TOPICS.values()))), steps=(decode, deduplicate(audit_record))
)
