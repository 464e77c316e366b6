"""The consumer kit against the real broker: de-duplication, dead letters, failure limits, crash recovery."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from kafka import KafkaConsumer, KafkaProducer
from kafka.structs import OffsetAndMetadata, TopicPartition

from market.events.models import OutboxEvent
from services.audit.consumer import SPEC as AUDIT
from services.audit.models import AuditEntry
from services.common.consumer import ConsumerRunner, ConsumerSpec, wait_until
from services.common.dead_letters import dead_letters_read, dead_letters_replay
from services.common.models import HandledMessage
from tests import factories
from tests.events.kit import consumer_loop, relay_all, running
from tests.processes import child_database_url

pytestmark = pytest.mark.django_db(transaction=True)
REPO = Path(__file__).resolve().parents[2]


def _events(cast, count: int) -> int:
    """`count` real events (patent creations and withdrawals) in the outbox."""
    from market.catalog import services

    for _ in range(count):
        services.listing_withdraw(listing=factories.patent(cast.university), user=cast.uni_member)
    return OutboxEvent.objects.count()


def test_redelivering_a_whole_topic_has_no_second_effect(cast, broker):
    total = _events(cast, 30)
    relay_all(broker)
    with running(consumer_loop, broker, AUDIT):
        assert wait_until(lambda: AuditEntry.objects.count() == total, timeout=30)
    # a new runner of the same consumer, with its group rewound to offset 0: everything arrives again
    consumer = KafkaConsumer(
        bootstrap_servers=broker.kafka_bootstrap, group_id="market.audit", enable_auto_commit=False
    )
    partition = TopicPartition("market.patents", 0)
    consumer.assign([partition])
    consumer.seek(partition, 0)
    consumer.commit({partition: OffsetAndMetadata(0, "", -1)})
    consumer.close()
    with running(consumer_loop, broker, AUDIT):
        assert wait_until(lambda: _committed(broker, "market.audit", partition) == total, timeout=30)
    assert AuditEntry.objects.count() == total
    assert HandledMessage.objects.filter(consumer="audit").count() == total


def _committed(broker, group: str, partition: TopicPartition) -> int | None:
    consumer = KafkaConsumer(
        bootstrap_servers=broker.kafka_bootstrap, group_id=group, enable_auto_commit=False
    )
    try:
        return consumer.committed(partition)
    finally:
        consumer.close()


def test_poison_messages_go_to_the_dead_letter_topic_and_the_consumer_goes_on(cast, broker):
    producer = KafkaProducer(bootstrap_servers=broker.kafka_bootstrap, acks="all")
    producer.send("market.patents", key=b"patent:1", value=b"\xff not json, no CloudEvents headers").get(10)
    valid_headers = [
        ("ce_specversion", b"1.0"),
        ("ce_id", b"bad-schema-1"),
        ("ce_source", b"/test"),
        ("ce_type", b"market.patent.published.v1"),
        ("content-type", b"application/json"),
    ]
    producer.send(
        "market.patents",
        key=b"patent:1",
        value=json.dumps({"aggregate": "patent"}).encode(),
        headers=valid_headers,
    ).get(10)
    producer.close()
    total = _events(cast, 1)
    relay_all(broker)

    with running(consumer_loop, broker, AUDIT) as (_stop, outcome):
        assert wait_until(lambda: AuditEntry.objects.count() == total, timeout=30)
    assert outcome.get("result", 0) == 0 and "error" not in outcome

    letters = [
        letter
        for _consumer, letter in dead_letters_read(
            topic="market.patents", bootstrap_servers=broker.kafka_bootstrap
        )
    ]
    assert [(dead.original_topic, dead.original_partition, dead.original_offset) for dead in letters] == [
        ("market.patents", 0, 0),
        ("market.patents", 0, 1),
    ]
    assert "undecodable" in letters[0].error
    assert "fails its schema" in letters[1].error
    assert all(letter.consumer == "audit" for letter in letters)
    assert letters[1].value == json.dumps({"aggregate": "patent"}).encode()

    assert dead_letters_replay(topic="market.patents", bootstrap_servers=broker.kafka_bootstrap) == 2
    assert dead_letters_replay(topic="market.patents", bootstrap_servers=broker.kafka_bootstrap) == 0


def test_a_handler_that_keeps_failing_stops_the_consumer_without_committing(cast, broker):
    _events(cast, 1)
    relay_all(broker)
    attempts = []

    def broken(event):
        attempts.append(event.id)
        raise RuntimeError("database of a downstream system is down")

    spec = ConsumerSpec(name="broken", topics=("market.patents",), handle=broken)
    runner = ConsumerRunner(
        spec=spec,
        bootstrap_servers=broker.kafka_bootstrap,
        max_consecutive_failures=4,
        retry_wait=lambda _state: 0.01,
    )
    import threading

    assert runner.run(threading.Event()) == 1
    assert len(attempts) == 4 and len(set(attempts)) == 1
    assert _committed(broker, "market.broken", TopicPartition("market.patents", 0)) is None
    assert not HandledMessage.objects.filter(consumer="broken").exists(), "failed work leaves no inbox row"


def test_a_transient_failure_is_retried_and_then_succeeds(cast, broker):
    total = _events(cast, 2)
    relay_all(broker)
    failures = {"left": 3}
    handled = []

    def flaky(event):
        if failures["left"]:
            failures["left"] -= 1
            raise ConnectionError("try again")
        handled.append(event.id)

    spec = ConsumerSpec(name="flaky", topics=("market.patents",), handle=flaky)
    with running(consumer_loop, broker, spec, retry_wait=lambda _state: 0.01):
        assert wait_until(lambda: len(handled) == total, timeout=30)
    assert len(set(handled)) == total


def test_a_handled_batch_is_committed_at_once_not_after_the_next_long_poll(cast, broker):
    total = _events(cast, 3)
    relay_all(broker)
    batches: list[list[int]] = []

    def record_batch(events):
        batches.append([event.offset for event in events])
        return []

    spec = ConsumerSpec(
        name="batched", topics=("market.patents",), handle=lambda _event: None, handle_batch=record_batch
    )
    partition = TopicPartition("market.patents", 0)
    # a poll with nothing new would block for 6 s: the commit of the batch in flight must not wait for it
    with running(consumer_loop, broker, spec, poll_timeout_ms=6_000):
        assert wait_until(lambda: sum(map(len, batches)) == total, timeout=30)
        handled_at = time.monotonic()
        assert wait_until(lambda: _committed(broker, "market.batched", partition) == total, 3, interval=0.1)
        assert time.monotonic() - handled_at < 3
    assert [offset for batch in batches for offset in batch] == list(range(total))


def _consumer_process(broker, health_dir: Path) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": child_database_url(),
        "KAFKA_BOOTSTRAP_SERVERS": broker.kafka_bootstrap,
        "CONSUMER_HEALTH_DIR": str(health_dir),
        "DJANGO_SETTINGS_MODULE": "market.config.settings",
        "LOG_LEVEL": "WARNING",
        "CONSUMER_INSTANCE_ID": "audit-0",  # as a pod name would be, so the restart takes its partitions back
    }
    return subprocess.Popen(
        [sys.executable, str(REPO / "manage.py"), "run_consumer", "audit"],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=(health_dir / "consumer.log").open("ab"),
    )


def test_a_killed_consumer_loses_nothing_and_its_repeats_are_harmless(cast, broker, tmp_path):
    total = _events(cast, 400)
    relay_all(broker)
    process = _consumer_process(broker, tmp_path)
    try:
        assert wait_until(lambda: AuditEntry.objects.count() >= 50, timeout=60)
        process.send_signal(signal.SIGKILL)  # mid-batch: no chance to commit
        process.wait(10)
        seen_before_restart = AuditEntry.objects.count()
        assert seen_before_restart < total
        assert (tmp_path / "consumer-audit.alive").exists()

        process = _consumer_process(broker, tmp_path)
        assert wait_until(lambda: AuditEntry.objects.count() == total, timeout=90)
        time.sleep(1)  # any duplicate effect would show up now
        assert AuditEntry.objects.count() == total
        assert len(set(AuditEntry.objects.values_list("event_id", flat=True))) == total

        process.send_signal(signal.SIGTERM)  # graceful: finishes the message, commits, exits 0
        assert process.wait(20) == 0
    finally:
        if process.poll() is None:
            process.kill()
