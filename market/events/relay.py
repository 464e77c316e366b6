"""The outbox relay: moves committed outbox rows to Kafka as CloudEvents (binary mode), oldest first.

A batch is claimed with `FOR UPDATE SKIP LOCKED`, so several relays share the work; a row is skipped while an
older unsent row of the same key is held by another relay, so a key's events never overtake each other. Rows
are marked sent in the claiming transaction only after the broker acknowledged every message (acks=all,
idempotent producer): a crash in between re-sends them (at least once), it never loses them.

An idle relay does not poll fast: it LISTENs on the channel the outbox's insert trigger notifies (migration
events/0002), so a committed event leaves within milliseconds, and polls only as a fallback."""

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import orjson
import psycopg
from cloudevents.v1.http import CloudEvent
from cloudevents.v1.kafka import to_binary
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from kafka import KafkaProducer
from kafka.errors import KafkaError
from prometheus_client import Counter, Gauge
from tenacity import Retrying, retry_if_exception_type, wait_exponential_jitter

from market.events.models import OutboxEvent

logger = logging.getLogger(__name__)

RELAYED = Counter("outbox_relayed_events_total", "Outbox events published to Kafka")
UNSENT = Gauge("outbox_unsent_events", "Outbox rows not yet published")
OLDEST_UNSENT_AGE = Gauge("outbox_oldest_unsent_age_seconds", "Age of the oldest unpublished outbox row")
PURGED = Counter("outbox_purged_events_total", "Delivered outbox rows deleted after the retention period")

_TABLE = OutboxEvent._meta.db_table
#: notified by the outbox's insert trigger, delivered when the inserting transaction commits (events/0002)
NOTIFY_CHANNEL = "market_outbox"
# Oldest unsent rows this relay can lock, minus any whose key has an older unsent row it could not lock
# (another relay holds it): publishing those now would reorder the key.
_CLAIM_SQL = f"""
WITH claimed AS (
    SELECT id, type, topic, key, source, data, created_at
    FROM {_TABLE}
    WHERE sent_at IS NULL
    ORDER BY created_at, id
    LIMIT %s
    FOR UPDATE SKIP LOCKED
)
SELECT claimed.id, claimed.type, claimed.topic, claimed.key, claimed.source, claimed.data, claimed.created_at
FROM claimed
WHERE NOT EXISTS (
    SELECT 1 FROM {_TABLE} older
    WHERE older.sent_at IS NULL AND older.key = claimed.key
      AND (older.created_at, older.id) < (claimed.created_at, claimed.id)
      AND older.id NOT IN (SELECT id FROM claimed)
)
ORDER BY claimed.created_at, claimed.id
"""
_PURGE_SQL = f"""
DELETE FROM {_TABLE} WHERE id IN (
    SELECT id FROM {_TABLE} WHERE sent_at IS NOT NULL AND sent_at < %s LIMIT %s
)
"""


def producer_build(bootstrap_servers: list[str] | str | None = None, **overrides: Any) -> KafkaProducer:
    """An idempotent acks=all producer: the broker de-duplicates its retries and keeps partition order."""
    options: dict[str, Any] = {
        "bootstrap_servers": bootstrap_servers or settings.KAFKA_BOOTSTRAP_SERVERS,
        "acks": "all",
        "enable_idempotence": True,
        "linger_ms": 5,
        "request_timeout_ms": 10_000,
        "max_block_ms": 10_000,
        "client_id": "market-outbox-relay",
    }
    options.update(overrides)
    return KafkaProducer(**options)


def cloudevent_message(row: tuple) -> tuple[str, bytes, bytes, list[tuple[str, bytes]]]:
    """(topic, key, value, headers) of one claimed row, in the CloudEvents Kafka binary mode."""
    event_id, event_type, topic, key, source, data, created_at = row
    event = CloudEvent.create(
        {
            "id": str(event_id),
            "source": source,
            "type": event_type,
            "time": created_at.isoformat(),
            "specversion": "1.0",
            "datacontenttype": "application/json",
            "partitionkey": key,
        },
        data if isinstance(data, dict) else orjson.loads(data),
    )
    # orjson writes UTF-8 (json.dumps escapes each Chinese character to six bytes) and several times faster
    message = to_binary(event, data_marshaller=orjson.dumps)
    return topic, key.encode(), message.value, list(message.headers.items())


class CommitListener:
    """Waits for the commit of a transaction that wrote outbox rows, on a connection of its own."""

    def __init__(self) -> None:
        self._connection: psycopg.Connection | None = None

    def wait(self, timeout: float) -> None:
        """Return on the next notification (and drain the others already queued) or after `timeout`."""
        try:
            if self._connection is None:
                self._connection = connection.get_new_connection(connection.get_connection_params())
                self._connection.autocommit = True
                self._connection.execute(f"LISTEN {NOTIFY_CHANNEL}")
            # each generator runs to its end: it holds the connection's lock until then
            if list(self._connection.notifies(timeout=timeout, stop_after=1)):
                list(self._connection.notifies(timeout=0))  # one claim serves every commit so far
        except psycopg.Error as error:
            logger.warning("outbox listener lost its connection (%s); polling until it is back", error)
            self.close()
            time.sleep(timeout)

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


@dataclass
class OutboxRelay:
    producer_factory: Callable[[], KafkaProducer] = producer_build
    batch_size: int = 500
    send_timeout: float = 15.0
    _producer: KafkaProducer | None = None

    @property
    def producer(self) -> KafkaProducer:
        if self._producer is None:
            self._producer = self.producer_factory()
        return self._producer

    def close(self) -> None:
        if self._producer is not None:
            self._producer.close(timeout=5)
            self._producer = None

    def relay_batch(self) -> int:
        """Publish one batch; returns how many rows were sent (0: nothing to do)."""
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(_CLAIM_SQL, [self.batch_size])
                rows = cursor.fetchall()
            if not rows:
                return 0
            try:
                futures = [
                    self.producer.send(topic, key=key, value=value, headers=headers)
                    for topic, key, value, headers in map(cloudevent_message, rows)
                ]
                self.producer.flush(timeout=self.send_timeout)
                for future in futures:
                    future.get(timeout=self.send_timeout)
            except KafkaError:
                self.close()  # a fresh producer after an outage: no stale connections or sequence state
                raise
            OutboxEvent.objects.filter(id__in=[row[0] for row in rows]).update(sent_at=timezone.now())
        RELAYED.inc(len(rows))
        return len(rows)

    def purge(self, *, retention_seconds: int, batch_size: int = 5000) -> int:
        """Delete delivered rows older than the retention period, in small batches (short locks)."""
        cutoff = timezone.now() - timedelta(seconds=retention_seconds)
        total = 0
        while True:
            with connection.cursor() as cursor:
                cursor.execute(_PURGE_SQL, [cutoff, batch_size])
                deleted = cursor.rowcount
            total += deleted
            if deleted < batch_size:
                break
        PURGED.inc(total)
        return total

    def measure_lag(self) -> tuple[int, float]:
        """(unsent rows, age in seconds of the oldest one), exported as Prometheus gauges."""
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT count(*), min(created_at) FROM {_TABLE} WHERE sent_at IS NULL")
            count, oldest = cursor.fetchone()
        age = (timezone.now() - oldest).total_seconds() if oldest else 0.0
        UNSENT.set(count)
        OLDEST_UNSENT_AGE.set(age)
        return count, age

    def run(
        self,
        *,
        stop: threading.Event,
        idle_sleep: float = 1.0,
        retention_seconds: int = 3600,
        housekeeping_every: float = 5.0,
    ) -> None:
        """Relay until `stop` is set; when idle, wait for the next outbox commit (at most `idle_sleep`,
        which also bounds how long `stop` may wait). While Kafka is unreachable, back off exponentially
        (with jitter, capped) and keep the rows: they go out, in order, once it is back. Every few seconds,
        refresh the lag gauges and purge delivered rows past retention."""
        retrying = Retrying(
            retry=retry_if_exception_type(KafkaError),
            wait=wait_exponential_jitter(multiplier=0.2, max=10, jitter=0.2),
            stop=lambda _state: stop.is_set(),
            before_sleep=lambda state: logger.warning(
                "Kafka unavailable (%s); retrying", state.outcome.exception()
            ),
            reraise=True,
        )
        next_housekeeping = 0.0
        listener = CommitListener()
        try:
            while not stop.is_set():
                sent = retrying(self.relay_batch)
                if time.monotonic() >= next_housekeeping:
                    self.purge(retention_seconds=retention_seconds)
                    self.measure_lag()
                    next_housekeeping = time.monotonic() + housekeeping_every
                if sent < self.batch_size and not stop.is_set():
                    listener.wait(idle_sleep)
        except KafkaError:
            if not stop.is_set():
                raise
        finally:
            listener.close()
            self.close()
