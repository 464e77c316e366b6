"""The reconciler against the real broker: records deleted behind the consumers' backs (Kafka DeleteRecords)
are found by comparing the outbox with the audit log, sent again, and reach the audit log."""

import io

import pytest
from django.core.management import call_command
from kafka import KafkaAdminClient, KafkaConsumer
from kafka.structs import OffsetAndMetadata, TopicPartition
from prometheus_client import REGISTRY

from market.catalog import services
from market.events.models import OutboxEvent
from services.audit.consumer import SPEC as AUDIT
from services.audit.models import AuditEntry
from services.audit.tasks import outbox_reconcile_task
from tests import factories
from tests.events.kit import consumer_loop, read_topics, relay_all, running
from tests.waiting import wait_until

pytestmark = pytest.mark.django_db(transaction=True)
LOST_PER_PARTITION = 3


def _withdrawals(cast, count: int) -> int:
    for _ in range(count):
        services.listing_withdraw(listing=factories.patent(cast.university), user=cast.uni_member)
    return OutboxEvent.objects.count()


def _end_offsets(broker) -> dict[TopicPartition, int]:
    consumer = KafkaConsumer(bootstrap_servers=broker.kafka_bootstrap)
    try:
        partitions = [
            TopicPartition("market.patents", p) for p in consumer.partitions_for_topic("market.patents")
        ]
        return consumer.end_offsets(partitions)
    finally:
        consumer.close()


def _reconcile(*options: str) -> str:
    out = io.StringIO()
    call_command("outbox_reconcile", *options, stdout=out)
    return out.getvalue()


def test_records_the_broker_lost_are_found_resent_and_reach_the_audit_log(cast, broker, settings):
    recorded = _withdrawals(cast, 3)
    relay_all(broker)
    with running(consumer_loop, broker, AUDIT):
        assert wait_until(lambda: AuditEntry.objects.count() == recorded, timeout=30)
    before = _end_offsets(broker)

    # while the audit consumer is away, more events go out, and the broker then loses the first of them
    total = _withdrawals(cast, 5)
    relay_all(broker)
    after = _end_offsets(broker)
    lost_positions = {
        (partition.partition, offset)
        for partition, start in before.items()
        for offset in range(start, min(start + LOST_PER_PARTITION, after[partition]))
    }
    lost_ids = {
        dict(record.headers)["ce_id"].decode()
        for record in read_topics(broker, ["market.patents"], expected=total)
        if (record.partition, record.offset) in lost_positions
    }
    assert len(lost_ids) == len(lost_positions) > 0
    admin = KafkaAdminClient(bootstrap_servers=broker.kafka_bootstrap)
    admin.delete_records({partition: before[partition] + LOST_PER_PARTITION for partition in before})
    admin.close()

    assert "checked 0 sent events, 0 missing" in _reconcile(), "within the grace period nothing is lost yet"
    with running(consumer_loop, broker, AUDIT):
        # the audit consumer's committed offsets now lie below the log start: it resumes at the log start
        assert wait_until(lambda: AuditEntry.objects.count() == total - len(lost_ids), timeout=30)
        assert _reconcile("--grace-seconds", "0", "--dry-run") == (
            f"checked {total} sent events, {len(lost_ids)} missing from the audit log, "
            "0 queued for the relay again\n"
        )
        assert _reconcile("--grace-seconds", "0") == (
            f"checked {total} sent events, {len(lost_ids)} missing from the audit log, "
            f"{len(lost_ids)} queued for the relay again\n"
        )
        assert {
            str(event_id)
            for event_id in OutboxEvent.objects.filter(sent_at__isnull=True).values_list("id", flat=True)
        } == lost_ids
        assert REGISTRY.get_sample_value("outbox_reconcile_missing_events") == len(lost_ids)
        assert relay_all(broker) == len(lost_ids)
        assert wait_until(lambda: AuditEntry.objects.count() == total, timeout=30)
    assert set(AuditEntry.objects.values_list("event_id", flat=True)) == {
        str(event_id) for event_id in OutboxEvent.objects.values_list("id", flat=True)
    }
    settings.OUTBOX_RECONCILE_GRACE_SECONDS = 0
    outbox_reconcile_task()  # the periodic task: nothing is missing any more
    assert REGISTRY.get_sample_value("outbox_reconcile_missing_events") == 0
    assert settings.CELERY_BEAT_SCHEDULE["audit-outbox-reconcile"]["task"] == "audit.outbox_reconcile"


def test_a_consumer_whose_committed_offset_the_broker_gave_to_new_events_does_not_skip_them(cast, broker):
    """The incident: the broker lost its last records and gave their offsets to new events; the audit
    consumer's committed offset (with the lost event's id as metadata) now points into the new events."""
    _withdrawals(cast, 1)
    relay_all(broker)
    group = KafkaConsumer(
        bootstrap_servers=broker.kafka_bootstrap, group_id="market.audit", enable_auto_commit=False
    )
    ends = _end_offsets(broker)
    group.commit({p: OffsetAndMetadata(end + 3, "an-event-the-broker-lost", -1) for p, end in ends.items()})
    group.close()
    total = _withdrawals(cast, 4)
    relay_all(broker)
    refilled = _end_offsets(broker)
    assert all(refilled[partition] > end + 3 for partition, end in ends.items()), "the log passed the commit"

    def rewinds() -> float:
        return REGISTRY.get_sample_value("consumer_rewinds_total", {"consumer": "audit"}) or 0

    before = rewinds()
    with running(consumer_loop, broker, AUDIT):
        assert wait_until(lambda: AuditEntry.objects.count() == total, timeout=30)
    assert rewinds() == before + len(ends)
    # an ordinary restart resumes where it left off: the log under its commit is what it handled
    total = _withdrawals(cast, 1)
    relay_all(broker)
    with running(consumer_loop, broker, AUDIT):
        assert wait_until(lambda: AuditEntry.objects.count() == total, timeout=30)
    assert rewinds() == before + len(ends)
