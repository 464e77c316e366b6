"""Feeding the stats what the core published, without Kafka: the outbox rows, decoded as the consumer would
decode them, applied in order (for API tests; the real pipeline has its own tests)."""

from market.events.decoding import event_of
from market.events.models import OutboxEvent
from services.common.consumer import ReceivedEvent
from services.stats.consumer import events_apply


def outbox_events(*, after: int = 0) -> list[ReceivedEvent]:
    rows = OutboxEvent.objects.filter(sequence__gt=after).order_by("sequence")
    return [
        ReceivedEvent(
            id=str(row.id),
            type=row.type,
            source=row.source,
            time=row.created_at,
            key=row.key,
            data=row.data,
            event=event_of(row.type, row.data),
            topic=row.topic,
            partition=0,
            offset=row.sequence,
        )
        for row in rows
    ]


def stats_catch_up() -> None:
    """Apply everything published so far (figures are idempotent: calling it again changes nothing)."""
    events_apply(outbox_events())
