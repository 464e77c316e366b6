"""A consumer as a small pipeline: decode → validate → de-duplicate → handle → commit.

- decode: CloudEvents binary mode through the `cloudevents` SDK; JSON data.
- validate: the type must be one the core publishes and `data` must match its current JSON Schema.
- de-duplicate: the handler runs in one database transaction with the inbox row of its `ce_id`, so a
  redelivered message has no second effect.
- failures: a message that can never succeed (undecodable, unknown type, schema violation, `PermanentError`
  from the handler) goes to `<topic>.dlq` with its original topic, partition, offset and the error in headers,
  and the consumer moves on. Anything else is transient: retried with capped exponential backoff; after too
  many failed attempts in a row the runner stops with exit code 1 (offsets uncommitted) so the orchestrator
  restarts it.
- commit: offsets are committed manually, only for messages whose work is durable.
- liveness: a health file is touched on every loop; metrics count outcomes per consumer.
- batch mode (a spec with `handle_batch`): all records of one poll go to the handler at once, with no inbox
  rows, so the handler must be idempotent by itself (e.g. external versions in Elasticsearch). The next poll
  overlaps the handling of the current batch; a batch's offsets are committed only after its handler
  succeeded, and batches are handled strictly in order."""

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

import orjson
from cloudevents.v1.exceptions import GenericException as CloudEventError
from cloudevents.v1.kafka import KafkaMessage, from_binary
from django.conf import settings
from django.db import close_old_connections, transaction
from jsonschema_rs import Draft202012Validator
from kafka import KafkaConsumer, KafkaProducer
from kafka.consumer.fetcher import ConsumerRecord
from kafka.errors import CommitFailedError, KafkaError
from kafka.structs import OffsetAndMetadata, TopicPartition
from prometheus_client import Counter
from tenacity import Retrying, wait_exponential_jitter

from market.events.catalogue import EVENT_TYPES
from market.events.schemas import payload_schema
from services.common.models import HandledMessage

logger = logging.getLogger(__name__)

MESSAGES = Counter(
    "consumer_messages_total", "Messages seen by a consumer, by outcome", ["consumer", "outcome"]
)
DLQ_SUFFIX = ".dlq"
#: batch mode: how long a poll may block while a batch is being handled (bounds the delay of its commit)
IN_FLIGHT_POLL_MS = 20


class PermanentError(Exception):
    """Raised by a handler for a message that will never succeed, however often it is retried."""


@dataclass(frozen=True)
class ReceivedEvent:
    """A decoded, validated market event and where it came from."""

    id: str
    type: str
    source: str
    time: datetime | None
    key: str | None
    data: dict[str, Any]
    topic: str
    partition: int
    offset: int


Handler = Callable[[ReceivedEvent], None]
#: handles a whole poll; returns the events it refuses for good (with why), which go to the dead-letter topic
BatchHandler = Callable[[list[ReceivedEvent]], list[tuple[ReceivedEvent, Exception]]]


@dataclass(frozen=True)
class ConsumerSpec:
    """What a worker is: a name (its consumer group and inbox namespace), the topics it reads, its handler."""

    name: str
    topics: tuple[str, ...]
    handle: Handler
    handle_batch: BatchHandler | None = None
    #: records per poll in batch mode (bigger batches mean fewer, larger bulk requests)
    max_poll_records: int | None = None


@cache
def _validator(event_type: str) -> Draft202012Validator:
    """Compiled once per type; the Rust validator (jsonschema-rs) is what keeps per-message validation
    from dominating a consumer's time (the pure-Python one cost more than the indexer's own work)."""
    return Draft202012Validator(payload_schema(event_type))


def event_decode(record: ConsumerRecord) -> ReceivedEvent:
    """Decode and validate one record; raises PermanentError when that can never succeed."""
    headers = {name: value for name, value in (record.headers or []) if value is not None}
    try:
        event = from_binary(KafkaMessage(headers, record.key, record.value), data_unmarshaller=orjson.loads)
    except (CloudEventError, ValueError, UnicodeDecodeError) as error:
        raise PermanentError(f"undecodable CloudEvent: {error}") from error
    event_type = event["type"]
    if event_type not in EVENT_TYPES:
        raise PermanentError(f"unknown event type {event_type!r}")
    data = event.get_data()
    errors = sorted(
        _validator(event_type).iter_errors(data),
        key=lambda error: [str(part) for part in error.instance_path],
    )
    if errors:
        raise PermanentError(f"{event_type} payload fails its schema: {errors[0].message}")
    raw_time = event.get("time")
    return ReceivedEvent(
        id=event["id"],
        type=event_type,
        source=event["source"],
        time=datetime.fromisoformat(raw_time) if raw_time else None,
        key=record.key.decode() if isinstance(record.key, bytes) else record.key,
        data=data,
        topic=record.topic,
        partition=record.partition,
        offset=record.offset,
    )


@dataclass
class ConsumerRunner:
    spec: ConsumerSpec
    bootstrap_servers: list[str] | str = field(default_factory=lambda: settings.KAFKA_BOOTSTRAP_SERVERS)
    max_consecutive_failures: int = field(default_factory=lambda: settings.CONSUMER_MAX_CONSECUTIVE_FAILURES)
    health_file: Path | None = None
    #: static group membership (KIP-345): a restarted container with the same id (e.g. the pod name) takes its
    #: partitions back at once instead of waiting for the dead member's session to expire
    instance_id: str | None = field(default_factory=lambda: settings.CONSUMER_INSTANCE_ID)
    poll_timeout_ms: int = 500
    max_poll_records: int = 200
    retry_wait: Callable[..., float] = field(
        default_factory=lambda: wait_exponential_jitter(multiplier=0.1, max=5, jitter=0.1)
    )
    consecutive_failures: int = 0
    #: extra KafkaConsumer settings (e.g. `receive_message_max_bytes` for a broker that ignores fetch limits)
    consumer_options: dict[str, Any] = field(default_factory=dict)
    _consumer: KafkaConsumer | None = None
    _producer: KafkaProducer | None = None

    def __post_init__(self) -> None:
        if self.health_file is None:
            self.health_file = Path(settings.CONSUMER_HEALTH_DIR) / f"consumer-{self.spec.name}.alive"

    @property
    def assignment(self) -> set[TopicPartition]:
        """The partitions this runner holds now: empty until it has joined its group (readiness)."""
        return set(self._consumer.assignment()) if self._consumer is not None else set()

    @property
    def group_id(self) -> str:
        return f"market.{self.spec.name}"

    def _consumer_build(self) -> KafkaConsumer:
        consumer = KafkaConsumer(
            bootstrap_servers=self.bootstrap_servers,
            group_id=self.group_id,
            client_id=self.group_id,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            max_poll_records=self.spec.max_poll_records or self.max_poll_records,
            session_timeout_ms=10_000,
            group_instance_id=self.instance_id,
            heartbeat_interval_ms=3_000,
            **self.consumer_options,
        )
        consumer.subscribe(list(self.spec.topics))
        return consumer

    @property
    def producer(self) -> KafkaProducer:
        if self._producer is None:
            self._producer = KafkaProducer(
                bootstrap_servers=self.bootstrap_servers,
                acks="all",
                enable_idempotence=True,
                client_id=f"{self.group_id}.dlq",
            )
        return self._producer

    def _dead_letter(self, record: ConsumerRecord, error: Exception) -> None:
        headers = [(name, value) for name, value in (record.headers or []) if not name.startswith("dlq_")]
        headers += [
            ("dlq_original_topic", record.topic.encode()),
            ("dlq_original_partition", str(record.partition).encode()),
            ("dlq_original_offset", str(record.offset).encode()),
            ("dlq_consumer", self.spec.name.encode()),
            ("dlq_error", str(error)[:2000].encode()),
        ]
        future = self.producer.send(
            record.topic + DLQ_SUFFIX, key=record.key, value=record.value, headers=headers
        )
        future.get(timeout=30)
        logger.warning("dead-lettered %s[%s]@%s: %s", record.topic, record.partition, record.offset, error)

    def _handle_once(self, event: ReceivedEvent) -> bool:
        """Run the handler with the inbox row in one transaction; False when it was already handled."""
        with transaction.atomic():
            _row, created = HandledMessage.objects.get_or_create(
                consumer=self.spec.name, event_id=event.id, defaults={"event_type": event.type}
            )
            if created:
                self.spec.handle(event)
        return created

    def _attempt(self, record: ConsumerRecord) -> str:
        """One try at making a record durable: handled, duplicate or dead-lettered (the outcome's name)."""
        try:
            event = event_decode(record)
            return "handled" if self._handle_once(event) else "duplicate"
        except PermanentError as error:
            self._dead_letter(record, error)
            return "dead_lettered"

    def _until_durable(self, attempt: Callable[[], dict[str, int]], what: str, stop: threading.Event) -> bool:
        """Repeat `attempt` (on `what`, for the log) with backoff until it succeeds, then count its outcomes.
        False when the runner must stop first: SIGTERM during a backoff, or too many consecutive failures."""

        def counted() -> dict[str, int]:
            try:
                return attempt()
            except Exception:
                self.consecutive_failures += 1
                MESSAGES.labels(self.spec.name, "failed").inc()
                logger.exception(
                    "%s failed on %s (%s failures in a row)", self.spec.name, what, self.consecutive_failures
                )
                close_old_connections()  # a broken database connection is replaced on the next try
                raise

        retrying = Retrying(
            wait=self.retry_wait,
            stop=lambda _state: stop.is_set() or self.consecutive_failures >= self.max_consecutive_failures,
            sleep=stop.wait,
            reraise=True,
        )
        try:
            outcomes = retrying(counted)
        except Exception:
            return False
        self.consecutive_failures = 0
        for outcome, count in outcomes.items():
            if count:
                MESSAGES.labels(self.spec.name, outcome).inc(count)
        return True

    def process(self, record: ConsumerRecord, stop: threading.Event) -> bool:
        """Retry one record until it is durable (see `_until_durable`)."""
        where = f"{record.topic}[{record.partition}]@{record.offset}"
        return self._until_durable(lambda: {self._attempt(record): 1}, where, stop)

    def _attempt_batch(self, records: list[ConsumerRecord]) -> dict[str, int]:
        """One try at a whole batch: decode, hand the valid events over, dead-letter what can never succeed.
        Repeating it after a failure is safe because batch handlers are idempotent."""
        rejected: list[tuple[ConsumerRecord, Exception]] = []
        events: list[ReceivedEvent] = []
        by_position: dict[tuple[str, int, int], ConsumerRecord] = {}
        for record in records:
            try:
                events.append(event_decode(record))
                by_position[(record.topic, record.partition, record.offset)] = record
            except PermanentError as error:
                rejected.append((record, error))
        refused = self.spec.handle_batch(events) if events else []  # type: ignore[misc]
        rejected += [
            (by_position[(event.topic, event.partition, event.offset)], error) for event, error in refused
        ]
        for record, error in rejected:
            self._dead_letter(record, error)
        return {"handled": len(events) - len(refused), "dead_lettered": len(rejected)}

    def process_batch(self, records: list[ConsumerRecord], stop: threading.Event) -> bool:
        """Retry one batch until it is durable (see `_until_durable`)."""
        return self._until_durable(
            lambda: self._attempt_batch(records), f"a batch of {len(records)} records", stop
        )

    def _run_batches(self, stop: threading.Event) -> int:
        """Batch mode: poll batch N+1 while a worker thread handles batch N; commit N's offsets as soon as
        its handler succeeded, then hand N+1 over. At most one batch is in flight, so order is kept. While
        a batch is in flight and nothing new has come, polls are short, so its commit does not wait out a
        long poll."""
        self._consumer = self._consumer_build()
        healthy = True
        in_flight: tuple[Future[bool], dict[TopicPartition, OffsetAndMetadata]] | None = None
        polled: dict[TopicPartition, list[ConsumerRecord]] = {}
        worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"consumer-{self.spec.name}")
        try:
            while healthy and not stop.is_set():
                self.health_file.touch()  # type: ignore[union-attr]
                if not polled:
                    timeout = self.poll_timeout_ms if in_flight is None else IN_FLIGHT_POLL_MS
                    polled = self._consumer.poll(timeout_ms=timeout)
                if in_flight is not None and (polled or in_flight[0].done()):
                    healthy = in_flight[0].result()
                    if healthy:
                        self._commit(in_flight[1])
                    in_flight = None
                if healthy and in_flight is None and polled and not stop.is_set():
                    offsets = {
                        partition: OffsetAndMetadata(records[-1].offset + 1, "", -1)
                        for partition, records in polled.items()
                    }
                    records = [record for batch in polled.values() for record in batch]
                    in_flight = (worker.submit(self.process_batch, records, stop), offsets)
                    polled = {}
            if in_flight is not None and in_flight[0].result():
                self._commit(in_flight[1])
        finally:
            worker.shutdown(wait=True)
            self.close()
        if healthy or stop.is_set():
            return 0
        logger.error("%s stopping after %s consecutive failures", self.spec.name, self.consecutive_failures)
        return 1

    def run(self, stop: threading.Event) -> int:
        """Consume until `stop` is set (exit code 0) or failures pile up (exit code 1). Offsets are committed
        after each polled batch, for the records that were made durable."""
        if self.spec.handle_batch is not None:
            return self._run_batches(stop)
        self._consumer = self._consumer_build()
        healthy = True
        try:
            while healthy and not stop.is_set():
                self.health_file.touch()  # type: ignore[union-attr]
                done: dict[TopicPartition, OffsetAndMetadata] = {}
                for partition, records in self._consumer.poll(timeout_ms=self.poll_timeout_ms).items():
                    for record in records:
                        healthy = not stop.is_set() and self.process(record, stop)
                        if not healthy:
                            break
                        done[partition] = OffsetAndMetadata(record.offset + 1, "", -1)
                    if not healthy:
                        break
                if done:
                    self._commit(done)
        finally:
            self.close()
        if healthy or stop.is_set():
            return 0
        logger.error("%s stopping after %s consecutive failures", self.spec.name, self.consecutive_failures)
        return 1

    def _commit(self, offsets: dict[TopicPartition, OffsetAndMetadata]) -> None:
        """Commit, or leave it to redelivery: after a rebalance or a broker restart the group generation
        changed, the partitions are re-read from the last commit, and the inbox makes repeats harmless."""
        try:
            self._consumer.commit(offsets)  # type: ignore[union-attr]
        except (CommitFailedError, KafkaError) as error:
            logger.warning("%s: offsets not committed (%r); they will be redelivered", self.spec.name, error)

    def close(self) -> None:
        if self._consumer is not None:
            self._consumer.close(autocommit=False)
            self._consumer = None
        if self._producer is not None:
            self._producer.close(timeout=5)
            self._producer = None


def wait_until(predicate: Callable[[], bool], timeout: float, interval: float = 0.05) -> bool:
    """Poll `predicate` until true or `timeout` seconds pass (used by commands and tests)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()
