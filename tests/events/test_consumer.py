"""The consumer kit against the real broker: de-duplication, dead letters, failure limits, crash recovery."""

import io
import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection
from kafka import KafkaConsumer, KafkaProducer
from kafka.structs import OffsetAndMetadata, TopicPartition

from market.events.models import OutboxEvent
from services.audit.consumer import SPEC as AUDIT
from services.audit.models import AuditEntry
from services.common.consumer import ConsumerSpec, decode, deduplicate
from services.common.dead_letters import dead_letters_read, dead_letters_replay
from services.common.models import HandledMessage
from services.common.steps import run_task_in_thread
from tests import factories
from tests.events.kit import consumer_loop, consumer_process, relay_all, running
from tests.waiting import wait_until

pytestmark = pytest.mark.django_db(transaction=True)
PATENTS_0 = TopicPartition("market.patents", 0)


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


def test_a_handler_that_keeps_failing_on_one_record_dead_letters_it_and_goes_on(cast, broker):
    total = _events(cast, 3)
    relay_all(broker)
    poison = str(OutboxEvent.objects.order_by("created_at", "id")[1].id)
    attempts, handled = [], []

    def broken_on_one(event):
        if event.id == poison:
            attempts.append(event.id)
            raise RuntimeError("a bug in the handler")
        handled.append(event.id)

    spec = ConsumerSpec(name="broken", topics=("market.patents",), steps=(decode, deduplicate(broken_on_one)))
    with running(consumer_loop, broker, spec, max_record_attempts=4, retry_wait=lambda _n: 0.01):
        assert wait_until(lambda: len(handled) == total - 1, timeout=30)
        assert wait_until(lambda: _committed(broker, "market.broken", PATENTS_0) == total, timeout=10)
    assert len(attempts) == 4, "attempted exactly max_record_attempts times, then dead-lettered"
    letters = [letter for _c, letter in dead_letters_read(topic="market.patents")]
    assert [(letter.original_offset, letter.consumer) for letter in letters] == [(1, "broken")]
    assert "RuntimeError: a bug in the handler" in letters[0].error
    assert HandledMessage.objects.filter(consumer="broken").count() == total - 1


def test_a_dependency_outage_is_waited_out_without_dead_letters(cast, broker):
    """A database that stays unreachable far longer than a record's attempts: waited for, never dead-lettered,
    and the health file stays fresh meanwhile."""
    from django.db import OperationalError

    total = _events(cast, 2)
    relay_all(broker)
    outage = {"failures": 0}
    handled = []

    def database_down(event):
        if outage["failures"] < 30:
            outage["failures"] += 1
            raise OperationalError("connection refused")
        handled.append(event.id)

    spec = ConsumerSpec(
        name="waiting", topics=("market.patents",), steps=(decode, deduplicate(database_down))
    )
    with running(consumer_loop, broker, spec, max_record_attempts=2, retry_wait=lambda _n: 0.05):
        assert wait_until(lambda: len(handled) == total, timeout=30)
    assert outage["failures"] == 30
    assert not list(dead_letters_read(topic="market.patents"))


def test_a_batch_the_handler_fails_on_is_split_down_to_the_poison_record(cast, broker):
    total = _events(cast, 9)
    relay_all(broker)
    poison = str(OutboxEvent.objects.order_by("created_at", "id")[5].id)
    handled: set[str] = set()

    def index(messages):
        if any(message.value.id == poison for message in messages):
            raise ValueError(f"cannot index {poison}")
        handled.update(message.value.id for message in messages)
        return messages

    spec = ConsumerSpec(name="split", topics=("market.patents",), steps=(decode, run_task_in_thread(index)))
    with running(consumer_loop, broker, spec, max_record_attempts=3, retry_wait=lambda _n: 0.01):
        assert wait_until(lambda: _committed(broker, "market.split", PATENTS_0) == total, timeout=30)
    assert len(handled) == total - 1 and poison not in handled
    letters = [letter for _c, letter in dead_letters_read(topic="market.patents")]
    assert [letter.original_offset for letter in letters] == [5]
    assert f"ValueError: cannot index {poison}" in letters[0].error


_REFUSE_SQL = """
CREATE FUNCTION test_audit_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.aggregate_key = %s THEN
        RAISE EXCEPTION 'audit refuses %%', NEW.aggregate_key;
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER test_audit_refuse BEFORE INSERT ON audit_auditentry
    FOR EACH ROW EXECUTE FUNCTION test_audit_refuse();
"""
_FIX_SQL = """
DROP TRIGGER IF EXISTS test_audit_refuse ON audit_auditentry;
DROP FUNCTION IF EXISTS test_audit_refuse();
"""


def test_a_record_the_real_handler_always_fails_on_is_dead_lettered_and_replayed_once_fixed(
    cast, broker, tmp_path
):
    """The audit consumer as its own process; the database refuses one patent's audit rows (a trigger, the
    "bug"), so its handler raises every time for those records only."""
    from market.catalog import services

    patents = [factories.patent(cast.university) for _ in range(3)]
    refused_key = f"patent:{patents[1].pk}"
    with connection.cursor() as cursor:
        cursor.execute(_REFUSE_SQL, [refused_key])
    process = None
    try:
        for patent in patents:
            services.listing_withdraw(listing=patent, user=cast.uni_member)
        total = OutboxEvent.objects.count()
        refused = OutboxEvent.objects.filter(key=refused_key).count()
        assert 0 < refused < total
        relay_all(broker)
        process = consumer_process(broker, "audit", tmp_path, CONSUMER_MAX_RECORD_ATTEMPTS="3")

        assert wait_until(lambda: AuditEntry.objects.count() == total - refused, timeout=60)
        assert AuditEntry.objects.filter(aggregate_key=f"patent:{patents[2].pk}").exists(), "it went on"
        letters = [letter for _c, letter in dead_letters_read(topic="market.patents")]
        assert len(letters) == refused
        assert all("audit refuses" in letter.error and letter.consumer == "audit" for letter in letters)
        assert process.poll() is None, "the consumer keeps running"

        with connection.cursor() as cursor:
            cursor.execute(_FIX_SQL)
        out = io.StringIO()
        call_command("dead_letters", "replay", "--topic", "market.patents", stdout=out)
        assert f"replayed {refused} dead letters" in out.getvalue()
        assert wait_until(lambda: AuditEntry.objects.count() == total, timeout=30)
        assert AuditEntry.objects.filter(aggregate_key=refused_key).count() == refused
        process.send_signal(signal.SIGTERM)
        assert process.wait(20) == 0
    finally:
        if process is not None and process.poll() is None:
            process.kill()
        with connection.cursor() as cursor:
            cursor.execute(_FIX_SQL)


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

    spec = ConsumerSpec(name="flaky", topics=("market.patents",), steps=(decode, deduplicate(flaky)))
    with running(consumer_loop, broker, spec, retry_wait=lambda _n: 0.01):
        assert wait_until(lambda: len(handled) == total, timeout=30)
    assert len(set(handled)) == total


def test_a_handled_batch_is_committed_at_once_not_after_the_next_long_poll(cast, broker):
    total = _events(cast, 3)
    relay_all(broker)
    batches: list[list[int]] = []

    def record_batch(messages):
        batches.append([message.value.offset for message in messages])
        return messages

    spec = ConsumerSpec(
        name="batched", topics=("market.patents",), steps=(decode, run_task_in_thread(record_batch))
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
    # a static member id, as a pod name would be, so the restart takes its partitions back at once
    return consumer_process(broker, "audit", health_dir, CONSUMER_INSTANCE_ID="audit-0")


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


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def test_an_idle_consumer_backs_off_and_still_handles_a_new_record_within_the_bound(cast, broker, tmp_path):
    """The stand-in answers empty fetches at once: without the back-off an idle consumer busy-polls (~0.4 of
    a core). With CONSUMER_IDLE_BACKOFF_MS it sleeps between polls, and a record arriving meanwhile waits at
    most about that long."""
    _events(cast, 1)
    relay_all(broker)
    process = consumer_process(broker, "audit", tmp_path, CONSUMER_IDLE_BACKOFF_MS="250")
    try:
        assert wait_until(lambda: AuditEntry.objects.count() == 1, timeout=60)
        time.sleep(2)  # idle now: the back-off has grown to its bound
        before, started = _cpu_seconds(process.pid), time.monotonic()
        time.sleep(5)
        cores = (_cpu_seconds(process.pid) - before) / (time.monotonic() - started)
        assert cores < 0.05, f"an idle consumer used {cores:.2f} of a core"

        delays = []
        for _ in range(3):
            total = _events(cast, 1)
            relay_all(broker)
            sent = time.monotonic()
            assert wait_until(lambda t=total: AuditEntry.objects.count() == t, timeout=10, interval=0.01)
            delays.append(time.monotonic() - sent)
            time.sleep(1.5)  # idle again
        assert max(delays) < 0.8, f"a record waited {max(delays):.2f} s behind the back-off"
        process.send_signal(signal.SIGTERM)  # the back-off's wait is interrupted
        terminated = time.monotonic()
        assert process.wait(10) == 0 and time.monotonic() - terminated < 5
    finally:
        if process.poll() is None:
            process.kill()


def test_an_idle_backing_off_consumer_rejoins_after_the_broker_restarts(cast, broker, tmp_path):
    """Polls that do not block while idle must still let the consumer find the new coordinator and rejoin
    its group when the broker comes back. Under make run, after the supervisor killed a hung stand-in, the
    consumers stayed out of their groups for good; this setup did not reproduce that (it passed before the
    fix too), but guards the path: hang past the session timeout, kill, start again."""
    _events(cast, 1)
    relay_all(broker)
    process = consumer_process(broker, "audit", tmp_path, CONSUMER_IDLE_BACKOFF_MS="250")
    try:
        assert wait_until(lambda: AuditEntry.objects.count() == 1, timeout=60)
        time.sleep(2)  # idle: backing off
        # the broker hangs past the consumer's session timeout, then is killed and started again, as the
        # local supervisor does with a hung stand-in
        os.kill(broker.process.pid, signal.SIGSTOP)
        time.sleep(12)
        os.killpg(broker.process.pid, signal.SIGKILL)
        broker.process.wait(10)
        broker.process = None
        broker.start()
        total = _events(cast, 2)
        relay_all(broker)
        assert wait_until(lambda: AuditEntry.objects.count() == total, timeout=45, interval=0.1), (
            f"{AuditEntry.objects.count()} of {total} events recorded after the broker restart"
        )
        assert process.poll() is None
    finally:
        process.kill()
        process.wait(10)
