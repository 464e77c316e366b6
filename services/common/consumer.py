"""A consumer as a small pipeline: decode → validate → de-duplicate → handle → commit.

- decode: CloudEvents binary mode through the `cloudevents` SDK; JSON data.
- validate: the type must be one the core publishes and `data` must match its current JSON Schema.
- de-duplicate: the handler runs in one database transaction with the inbox row of its `ce_id`, so a
  redelivered message has no second effect.
- failures, in two kinds (in the manner of arroyo's MessageRejected / InvalidMessage):
  - a dependency failing (the database, Kafka, the network, whatever a spec adds as `transient_errors`, e.g.
    the search engine): wait and retry with capped exponential backoff, for as long as it takes, never
    dead-letter. The process does not exit however long the outage lasts: a restart would not bring the
    dependency back, and a crash-looping worker hides the cause. It keeps its health file fresh (it is alive,
    waiting) and shows the outage in `consumer_dependency_wait_seconds`, which is what alerts should watch.
  - the record failing: one that can never succeed (undecodable, unknown type, schema violation,
    `PermanentError` from the handler) at once, any other handler error after `CONSUMER_MAX_RECORD_ATTEMPTS`
    attempts of that same record, goes to `<topic>.dlq` with its original topic, partition, offset and the
    error in headers, and the consumer moves on to the next record.
- commit: offsets are committed manually, only for messages whose work is durable, with the event id of the
  last record as the commit's metadata. On each new assignment the runner checks that the log still holds that
  event just below the committed offset: a broker that lost acknowledged records gives their offsets to new
  events, and resuming at the old committed offset would skip those silently. When the log was rewritten,
  the partition is read again from its beginning (handlers are idempotent). Lost records themselves are
  found by the reconciler (services.audit.reconcile).
- liveness: a health file is touched on every loop; metrics count outcomes per consumer.
- batch mode (a spec with `handle_batch`): all records of one poll go to the handler at once, with no inbox
  rows, so the handler must be idempotent by itself (e.g. external versions in Elasticsearch). The next poll
  overlaps the handling of the current batch; a batch's offsets are committed only after its handler
  succeeded, and batches are handled strictly in order. A batch the handler keeps failing on is not
  dead-lettered whole: it is retried once, then split in halves (each settled in order, recursively), so
  only the poison record(s) reach the dead-letter topic.
- idle back-off (`CONSUMER_IDLE_BACKOFF_MS`, 0 = off): after empty polls the runner sleeps (10 ms, doubling up
  to the setting) before fetching again, interruptibly. A broker that answers empty fetches at once (the local
  stand-in) otherwise costs a third of a core per idle consumer; the added latency is at most the setting."""

import logging
import random
import threading
import time
from collections import Counter as Outcomes
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache, partial
from pathlib import Path
from typing import Any

import orjson
from cloudevents.v1.exceptions import GenericException as CloudEventError
from cloudevents.v1.kafka import KafkaMessage, from_binary
from django.conf import settings
from django.db import InterfaceError, OperationalError, close_old_connections, transaction
from jsonschema_rs import Draft202012Validator
from kafka import KafkaConsumer, KafkaProducer
from kafka.consumer.fetcher import ConsumerRecord
from kafka.errors import CommitFailedError, KafkaError
from kafka.structs import OffsetAndMetadata, TopicPartition
from prometheus_client import Counter, Gauge

from market.events.catalogue import EVENT_TYPES, Event
from market.events.decoding import UndecodableEvent, event_of
from market.events.schemas import payload_schema
from services.common.models import HandledMessage

logger = logging.getLogger(__name__)

MESSAGES = Counter(
    "consumer_messages_total", "Messages seen by a consumer, by outcome", ["consumer", "outcome"]
)
REWINDS = Counter(
    "consumer_rewinds_total",
    "Partitions read again from the beginning because the log under the committed offset was rewritten",
    ["consumer"],
)
DEPENDENCY_WAIT = Gauge(
    "consumer_dependency_wait_seconds",
    "How long a consumer has been waiting for a failing dependency (0: none is failing)",
    ["consumer"],
)
DLQ_SUFFIX = ".dlq"
#: batch mode: how long a poll may block while a batch is being handled (bounds the delay of its commit)
IN_FLIGHT_POLL_MS = 20
#: idle back-off: the first wait after an empty poll, and how long each poll while idle may block (not at all:
#: it takes what the client's network thread fetched during the wait, and sends the next fetch)
IDLE_FIRST_WAIT_MS = 10
IDLE_POLL_MS = 0
#: how often a waiting consumer touches its health file (the liveness probe must see it alive)
HEALTH_TOUCH_SECONDS = 1.0
#: batch mode: attempts of a whole batch (or a part of it) before it is split in halves
BATCH_ATTEMPTS = 2
#: failures of a dependency, not of the record (TimeoutError and ConnectionError are OSErrors)
INFRASTRUCTURE_ERRORS: tuple[type[BaseException], ...] = (
    OperationalError,
    InterfaceError,
    KafkaError,
    OSError,
)


class PermanentError(Exception):
    """Raised by a handler for a message that will never succeed, however often it is retried."""


@dataclass(frozen=True)
class ReceivedEvent:
    """A decoded, validated market event and where it came from. Handlers dispatch on `event`, the payload
    as its catalogue class; `data` is the payload as received (with any fields a newer producer added)."""

    id: str
    type: str
    source: str
    time: datetime | None
    key: str | None
    data: dict[str, Any]
    event: Event
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
    #: errors of this consumer's own dependencies (e.g. the search engine unreachable), waited out like
    #: INFRASTRUCTURE_ERRORS instead of counting against the record
    transient_errors: tuple[type[BaseException], ...] = ()


def backoff_seconds(attempt: int, *, base: float = 0.1, cap: float = 5.0) -> float:
    """Capped exponential backoff with 10 % jitter (so restarted replicas do not retry in step)."""
    return min(cap, base * 2 ** max(attempt - 1, 0)) * random.uniform(1.0, 1.1)


def _event_id(record: ConsumerRecord) -> str:
    return next(
        (value.decode(errors="replace") for name, value in record.headers or [] if name == "ce_id"), ""
    )


def _position_after(record: ConsumerRecord) -> OffsetAndMetadata:
    """The offset to commit once `record` is durable, with the record's event id as the commit's metadata: the
    fingerprint that tells, on the next assignment, whether the log under the offset is still the same."""
    return OffsetAndMetadata(record.offset + 1, _event_id(record), -1)


def _log_rewritten(probe: KafkaConsumer, partition: TopicPartition, committed: OffsetAndMetadata) -> bool:
    """Is the record before the committed offset gone past the log end, or another event than the one the
    commit recorded (its metadata)? Below the log start it was removed by retention: nothing to compare."""
    last = committed.offset - 1
    probe.assign([partition])
    if last >= probe.end_offsets([partition])[partition]:
        return True
    if last < probe.beginning_offsets([partition])[partition]:
        return False
    probe.seek(partition, last)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        for record in probe.poll(timeout_ms=500).get(partition, []):
            return _event_id(record) != committed.metadata
    return False  # unreadable now: keep the committed position


def _error_text(error: Exception) -> str:
    """What a dead letter says went wrong: an unexpected handler error keeps its type (a clue to the bug)."""
    return str(error) if isinstance(error, PermanentError) else f"{type(error).__name__}: {error}"


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
    if not isinstance(data, dict):  # every stored schema describes an object; this keeps the type honest
        raise PermanentError(f"{event_type} payload is not a JSON object")
    try:
        typed = event_of(event_type, data)
    except UndecodableEvent as error:
        raise PermanentError(str(error)) from error
    raw_time = event.get("time")
    return ReceivedEvent(
        id=event["id"],
        type=event_type,
        source=event["source"],
        time=datetime.fromisoformat(raw_time) if raw_time else None,
        key=record.key.decode() if isinstance(record.key, bytes) else record.key,
        data=data,
        event=typed,
        topic=record.topic,
        partition=record.partition,
        offset=record.offset,
    )


@dataclass
class ConsumerRunner:
    spec: ConsumerSpec
    bootstrap_servers: list[str] | str = field(default_factory=lambda: settings.KAFKA_BOOTSTRAP_SERVERS)
    #: handler failures of one record before it is dead-lettered
    max_record_attempts: int = field(default_factory=lambda: settings.CONSUMER_MAX_RECORD_ATTEMPTS)
    #: longest wait after empty polls, in ms (0: poll again at once)
    idle_backoff_ms: int = field(default_factory=lambda: settings.CONSUMER_IDLE_BACKOFF_MS)
    health_file: Path | None = None
    #: static group membership (KIP-345): a restarted container with the same id (e.g. the pod name) takes its
    #: partitions back at once instead of waiting for the dead member's session to expire
    instance_id: str | None = field(default_factory=lambda: settings.CONSUMER_INSTANCE_ID)
    poll_timeout_ms: int = 500
    max_poll_records: int = 200
    #: seconds to wait before the next try, given the number of failures so far
    retry_wait: Callable[[int], float] = backoff_seconds
    #: extra KafkaConsumer settings (e.g. `receive_message_max_bytes` for a broker that ignores fetch limits)
    consumer_options: dict[str, Any] = field(default_factory=dict)
    _consumer: KafkaConsumer | None = None
    _producer: KafkaProducer | None = None
    _idle_wait_ms: int = 0
    #: assigned partitions whose committed position was checked against the log (see `_log_rewritten`)
    _checked: set[TopicPartition] = field(default_factory=set)

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
            ("dlq_error", _error_text(error)[:2000].encode()),
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

    def _attempt(self, records: list[ConsumerRecord]) -> Outcomes:
        """One try at making a single record durable: handled, duplicate or dead-lettered."""
        (record,) = records
        try:
            event = event_decode(record)
            return Outcomes({"handled" if self._handle_once(event) else "duplicate": 1})
        except PermanentError as error:
            self._dead_letter(record, error)
            return Outcomes({"dead_lettered": 1})

    def _dead_letter_outcome(self, error: Exception, records: list[ConsumerRecord]) -> Outcomes:
        self._dead_letter(records[0], error)
        return Outcomes({"dead_lettered": 1})

    def infrastructure_failure(self, error: BaseException) -> bool:
        """A dependency failed, not the record: the error, or one it was raised from, is a transient type."""
        transient = INFRASTRUCTURE_ERRORS + self.spec.transient_errors
        cause: BaseException | None = error
        while cause is not None:
            if isinstance(cause, transient):
                return True
            cause = cause.__cause__
        return False

    def _pause(self, seconds: float, stop: threading.Event) -> None:
        """Wait (interruptibly), keeping the health file fresh: a waiting consumer is alive."""
        deadline = time.monotonic() + seconds
        while not stop.is_set() and (left := deadline - time.monotonic()) > 0:
            self.health_file.touch()  # type: ignore[union-attr]
            stop.wait(min(left, HEALTH_TOUCH_SECONDS))

    def _settle(
        self,
        records: list[ConsumerRecord],
        attempt: Callable[[list[ConsumerRecord]], Outcomes],
        what: str,
        stop: threading.Event,
    ) -> Outcomes | None:
        """Repeat `attempt` on `records` until they are durable; None when `stop` came first.

        A dependency failing is waited out (capped backoff, unbounded). A handler failure counts against the
        records: a single record is dead-lettered with the error after `max_record_attempts`; a batch is
        retried BATCH_ATTEMPTS times, then split in halves that are settled in order, down to the record."""
        failures = 0
        outage_started: float | None = None
        outage_failures = 0
        limit = (
            self.max_record_attempts if len(records) == 1 else min(BATCH_ATTEMPTS, self.max_record_attempts)
        )
        try:
            while not stop.is_set():
                try:
                    return attempt(records)
                except Exception as error:
                    close_old_connections()  # a broken database connection is replaced on the next try
                    MESSAGES.labels(self.spec.name, "failed").inc()
                    if self.infrastructure_failure(error):
                        outage_failures += 1
                        outage_started = outage_started or time.monotonic()
                        waited = time.monotonic() - outage_started
                        DEPENDENCY_WAIT.labels(self.spec.name).set(waited)
                        logger.warning(
                            "%s: a dependency failed on %s (%r); waiting for it (%.0f s so far)",
                            self.spec.name,
                            what,
                            error,
                            waited,
                        )
                        self._pause(self.retry_wait(outage_failures), stop)
                        continue
                    failures += 1
                    logger.exception(
                        "%s failed on %s (attempt %s of %s)", self.spec.name, what, failures, limit
                    )
                    if failures < limit:
                        self._pause(self.retry_wait(failures), stop)
                    elif len(records) > 1:
                        return self._settle_halves(records, attempt, stop)
                    else:  # from now on, only the dead-lettering itself is attempted
                        attempt = partial(self._dead_letter_outcome, error)

            return None
        finally:
            DEPENDENCY_WAIT.labels(self.spec.name).set(0)

    def _settle_halves(
        self,
        records: list[ConsumerRecord],
        attempt: Callable[[list[ConsumerRecord]], Outcomes],
        stop: threading.Event,
    ) -> Outcomes | None:
        outcomes: Outcomes[str] = Outcomes()
        middle = len(records) // 2
        for part in (records[:middle], records[middle:]):
            settled = self._settle(part, attempt, self._describe(part), stop)
            if settled is None:
                return None
            outcomes += settled
        return outcomes

    @staticmethod
    def _describe(records: list[ConsumerRecord]) -> str:
        if len(records) == 1:
            return f"{records[0].topic}[{records[0].partition}]@{records[0].offset}"
        return f"a batch of {len(records)} records"

    def _until_durable(self, records: list[ConsumerRecord], stop: threading.Event) -> bool:
        """Settle `records` and count their outcomes; False when the runner must stop first (SIGTERM)."""
        attempt = self._attempt_batch if self.spec.handle_batch is not None else self._attempt
        outcomes = self._settle(records, attempt, self._describe(records), stop)
        if outcomes is None:
            return False
        for outcome, count in outcomes.items():
            if count:
                MESSAGES.labels(self.spec.name, outcome).inc(count)
        return True

    def _attempt_batch(self, records: list[ConsumerRecord]) -> Outcomes:
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
        for record, reason in rejected:
            self._dead_letter(record, reason)
        return Outcomes({"handled": len(events) - len(refused), "dead_lettered": len(rejected)})

    def _poll(
        self, timeout_ms: int, stop: threading.Event, *, idle: bool = True
    ) -> dict[TopicPartition, list[ConsumerRecord]]:
        """Poll; with the idle back-off on, an empty answer (while `idle`: no batch in flight) is followed by
        a wait (doubling up to `idle_backoff_ms`), and polls while idle do not block: on a broker that
        answers empty fetches at once, a long poll is a busy loop."""
        if self._idle_wait_ms and self._group_settled():
            timeout_ms = min(timeout_ms, IDLE_POLL_MS)
        polled = self._rewind_rewritten(self._consumer.poll(timeout_ms=timeout_ms))  # type: ignore[union-attr]
        if polled or not idle or not self.idle_backoff_ms:
            self._idle_wait_ms = 0
            return polled
        self._idle_wait_ms = min(self.idle_backoff_ms, max(IDLE_FIRST_WAIT_MS, self._idle_wait_ms * 2))
        self._pause(self._idle_wait_ms / 1000, stop)
        return polled

    def _group_settled(self) -> bool:
        """Whether the consumer holds its partitions in a live group. Until it does, idle polls block again:
        polls that return at once did not carry a rejoin through after the stand-in was killed and restarted
        under `make run` (the consumers stayed out of their groups for good). A consumer without partitions
        fetches nothing, so a blocking poll is no busy loop. kafka-python has no public call for this."""
        consumer = self._consumer
        coordinator = consumer._coordinator  # type: ignore[union-attr]
        return bool(consumer.assignment()) and not (  # type: ignore[union-attr]
            coordinator.coordinator_unknown() or coordinator.need_rejoin()
        )

    def _rewind_rewritten(
        self, polled: dict[TopicPartition, list[ConsumerRecord]]
    ) -> dict[TopicPartition, list[ConsumerRecord]]:
        """Check each newly assigned partition once: when the log under its committed offset was rewritten (a
        broker lost acknowledged records and gave their offsets to new ones), resuming there would skip the
        new records; read the partition from its beginning instead (handling is idempotent) and drop what
        this poll brought from the old position."""
        assignment = set(self._consumer.assignment())  # type: ignore[union-attr]
        self._checked &= assignment
        probe: KafkaConsumer | None = None  # one reader of the logs for every partition of this assignment
        try:
            for partition in assignment - self._checked:
                try:
                    committed = self._consumer.committed(partition, metadata=True)  # type: ignore[union-attr]
                    rewritten = False
                    if committed is not None and committed.metadata:
                        probe = probe or KafkaConsumer(
                            bootstrap_servers=self.bootstrap_servers, enable_auto_commit=False
                        )
                        rewritten = _log_rewritten(probe, partition, committed)
                except KafkaError as error:
                    logger.warning("%s: cannot check %s yet (%r)", self.spec.name, partition, error)
                    continue  # checked at a later poll
                if rewritten:
                    REWINDS.labels(self.spec.name).inc()
                    logger.error(
                        "%s: the log of %s no longer holds event %s under committed offset %s (the broker "
                        "lost records); reading it again from the beginning",
                        self.spec.name,
                        partition,
                        committed.metadata,
                        committed.offset,
                    )
                    self._consumer.seek_to_beginning(partition)  # type: ignore[union-attr]
                    polled.pop(partition, None)
                self._checked.add(partition)
        finally:
            if probe is not None:
                probe.close()
        return polled

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
                    polled = self._poll(timeout, stop, idle=in_flight is None)
                if in_flight is not None and (polled or in_flight[0].done()):
                    healthy = in_flight[0].result()
                    if healthy:
                        self._commit(in_flight[1])
                    in_flight = None
                if healthy and in_flight is None and polled and not stop.is_set():
                    offsets = {
                        partition: _position_after(records[-1]) for partition, records in polled.items()
                    }
                    records = [record for batch in polled.values() for record in batch]
                    in_flight = (worker.submit(self._until_durable, records, stop), offsets)
                    polled = {}
            if in_flight is not None and in_flight[0].result():
                self._commit(in_flight[1])
        finally:
            worker.shutdown(wait=True)
            self.close()
        return 0

    def run(self, stop: threading.Event) -> int:
        """Consume until `stop` is set (exit code 0). Offsets are committed after each polled batch, for the
        records that were made durable."""
        if self.spec.handle_batch is not None:
            return self._run_batches(stop)
        self._consumer = self._consumer_build()
        healthy = True
        try:
            while healthy and not stop.is_set():
                self.health_file.touch()  # type: ignore[union-attr]
                done: dict[TopicPartition, OffsetAndMetadata] = {}
                for partition, records in self._poll(self.poll_timeout_ms, stop).items():
                    for record in records:
                        healthy = not stop.is_set() and self._until_durable([record], stop)
                        if not healthy:
                            break
                        done[partition] = _position_after(record)
                    if not healthy:
                        break
                if done:
                    self._commit(done)
        finally:
            self.close()
        return 0

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
