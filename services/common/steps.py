"""The steps a consumer is made of (the shape of getsentry/arroyo's processing strategies, trimmed to ours).

The runner (services.common.consumer) polls records and submits each poll to the first step of the consumer's
chain; a step does one thing and hands what it made of the records to the next one. The kit ends every chain
with `DeadLetter` and `Commit`. What travels is a list of `Message`s: one record each, with what the steps so
far made of it (one poll's records, or a batch once a `Batch` step has cut them to size).

Every step has arroyo's three calls: `submit` a list; `poll` on every loop of the runner (hand on work that
finished meanwhile); `join` when the runner stops (hand on what is finished, abandon the rest: it is not
committed, so it is read again after the restart).

A step says no in one of two ways, and they are kept apart:
- back-pressure: `submit` raises `MessageRejected` while the step cannot take more (a thread step with its
  requests in flight). Nothing was taken: the runner keeps the records, lets the chain make progress (`poll`)
  and submits them again. It is never the records' fault and never counts against them.
- poison: a record that can never be handled is *refused*: its message carries the error on through the
  remaining steps, which leave it alone, to `DeadLetter`, which sends it to `<topic>.dlq`; its offset is then
  committed in order with the others, so one bad record never stops a partition.

How work is tried until it is durable is `Context.attempt`, the same for every step:
- a dependency failing (the database, Kafka, the network, whatever the spec adds as `transient_errors`, e.g.
  the search engine) is waited out with capped exponential backoff for as long as it takes and never
  counts against the record. The process does not exit however long the outage lasts (a restart would not
  bring the dependency back, and a crash-looping worker hides the cause); it keeps its health file fresh
  while it waits and shows the outage in `consumer_dependency_wait_seconds`, which is what alerts watch.
- anything else is the record's failure: `PermanentError` refuses it at once; another error is tried again,
  up to `CONSUMER_MAX_RECORD_ATTEMPTS` times for one record. A batch (in a thread step) is tried
  `BATCH_ATTEMPTS` times, then split in halves that are settled in order, down to the record, so only the
  poison record(s) are refused."""

import logging
import threading
import time
from abc import ABC, abstractmethod
from collections import Counter, deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from typing import Any, Generic, TypeVar

from django.db import InterfaceError, OperationalError, close_old_connections
from kafka.consumer.fetcher import ConsumerRecord
from kafka.errors import KafkaError
from kafka.structs import OffsetAndMetadata, TopicPartition
from prometheus_client import Counter as MetricCounter
from prometheus_client import Gauge

logger = logging.getLogger(__name__)

MESSAGES = MetricCounter(
    "consumer_messages_total", "Messages seen by a consumer, by outcome", ["consumer", "outcome"]
)
DEPENDENCY_WAIT = Gauge(
    "consumer_dependency_wait_seconds",
    "How long a consumer has been waiting for a failing dependency (0: none is failing)",
    ["consumer"],
)
#: attempts of a whole batch (or a part of it) before it is split in halves
BATCH_ATTEMPTS = 2
#: how often a consumer touches its health file, at most and while it waits (the probe allows a minute)
HEALTH_TOUCH_SECONDS = 1.0
#: failures of a dependency, not of the record (TimeoutError and ConnectionError are OSErrors)
INFRASTRUCTURE_ERRORS: tuple[type[BaseException], ...] = (
    OperationalError,
    InterfaceError,
    KafkaError,
    OSError,
)

T = TypeVar("T")
U = TypeVar("U")


class PermanentError(Exception):
    """Raised by a handler for a message that will never succeed, however often it is retried."""


class MessageRejected(Exception):
    """Back-pressure: the step cannot take these messages now and took none of them; submit them again
    after `poll`."""


class Stopped(Exception):
    """The runner was told to stop while work waited to be tried again: that work is abandoned (not
    committed, so read again after the restart)."""


@dataclass(slots=True, eq=False)
class Message(Generic[T]):
    """One record on its way through the chain, and what the steps so far made of it. Steps never change a
    message, they make a new one (`replace`, `refuse`): not frozen only because a frozen data class takes
    four times as long to make, once per record and step. Equal only to itself (a dict key by identity)."""

    record: ConsumerRecord
    value: T
    #: why the record can never be handled: the steps after leave it alone, DeadLetter sends it to the dlq
    refused: Exception | None = None
    #: what became of it, counted in consumer_messages_total once it is committed
    outcome: str = "handled"

    def replace(self, value: U, *, outcome: str | None = None) -> "Message[U]":
        return Message(self.record, value, self.refused, outcome or self.outcome)

    def refuse(self, error: Exception) -> "Message[None]":
        return Message(self.record, None, error, "dead_lettered")

    @property
    def where(self) -> str:
        return f"{self.record.topic}[{self.record.partition}]@{self.record.offset}"


Messages = list[Message[Any]]
#: work on the live (not refused) messages of a list: returns one message for each, in the same order
Task = Callable[[Messages], Messages]


@dataclass
class Context:
    """What the kit gives every step of one runner: the consumer's name, its stop signal and the way work is
    tried until it is durable."""

    consumer: str
    stop: threading.Event
    #: failures of one record before it is refused
    max_record_attempts: int
    #: seconds to wait before the next try, given the number of failures so far
    retry_wait: Callable[[int], float]
    #: the spec's own dependencies (e.g. the search engine), waited out like INFRASTRUCTURE_ERRORS
    transient_errors: tuple[type[BaseException], ...]
    #: touches the health file
    alive: Callable[[], None]

    def dependency_failed(self, error: BaseException) -> bool:
        """A dependency failed, not the record: the error, or one it was raised from, is a transient type."""
        transient = INFRASTRUCTURE_ERRORS + self.transient_errors
        cause: BaseException | None = error
        while cause is not None:
            if isinstance(cause, transient):
                return True
            cause = cause.__cause__
        return False

    def pause(self, seconds: float) -> None:
        """Wait (interruptibly), keeping the health file fresh: a waiting consumer is alive."""
        deadline = time.monotonic() + seconds
        while not self.stop.is_set() and (left := deadline - time.monotonic()) > 0:
            self.alive()
            self.stop.wait(min(left, HEALTH_TOUCH_SECONDS))

    def attempt(self, work: Callable[[], T], what: Callable[[], str], limit: int | None = None) -> T:
        """Call `work` until it returns. A dependency failing is waited out, unbounded; any other error is
        tried again until it has failed `limit` times (None: never gives up), then raised to the caller, as is
        PermanentError at once. The first try is always made; once the runner is stopping, a failure raises
        Stopped instead of being tried again. `what` names the work in logs (only called on a failure)."""
        failures = 0
        outage_failures = 0
        outage_started: float | None = None
        try:
            while True:
                try:
                    return work()
                except (Stopped, PermanentError):
                    raise
                except Exception as error:
                    close_old_connections()  # a broken database connection is replaced on the next try
                    MESSAGES.labels(self.consumer, "failed").inc()
                    if self.dependency_failed(error):
                        outage_failures += 1
                        outage_started = outage_started or time.monotonic()
                        waited = time.monotonic() - outage_started
                        DEPENDENCY_WAIT.labels(self.consumer).set(waited)
                        logger.warning(
                            "%s: a dependency failed on %s (%r); waiting for it (%.0f s so far)",
                            self.consumer,
                            what(),
                            error,
                            waited,
                        )
                        wait = self.retry_wait(outage_failures)
                    else:
                        failures += 1
                        logger.exception(
                            "%s failed on %s (attempt %s of %s)",
                            self.consumer,
                            what(),
                            failures,
                            limit or "unlimited",
                        )
                        if limit is not None and failures >= limit:
                            raise
                        wait = self.retry_wait(failures)
                    self.pause(wait)
                    if self.stop.is_set():
                        raise Stopped(what()) from error
        finally:
            if outage_started is not None:
                DEPENDENCY_WAIT.labels(self.consumer).set(0)

    def settle(self, messages: Messages, task: Task) -> Messages:
        """Run `task` on the live messages until they are durable or refused; the refused ones keep their
        place. One message is tried `max_record_attempts` times, then refused with the error; several are
        tried BATCH_ATTEMPTS times together, then split in halves, each settled in order."""
        live = [message for message in messages if message.refused is None]
        if len(live) == len(messages):
            return self._settle(messages, task)
        if not live:
            return messages
        settled = iter(self._settle(live, task))
        return [next(settled) if message.refused is None else message for message in messages]

    def _settle(self, live: Messages, task: Task) -> Messages:
        single = len(live) == 1
        limit = self.max_record_attempts if single else min(BATCH_ATTEMPTS, self.max_record_attempts)
        try:
            return self.attempt(partial(task, live), partial(_describe, live), limit)
        except Stopped:
            raise
        except Exception as error:
            if single:
                return [live[0].refuse(error)]
            middle = len(live) // 2
            return self._settle(live[:middle], task) + self._settle(live[middle:], task)


def _describe(messages: Messages) -> str:
    return messages[0].where if len(messages) == 1 else f"a batch of {len(messages)} records"


class Step(ABC):
    """One link of a consumer's chain (arroyo's ProcessingStrategy)."""

    @abstractmethod
    def submit(self, messages: Messages) -> None:
        """Take these messages, or raise MessageRejected and take none of them."""

    @abstractmethod
    def poll(self) -> None:
        """Hand on work that finished since the last call (called on every loop of the runner)."""

    @abstractmethod
    def join(self) -> None:
        """The runner stops: hand on what is finished, abandon the rest."""


class Link(Step):
    """A step with a next step. What it made waits in its outbox while the next step pushes back, and the
    step takes nothing new until the outbox is empty: back-pressure travels up the chain to the runner
    without a step ever doing its work twice."""

    def __init__(self, context: Context, next_step: Step) -> None:
        self.context = context
        self.next_step = next_step
        self._outbox: deque[Messages] = deque()

    @abstractmethod
    def process(self, messages: Messages) -> None:
        """Do this step's work and `forward` the result (now or, for work in a thread, from `poll`)."""

    def busy(self) -> bool:
        return bool(self._outbox)

    def submit(self, messages: Messages) -> None:
        if self.busy():
            raise MessageRejected
        self.process(messages)

    def forward(self, messages: Messages) -> None:
        self._outbox.append(messages)
        self._drain()

    def _drain(self) -> None:
        while self._outbox:
            try:
                self.next_step.submit(self._outbox[0])
            except MessageRejected:
                return
            self._outbox.popleft()

    def poll(self) -> None:
        self.next_step.poll()
        self._drain()

    def join(self) -> None:
        self._outbox.clear()
        self.next_step.join()


class RunTask(Link):
    """Runs `function` on each live message, one record at a time (its failures count against it alone), on
    the runner's thread. When the runner is told to stop, what is done so far goes on, the rest is left."""

    def __init__(
        self, context: Context, next_step: Step, *, function: Callable[[Message[Any]], Message[Any]]
    ) -> None:
        super().__init__(context, next_step)
        self.task: Task = lambda messages: [function(message) for message in messages]

    def process(self, messages: Messages) -> None:
        done: Messages = []
        try:
            for message in messages:
                if self.context.stop.is_set():
                    raise Stopped(message.where)
                done += self.context.settle([message], self.task)
        finally:
            if done:
                self.forward(done)


class Batch(Link):
    """Cuts what comes into lists of at most `size` messages: full ones go on at once, the rest when the
    runner polls, i.e. when nothing more is at hand (a quiet stream is not held back waiting for a batch to
    fill)."""

    def __init__(self, context: Context, next_step: Step, *, size: int) -> None:
        super().__init__(context, next_step)
        self.size = size
        self._gathered: Messages = []

    def process(self, messages: Messages) -> None:
        self._gathered += messages
        while len(self._gathered) >= self.size:
            self.forward(self._gathered[: self.size])
            del self._gathered[: self.size]

    def poll(self) -> None:
        if self._gathered and not self._outbox:
            self.forward(self._gathered)
            self._gathered = []
        super().poll()

    def join(self) -> None:
        self._gathered = []
        super().join()


class RunTaskInThread(Link):
    """Runs `task` on whole lists (batches) in a worker thread, one list after the other, so the steps
    before it (and the next poll) overlap it: the search indexer builds the next batch's documents while
    this batch's bulk request is in flight. Up to `max_pending` lists wait or run in the thread (so the
    next starts the moment one ends); beyond that, back-pressure. Results go on in order, from the runner's
    thread, so every commit follows work that is durable."""

    def __init__(self, context: Context, next_step: Step, *, task: Task, max_pending: int = 2) -> None:
        super().__init__(context, next_step)
        self.task = task
        self.max_pending = max_pending
        self._pending: deque[Future[Messages]] = deque()
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"consumer-{context.consumer}")

    def busy(self) -> bool:
        return super().busy() or len(self._pending) >= self.max_pending

    def process(self, messages: Messages) -> None:
        self._pending.append(self._worker.submit(self.context.settle, messages, self.task))

    def _hand_on(self, *, wait: bool) -> None:
        """Forward finished lists in order; one whose work was stopped stays at the head (Stopped), so
        nothing after it is ever committed."""
        while self._pending and (wait or self._pending[0].done()):
            messages = self._pending[0].result()
            self._pending.popleft()
            self.forward(messages)

    def poll(self) -> None:
        self._hand_on(wait=False)
        super().poll()

    def join(self) -> None:
        try:
            self._hand_on(wait=True)
        except Stopped:
            pass
        finally:
            self._pending.clear()
            self._worker.shutdown(wait=True, cancel_futures=True)
        super().join()


class DeadLetter(Link):
    """Sends every refused record to `<topic>.dlq` (with its original topic, partition, offset and the error
    in headers: see ConsumerRunner.dead_letter), then hands the list on to be committed. Sending is tried
    until it succeeds: a dead letter is never dropped."""

    def __init__(
        self, context: Context, next_step: Step, *, send: Callable[[ConsumerRecord, Exception], None]
    ) -> None:
        super().__init__(context, next_step)
        self.send = send

    def process(self, messages: Messages) -> None:
        for message in messages:
            if message.refused is not None:
                send = partial(self.send, message.record, message.refused)
                self.context.attempt(send, partial(_describe, [message]))
        self.forward(messages)


def event_id(record: ConsumerRecord) -> str:
    return next(
        (value.decode(errors="replace") for name, value in record.headers or [] if name == "ce_id"), ""
    )


def position_after(record: ConsumerRecord) -> OffsetAndMetadata:
    """The offset to commit once `record` is durable, with the record's event id as the commit's metadata: the
    fingerprint that tells, on the next assignment, whether the log under the offset is still the same."""
    return OffsetAndMetadata(record.offset + 1, event_id(record), -1)


class Commit(Step):
    """The end of every chain: commits the position after each list's records and counts their outcomes."""

    def __init__(
        self, commit: Callable[[dict[TopicPartition, OffsetAndMetadata]], None], consumer: str
    ) -> None:
        self.commit = commit
        self.consumer = consumer
        #: records committed (or given up to redelivery) so far: the runner compares it with what it submitted
        self.settled = 0

    def submit(self, messages: Messages) -> None:
        positions = {
            TopicPartition(message.record.topic, message.record.partition): position_after(message.record)
            for message in messages
        }
        self.commit(positions)
        self.settled += len(messages)
        for outcome, count in Counter(message.outcome for message in messages).items():
            MESSAGES.labels(self.consumer, outcome).inc(count)

    def poll(self) -> None:
        pass

    def join(self) -> None:
        pass


#: how a consumer declares a step: given the context and the next step, make it
StepFactory = Callable[[Context, Step], Step]


def run_task(function: Callable[[Message[Any]], Message[Any]]) -> StepFactory:
    return partial(RunTask, function=function)


def batch(size: int) -> StepFactory:
    return partial(Batch, size=size)


def run_task_in_thread(task: Task, *, max_pending: int = 2) -> StepFactory:
    return partial(RunTaskInThread, task=task, max_pending=max_pending)
