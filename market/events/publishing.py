"""`publish(event)`: the only way the core announces a fact. It writes an outbox row in the caller's
transaction, so a rolled-back write leaves no event and a committed one is relayed to Kafka later."""

from collections.abc import Iterable

from django.conf import settings
from django.db import connection

from market.events.catalogue import Event
from market.events.models import OutboxEvent


class PublishOutsideTransaction(RuntimeError):
    """Publishing outside `transaction.atomic` could announce a fact that never committed."""


def _outbox_row(event: Event) -> OutboxEvent:
    return OutboxEvent(
        type=event.type,
        topic=event.topic,
        key=event.key,
        source=getattr(settings, "EVENTS_SOURCE", "/market/core"),
        data=event.data(),
        aggregate_version=event.version,
    )


def _require_transaction(what: str) -> None:
    if not connection.in_atomic_block:
        raise PublishOutsideTransaction(f"{what} must be published inside transaction.atomic()")


def publish(event: Event) -> OutboxEvent:
    _require_transaction(event.type)
    row = _outbox_row(event)
    row.save(force_insert=True)
    return row


def publish_many(events: Iterable[Event]) -> list[OutboxEvent]:
    """Bulk form for imports: one INSERT for a whole batch of facts."""
    _require_transaction("a batch of events")
    return OutboxEvent.objects.bulk_create([_outbox_row(event) for event in events])
