"""A consumer is a chain of small steps: decode → validate → de-duplicate → handle → dead-letter → commit.

A consumer declares its steps in its ConsumerSpec (the kit ends every chain with dead-lettering and the
commit); the runner polls records and feeds each poll to the chain. The steps themselves, back-pressure vs.
poison records, and how failures are retried are in services.common.steps. The chains of today:

    audit, notify: decode → deduplicate(handler)
    search:        decode → batch(500) → build documents → bulk request in a thread (pipelined)

- decode (and validate): CloudEvents binary mode through the `cloudevents` SDK, JSON data; the type must be
  one the core publishes and `data` must match its current JSON Schema (`event_decode`). A record that fails
  is refused (dead-lettered) at once.
- de-duplicate + handle: the handler runs in one database transaction with the inbox row of its `ce_id`, so a
  redelivered message has no second effect. A consumer without inbox rows (search) is idempotent by itself.
- dead-letter: a refused record goes to `<topic>.dlq` with its original topic, partition, offset and the error
  in headers, and the consumer moves on to the next record (`dead_letters replay` puts it back).
- commit: offsets are committed manually, only for messages whose work is durable, in order, with the event
  id of the last record as the commit's metadata. On each new assignment the runner checks that the log
  still holds that event just below the committed offset: a broker that lost acknowledged records gives
  their offsets to new events, and resuming at the old committed offset would skip those silently. When the
  log was rewritten, the partition is read again from its beginning (handlers are idempotent). Lost records
  themselves are found by the reconciler (services.audit.reconcile).
- liveness: a health file is touched on every loop and while waiting; metrics count outcomes per consumer.
- while work is in flight (a step with a thread), polls do not block: the runner takes what is fetched and
  waits a little (`IN_FLIGHT_POLL_MS`) before fetching again, so the work's commit does not wait out a long
  poll, and a broker that answers empty fetches at once (the local stand-in) is not asked again and again
  while the work runs: that spinning took the interpreter from the work's thread and the CPU from the engine
  it writes to. The next poll's records wait (back-pressure) until the chain can take them.
- idle back-off (`CONSUMER_IDLE_BACKOFF_MS`, 0 = off): after empty polls the runner sleeps (10 ms, doubling up
  to the setting) before fetching again, interruptibly. A broker that answers empty fetches at once (the local
  stand-in) otherwise costs a third of a core per idle consumer; the added latency is at most the setting.
- stop (SIGTERM): the work in hand is finished or abandoned (never half-committed), what is durable is
  committed, and `run` returns 0."""

import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache, partial
from pathlib import Path
from typing import Any

import orjson
from cloudevents.v1.exceptions import GenericException as CloudEventError
from cloudevents.v1.kafka import KafkaMessage, from_binary
from django.conf import settings
from django.db import transaction
from jsonschema_rs import Draft202012Validator
from kafka import KafkaConsumer, KafkaProducer
from kafka.consumer.fetcher import ConsumerRecord
from kafka.errors import CommitFailedError, KafkaError
from kafka.structs import OffsetAndMetadata, TopicPartition
from prometheus_client import Counter

from market.events.catalogue import EVENT_TYPES, Event
from market.events.decoding import UndecodableEvent, event_of
from market.events.schemas import payload_schema
from services.common.models import HandledMessage
from services.common.steps import (
    HEALTH_TOUCH_SECONDS,
    Commit,
    Context,
    DeadLetter,
    Message,
    MessageRejected,
    PermanentError,
    RunTask,
    Step,
    StepFactory,
    Stopped,
    event_id,
    run_task,
)

logger = logging.getLogger(__name__)

REWINDS = Counter(
    "consumer_rewinds_total",
    "Partitions read again from the beginning because the log under the committed offset was rewritten",
    ["consumer"],
)
DLQ_SUFFIX = ".dlq"
#: the wait between polls that found nothing while work is in flight (bounds the delay of its commit)
IN_FLIGHT_POLL_MS = 20
#: how long the runner waits before submitting records the chain pushed back
BACKPRESSURE_WAIT_SECONDS = 0.005
#: idle back-off: the first wait after an empty poll, and how long each poll while idle may block (not at all:
#: it takes what the client's network thread fetched during the wait, and sends the next fetch)
IDLE_FIRST_WAIT_MS = 10
IDLE_POLL_MS = 0


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


@dataclass(frozen=True)
class ConsumerSpec:
    """What a worker is: a name (its consumer group and inbox namespace), the topics it reads, and its steps:
    what becomes of each record, in order (the kit adds dead-lettering and the commit at the end)."""

    name: str
    topics: tuple[str, ...]
    steps: tuple[StepFactory, ...]
    #: records per poll (bigger polls mean fewer, larger bulk requests)
    max_poll_records: int | None = None
    #: errors of this consumer's own dependencies (e.g. the search engine unreachable), waited out like
    #: INFRASTRUCTURE_ERRORS instead of counting against the record
    transient_errors: tuple[type[BaseException], ...] = ()


def backoff_seconds(attempt: int, *, base: float = 0.1, cap: float = 5.0) -> float:
    """Capped exponential backoff with 10 % jitter (so restarted replicas do not retry in step)."""
    return min(cap, base * 2 ** max(attempt - 1, 0)) * random.uniform(1.0, 1.1)


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
            return event_id(record) != committed.metadata
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


def _decoded(message: Message[ConsumerRecord]) -> Message[ReceivedEvent]:
    return message.replace(event_decode(message.value))


#: the first step of every consumer: a record becomes a ReceivedEvent, or is refused (dead-lettered) at once
decode: StepFactory = run_task(_decoded)


def _handle_once(consumer: str, handle: Handler, message: Message[ReceivedEvent]) -> Message[ReceivedEvent]:
    """Run the handler with the inbox row in one transaction; a message already handled is a duplicate."""
    event = message.value
    with transaction.atomic():
        _row, created = HandledMessage.objects.get_or_create(
            consumer=consumer, event_id=event.id, defaults={"event_type": event.type}
        )
        if created:
            handle(event)
    return message if created else message.replace(event, outcome="duplicate")


def deduplicate(handle: Handler) -> StepFactory:
    """De-duplicate and handle: `handle` runs once per event id, in one transaction with its inbox row."""

    def build(context: Context, next_step: Step) -> Step:
        return RunTask(context, next_step, function=partial(_handle_once, context.consumer, handle))

    return build


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
    _touched_at: float = 0.0
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

    def dead_letter(self, record: ConsumerRecord, error: Exception) -> None:
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

    def _touch(self) -> None:
        """Touch the health file: alive (working, or waiting for a dependency)."""
        if time.monotonic() - self._touched_at >= HEALTH_TOUCH_SECONDS:
            self.health_file.touch()  # type: ignore[union-attr]
            self._touched_at = time.monotonic()

    def _chain_build(self, context: Context) -> tuple[Step, Commit]:
        """The spec's steps, then DeadLetter and Commit; returns the first step and the last."""
        commit = Commit(self._commit, self.spec.name)
        chain: Step = DeadLetter(context, commit, send=self.dead_letter)
        for factory in reversed(self.spec.steps):
            chain = factory(context, chain)
        return chain, commit

    def _poll(self, context: Context, *, in_flight: bool) -> dict[TopicPartition, list[ConsumerRecord]]:
        """Poll. With work in flight, the poll does not block and an empty answer is followed by a short wait
        (see the module docstring). With the idle back-off on, an empty answer while idle is followed by a
        wait (doubling up to `idle_backoff_ms`), and polls while idle do not block: on a broker that answers
        empty fetches at once, a long poll is a busy loop."""
        timeout_ms = self.poll_timeout_ms
        if in_flight or (self._idle_wait_ms and self._group_settled()):
            timeout_ms = IDLE_POLL_MS
        polled = self._rewind_rewritten(self._consumer.poll(timeout_ms=timeout_ms))  # type: ignore[union-attr]
        if in_flight:
            self._idle_wait_ms = 0
            if not polled:
                context.pause(IN_FLIGHT_POLL_MS / 1000)
            return polled
        if polled or not self.idle_backoff_ms:
            self._idle_wait_ms = 0
            return polled
        self._idle_wait_ms = min(self.idle_backoff_ms, max(IDLE_FIRST_WAIT_MS, self._idle_wait_ms * 2))
        context.pause(self._idle_wait_ms / 1000)
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

    def run(self, stop: threading.Event) -> int:
        """Consume until `stop` is set (exit code 0): each poll's records go to the chain; records the chain
        pushes back (back-pressure) are held and submitted again, and nothing new is polled meanwhile."""
        context = Context(
            consumer=self.spec.name,
            stop=stop,
            max_record_attempts=self.max_record_attempts,
            retry_wait=self.retry_wait,
            transient_errors=self.spec.transient_errors,
            alive=self._touch,
        )
        self._consumer = self._consumer_build()
        chain, commit = self._chain_build(context)
        held: list[Message[Any]] = []
        submitted = 0
        try:
            while not stop.is_set():
                self._touch()
                if not held:
                    polled = self._poll(context, in_flight=submitted > commit.settled)
                    held = [Message(record, record) for records in polled.values() for record in records]
                if held:
                    try:
                        chain.submit(held)
                        submitted += len(held)
                        held = []
                    except MessageRejected:
                        stop.wait(BACKPRESSURE_WAIT_SECONDS)
                chain.poll()
        except Stopped:
            pass
        except BaseException:
            stop.set()  # a crashed runner gives up its retries (its thread steps must end for it to exit)
            raise
        finally:
            try:
                chain.join()
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
