"""Rebuild a kind's index from PostgreSQL without search downtime.

1. Note the end offsets of the kind's topic: every change after them will be caught up from Kafka.
2. Build a new versioned index from the published rows (through the same snapshot classes and document
   builder as the events, external version = row version), with refreshes off while it fills.
3. Catch up the events that arrived meanwhile; versions make repeats and older events harmless.
4. Swap the alias atomically (searches see the old index until then, the new one right after).
5. Catch up once more, into the alias, for whatever the live indexer wrote to the old index just before the
   swap; then drop the old index."""

import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from kafka import KafkaConsumer
from kafka.structs import TopicPartition

from market.catalog.models import Achievement, Demand, Expert, ListingStatus, Patent
from market.events.catalogue import TOPICS
from market.events.snapshots import listing_snapshot_class
from services.common.consumer import PermanentError, event_decode
from services.search.documents import SEARCHABLE_STATUS, action_build
from services.search.indexer import bulk_send, listing_event_action
from services.search.indexes import (
    REFRESH_INTERVAL,
    alias_name,
    alias_swap,
    client,
    index_create,
    index_name_new,
)

logger = logging.getLogger(__name__)
Progress = Callable[..., Any]


@dataclass(frozen=True)
class ReindexReport:
    kind: str
    index: str
    from_database: int
    caught_up: int
    refused: int
    dropped: tuple[str, ...]


def published_rows(kind: str) -> QuerySet:
    """What is public now, with what its snapshot needs fetched in a fixed number of queries."""
    if kind == "expert":
        return Expert.objects.select_related("organization").filter(is_public=True).order_by("pk")
    if kind == "achievement":
        achievements = Achievement.objects.prefetch_related("patents")
        return achievements.select_related("owner").filter(status=ListingStatus.PUBLISHED).order_by("pk")
    model = {"patent": Patent, "demand": Demand}[kind]
    return (
        model._default_manager.select_related("owner").filter(status=ListingStatus.PUBLISHED).order_by("pk")
    )


def _end_offsets(topic: str) -> dict[TopicPartition, int]:
    consumer = KafkaConsumer(bootstrap_servers=settings.KAFKA_BOOTSTRAP_SERVERS, enable_auto_commit=False)
    try:
        partitions = [TopicPartition(topic, number) for number in consumer.partitions_for_topic(topic) or ()]
        return dict(consumer.end_offsets(partitions)) if partitions else {}
    finally:
        consumer.close()


def _records(topic: str, start: dict[TopicPartition, int], timeout: float = 120.0) -> Iterator[Any]:
    """Records of `topic` from `start` up to the end offsets of this moment; `start` moves to those ends."""
    end = _end_offsets(topic)
    todo = {partition: offset for partition, offset in end.items() if offset > start.get(partition, 0)}
    if todo:
        consumer = KafkaConsumer(
            bootstrap_servers=settings.KAFKA_BOOTSTRAP_SERVERS, enable_auto_commit=False, group_id=None
        )
        deadline = time.monotonic() + timeout
        try:
            consumer.assign(list(todo))
            for partition in todo:
                consumer.seek(partition, start.get(partition, 0))
            while todo:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"catching up {topic} took longer than {timeout} s")
                for partition, records in consumer.poll(timeout_ms=500).items():
                    yield from (record for record in records if record.offset < todo.get(partition, 0))
                for partition in list(todo):
                    if consumer.position(partition) >= todo[partition]:
                        del todo[partition]
        finally:
            consumer.close()
    start.update(end)


def _catch_up(
    topic: str, start: dict[TopicPartition, int], index: str, *, through_alias: bool
) -> tuple[int, int]:
    """Apply the topic's events after `start` to `index` (start moves to where it ended)."""
    actions, owners = [], []
    for record in _records(topic, start):
        try:
            event = event_decode(record)
        except PermanentError:
            continue  # the live indexer dead-letters it
        action = listing_event_action(event.event)
        if action is not None:
            actions.append({**action, "_index": index})
            owners.append(event)
    return len(actions), len(bulk_send(actions, owners, require_alias=through_alias))


def reindex(
    kind: str, *, progress: Progress, batch_size: int = 1000, keep_old: bool = False
) -> ReindexReport:
    topic = TOPICS[kind]
    offsets = _end_offsets(topic)
    index = index_name_new(kind)
    index_create(index, refresh_interval="-1")
    rows = published_rows(kind)
    snapshot_class = listing_snapshot_class(kind)
    loaded = refused = 0
    with progress(total=rows.count(), desc=f"{kind} → {index}", unit="doc") as bar:
        batch: list[dict[str, Any]] = []
        for row in rows.iterator(chunk_size=batch_size):
            action = action_build(kind, row.pk, row.version, SEARCHABLE_STATUS, snapshot_class.of(row))
            batch.append({**action, "_index": index})
            if len(batch) >= batch_size:
                refused += len(bulk_send(batch, batch, require_alias=False))
                loaded += len(batch)
                bar.update(len(batch))
                batch = []
        if batch:
            refused += len(bulk_send(batch, batch, require_alias=False))
            loaded += len(batch)
            bar.update(len(batch))
    caught, caught_refused = _catch_up(topic, offsets, index, through_alias=False)
    client().indices.put_settings(index=index, settings={"index": {"refresh_interval": REFRESH_INTERVAL}})
    client().indices.refresh(index=index)
    old = alias_swap(kind, index)
    after, after_refused = _catch_up(topic, offsets, alias_name(kind), through_alias=True)
    if old and not keep_old:
        client().indices.delete(index=",".join(old))
    if refused or caught_refused or after_refused:
        logger.warning(
            "%s: %s documents refused by the engine", kind, refused + caught_refused + after_refused
        )
    return ReindexReport(
        kind=kind,
        index=index,
        from_database=loaded,
        caught_up=caught + after,
        refused=refused + caught_refused + after_refused,
        dropped=tuple(old) if not keep_old else (),
    )
