"""Handler of the audit consumer: one AuditEntry per event, written with the inbox row (exactly once)."""

from django.utils import timezone

from market.events.catalogue import TOPICS
from services.audit.models import AuditEntry
from services.common.consumer import ConsumerSpec, ReceivedEvent, decode, deduplicate


def audit_record(event: ReceivedEvent) -> None:
    AuditEntry.objects.create(
        event_id=event.id,
        event_type=event.type,
        aggregate_key=event.key or "",
        aggregate_version=int(event.data.get("version", 0)),
        occurred_at=event.time or timezone.now(),
        data=event.data,
        topic=event.topic,
        partition=event.partition,
        offset=event.offset,
    )


SPEC = ConsumerSpec(
    name="audit", topics=tuple(sorted(set(TOPICS.values()))), steps=(decode, deduplicate(audit_record))
)
