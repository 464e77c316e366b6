"""The outbox relay: moves committed outbox rows to Kafka as CloudEvents (binary mode), in sequence order.

A batch is claimed with `FOR UPDATE SKIP LOCKED`, so several relays share the work; a row is skipped while an
earlier unsent row of the same key is held by another relay, so a key's events never overtake each other. Rows
are marked sent in the claiming transaction only after the broker acknowledged every message (acks=all,
idempotent producer): a crash in between re-sends them (at least once), it never loses them.

A row the relay cannot send for a reason of its own (too large for the broker, not encodable: a per-record
error that no retry cures) is set aside with its reason (`set_aside_at`, `set_aside_reason`), logged and
counted (`outbox_set_aside_events` gauge, an alert), and the other rows flow. Later rows of the same key are
held behind it, so a key's events still never overtake each other; they go out once an operator retries the
set-aside row (`manage.py outbox_set_aside retry`, e.g. after raising the broker's limit) or discards it
(`... discard`). Keep the producer's `max_request_size` at or below the broker's `message.max.bytes`: then a
too-large row is caught before anything of its batch is sent. Anything else (Kafka unreachable, the database
failing) is transient: back off and retry, rows kept.

Order: rows are read by `sequence`, a number PostgreSQL takes from one database sequence at insert (not
`created_at`, the clock of whichever web process wrote the row). Numbers are taken at insert but become
visible at commit, so across keys a row may be relayed before a lower-numbered one whose transaction commits
later. What holds is per-key order, which is all consumers need (Kafka orders only within a partition, and a
key maps to one partition): every write of an aggregate re-reads it under a row lock held until commit, and
publishes its events after taking the lock, so the next writer of that aggregate takes its numbers only once
the previous one committed; within a key, sequence order is commit order, and the relay never sees a gap it
would have to wait for.

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
from django.conf import settings
from django.db import InterfaceError, OperationalError, connection, transaction
from django.db.models import QuerySet
from django.utils import timezone
from kafka import KafkaProducer
from kafka.errors import (
    InvalidRecordError,
    InvalidTopicError,
    KafkaError,
    MessageSizeTooLargeError,
    RecordListTooLargeError,
)
from kafka.producer.future import FutureRecordMetadata
from prometheus_client import Counter, Gauge
from tenacity import Retrying, retry_if_exception_type, wait_exponential_jitter

from market.events.models import OutboxEvent

logger = logging.getLogger(__name__)

RELAYED = Counter("outbox_relayed_events_total", "Outbox events published to Kafka")
UNSENT = Gauge("outbox_unsent_events", "Outbox rows not yet published")
OLDEST_UNSENT_AGE = Gauge("outbox_oldest_unsent_age_seconds", "Age of the oldest unpublished outbox row")
PURGED = Counter("outbox_purged_events_total", "Delivered outbox rows deleted after the retention period")
SET_ASIDE = Gauge("outbox_set_aside_events", "Outbox rows the relay set aside (cannot send); alert when > 0")
SET_ASIDE_TOTAL = Counter("outbox_events_set_aside_total", "Outbox rows the relay set aside, ever")

#: errors of one record that no retry cures (the broker's answer for this record, or the client's own check)
RECORD_ERRORS: tuple[type[KafkaError], ...] = (
    MessageSizeTooLargeError,
    RecordListTooLargeError,
    InvalidRecordError,
    InvalidTopicError,
)
#: errors that pass: back off and retry, rows kept
TRANSIENT_ERRORS: tuple[type[Exception], ...] = (KafkaError, OperationalError, InterfaceError)

_TABLE = OutboxEvent._meta.db_table
#: notified by the outbox's insert trigger, delivered when the inserting transaction commits (events/0002)
NOTIFY_CHANNEL = "market_outbox"
# First unsent rows (by sequence) this relay can lock, except set-aside rows and the rows held behind them (an
# earlier row of their key is set aside), minus any whose key has an earlier unsent row it could not lock
# (another relay holds it): publishing those now would reorder the key. The payload comes as text, which
# orjson parses several times faster than the driver's json.loads; the time comes as the text Python's
# `isoformat()` writes for it in UTC (the CloudEvents `time` as it was always sent), because the driver's
# timestamp parsing, a regular expression per row under Django's time-zone-aware loader, was a seventh of the
# relay's time.
_CLAIM_SQL = f"""
WITH claimed AS (
    SELECT id, type, topic, key, source, data, created_at, sequence
    FROM {_TABLE} candidate
    WHERE sent_at IS NULL AND set_aside_at IS NULL
      AND NOT EXISTS (
        SELECT 1 FROM {_TABLE} aside
        WHERE aside.set_aside_at IS NOT NULL AND aside.sent_at IS NULL AND aside.key = candidate.key
          AND aside.sequence < candidate.sequence
      )
    ORDER BY sequence
    LIMIT %s
    FOR UPDATE SKIP LOCKED
)
SELECT claimed.id, claimed.type, claimed.topic, claimed.key, claimed.source, claimed.data::text,
    to_char(claimed.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS')
    || CASE WHEN date_part('microseconds', claimed.created_at)::int %% 1000000 = 0 THEN ''
       ELSE to_char(claimed.created_at AT TIME ZONE 'UTC', '.US') END
    || '+00:00'
FROM claimed
WHERE NOT EXISTS (
    SELECT 1 FROM {_TABLE} older
    WHERE older.sent_at IS NULL AND older.key = claimed.key
      AND older.sequence < claimed.sequence
      AND older.id NOT IN (SELECT id FROM claimed)
)
ORDER BY claimed.sequence
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
    """(topic, key, value, headers) of one claimed row, in the CloudEvents Kafka binary mode: the headers the
    SDK's `to_binary` writes, in its order (a test holds them equal), built directly since this runs once per
    event on the relay's hot path, where the SDK's event object cost about a tenth of the relay's time."""
    event_id, event_type, topic, key, source, data, created_at = row
    time_text = created_at if isinstance(created_at, str) else created_at.isoformat()
    headers = [
        ("content-type", b"application/json"),
        ("ce_id", str(event_id).encode()),
        ("ce_source", source.encode()),
        ("ce_type", event_type.encode()),
        ("ce_time", time_text.encode()),
        ("ce_specversion", b"1.0"),
    ]
    # orjson writes UTF-8 (json.dumps escapes each Chinese character to six bytes) and several times faster
    value = orjson.dumps(data if isinstance(data, dict) else orjson.loads(data))
    return topic, key.encode(), value, headers


def _reason(error: Exception) -> str:
    return f"{type(error).__name__}: {error}"[:2000]


def _before_retry(state: Any) -> None:
    error = state.outcome.exception()
    logger.warning(
        "relay: %s unavailable (%s); retrying",
        "database" if isinstance(error, OperationalError | InterfaceError) else "Kafka",
        error,
    )
    if isinstance(error, OperationalError | InterfaceError):
        connection.close()  # a broken connection is replaced on the next try


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
        """Publish one batch; returns how many rows were claimed (0: nothing to do). Rows that cannot be sent
        are set aside (with their reason) in the same transaction that marks the others sent, which commits
        only after the broker acknowledged them."""
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(_CLAIM_SQL, [self.batch_size])
                rows = cursor.fetchall()
            if not rows:
                return 0
            try:
                sent, set_aside = self._publish(rows)
            except KafkaError:
                self.close()  # a fresh producer after an outage: no stale connections or sequence state
                raise
            now = timezone.now()
            for event_id, reason in set_aside.items():
                OutboxEvent.objects.filter(id=event_id).update(
                    sent_at=None, set_aside_at=now, set_aside_reason=reason
                )
        RELAYED.inc(len(sent))
        if set_aside:
            SET_ASIDE_TOTAL.inc(len(set_aside))
            for event_id, reason in set_aside.items():
                logger.error("outbox event %s set aside (later events of its key wait): %s", event_id, reason)
        return len(rows)

    def _publish(self, rows: list[tuple]) -> tuple[list[Any], dict[Any, str]]:
        """Send the rows; returns (ids acknowledged, {id: reason} of rows set aside). A set-aside row's key
        is blocked for the rest of the batch (its later rows stay unsent, held); transient errors raise.
        The rows sent are marked sent while the broker acknowledges them (the database round trip overlaps the
        wait; the claiming transaction, not yet committed, is undone on an error)."""
        in_flight: list[tuple[tuple, FutureRecordMetadata]] = []
        set_aside: dict[Any, str] = {}
        blocked: set[str] = set()
        for row in rows:
            event_id, key = row[0], row[3]
            if key in blocked:
                continue
            try:
                topic, key_bytes, value, headers = cloudevent_message(row)
                future = self.producer.send(topic, key=key_bytes, value=value, headers=headers)
                if future.is_done and future.failed():
                    raise future.exception
            except Exception as error:
                if isinstance(error, TRANSIENT_ERRORS) and not isinstance(error, RECORD_ERRORS):
                    raise
                set_aside[event_id] = _reason(error)
                blocked.add(key)
                continue
            in_flight.append((row, future))
        OutboxEvent.objects.filter(id__in=[row[0] for row, _future in in_flight]).update(
            sent_at=timezone.now()
        )
        self.producer.flush(timeout=self.send_timeout)
        sent = []
        for row, future in in_flight:
            try:
                future.get(timeout=self.send_timeout)
            except RECORD_ERRORS as error:  # refused by the broker itself
                set_aside[row[0]] = _reason(error)
                continue
            sent.append(row[0])
        return sent, set_aside

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
        """(unsent rows, age in seconds of the oldest one), exported as Prometheus gauges with the number of
        set-aside rows (those are not lag: nothing will send them until an operator acts)."""
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT count(*), min(created_at) FROM {_TABLE} "
                "WHERE sent_at IS NULL AND set_aside_at IS NULL"
            )
            count, oldest = cursor.fetchone()
        age = (timezone.now() - oldest).total_seconds() if oldest else 0.0
        UNSENT.set(count)
        OLDEST_UNSENT_AGE.set(age)
        SET_ASIDE.set(set_aside_rows().count())
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
        which also bounds how long `stop` may wait). While Kafka (or the database) is unreachable, back off
        exponentially (with jitter, capped) and keep the rows: they go out, in order, once it is back. Every
        few seconds, refresh the lag gauges and purge delivered rows past retention."""
        retrying = Retrying(
            retry=retry_if_exception_type(TRANSIENT_ERRORS),
            wait=wait_exponential_jitter(multiplier=0.2, max=10, jitter=0.2),
            stop=lambda _state: stop.is_set(),
            before_sleep=_before_retry,
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
        except TRANSIENT_ERRORS:
            if not stop.is_set():
                raise
        finally:
            listener.close()
            self.close()


def set_aside_rows(ids: list[str] | None = None) -> QuerySet[OutboxEvent]:
    """The rows the relay set aside and nobody has retried or discarded yet (those of `ids`, or all)."""
    rows = OutboxEvent.objects.filter(set_aside_at__isnull=False, sent_at__isnull=True)
    return rows.filter(id__in=ids) if ids is not None else rows


def outbox_set_aside_retry(*, ids: list[str] | None) -> int:
    """Give set-aside rows (all when `ids` is None) back to the relay, e.g. after the broker's limit was
    raised; one that still cannot be sent is set aside again."""
    with transaction.atomic():
        return set_aside_rows(ids).update(set_aside_at=None, set_aside_reason="")


def outbox_set_aside_discard(*, ids: list[str]) -> int:
    """Give up on set-aside rows for good: marked sent without being sent (their reason stays), which releases
    the later rows of their keys. The reconciler leaves them alone."""
    with transaction.atomic():
        return set_aside_rows(ids).update(sent_at=timezone.now())
