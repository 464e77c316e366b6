"""Test helpers around the real broker: drain the outbox, read topics back, run workers in threads."""

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection
from kafka import KafkaConsumer
from kafka.consumer.fetcher import ConsumerRecord

from market.events.catalogue import TOPICS
from market.events.models import OutboxEvent
from market.events.relay import OutboxRelay, producer_build
from services.common.consumer import ConsumerRunner, ConsumerSpec
from services.common.embedded import EmbeddedBroker

ALL_TOPICS = sorted(set(TOPICS.values()))


def relay_all(broker: EmbeddedBroker) -> int:
    """Publish every unsent outbox row; returns how many were sent."""
    relay = OutboxRelay(producer_factory=lambda: producer_build(broker.kafka_bootstrap))
    sent = 0
    try:
        while batch := relay.relay_batch():
            sent += batch
    finally:
        relay.close()
    return sent


def read_topics(
    broker: EmbeddedBroker, topics: list[str], *, expected: int, timeout: float = 20.0
) -> list[ConsumerRecord]:
    """Read `expected` records from the start of the topics (no consumer group), in partition order."""
    consumer = KafkaConsumer(
        *topics,
        bootstrap_servers=broker.kafka_bootstrap,
        group_id=None,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    records: list[ConsumerRecord] = []
    deadline = time.monotonic() + timeout
    try:
        while len(records) < expected and time.monotonic() < deadline:
            for batch in consumer.poll(timeout_ms=300).values():
                records.extend(batch)
        # anything beyond the expected count would be a duplicate: look a little longer
        for batch in consumer.poll(timeout_ms=500).values():
            records.extend(batch)
    finally:
        consumer.close()
    return records


def unsent() -> int:
    return OutboxEvent.objects.filter(sent_at__isnull=True).count()


@contextmanager
def running(target, *args, **kwargs) -> Iterator[tuple[threading.Event, dict]]:
    """Run `target(*args, stop=stop, **kwargs)` in a thread; stop and join it on exit. The thread's result
    (or exception) lands in the yielded dict."""
    stop = threading.Event()
    outcome: dict = {}

    def work() -> None:
        try:
            outcome["result"] = target(*args, stop=stop, **kwargs)
        except BaseException as error:
            outcome["error"] = error
        finally:
            connection.close()

    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    try:
        yield stop, outcome
    finally:
        stop.set()
        thread.join(timeout=60)
        assert not thread.is_alive(), "worker thread did not stop"


def relay_loop(broker: EmbeddedBroker, *, stop: threading.Event) -> None:
    OutboxRelay(producer_factory=lambda: producer_build(broker.kafka_bootstrap), batch_size=100).run(
        stop=stop, idle_sleep=0.05, housekeeping_every=1.0
    )


def consumer_loop(broker: EmbeddedBroker, spec: ConsumerSpec, *, stop: threading.Event, **options) -> int:
    return ConsumerRunner(spec=spec, bootstrap_servers=broker.kafka_bootstrap, **options).run(stop)
