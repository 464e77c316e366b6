"""Reading and re-publishing dead letters: after a fix, put them back on their original topic."""

from collections.abc import Iterator
from dataclasses import dataclass

from django.conf import settings
from kafka import KafkaConsumer, KafkaProducer
from kafka.structs import OffsetAndMetadata, TopicPartition

from services.common.consumer import DLQ_SUFFIX


@dataclass(frozen=True)
class DeadLetter:
    dlq_topic: str
    dlq_partition: int
    dlq_offset: int
    original_topic: str
    original_partition: int
    original_offset: int
    consumer: str
    error: str
    key: bytes | None
    value: bytes
    headers: list[tuple[str, bytes]]


def _header(headers: list[tuple[str, bytes]], name: str) -> str:
    return next((value.decode(errors="replace") for key, value in headers if key == name), "")


def dead_letters_read(
    *,
    topic: str,
    group_id: str | None = None,
    timeout_ms: int = 2000,
    bootstrap_servers: list[str] | str | None = None,
) -> Iterator[tuple[KafkaConsumer, DeadLetter]]:
    """Dead letters of `topic`: all of them (group_id None), or those a replay group has not yet taken."""
    consumer = KafkaConsumer(
        topic + DLQ_SUFFIX,
        bootstrap_servers=bootstrap_servers or settings.KAFKA_BOOTSTRAP_SERVERS,
        group_id=group_id,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        consumer_timeout_ms=timeout_ms,
    )
    try:
        for record in consumer:
            headers = list(record.headers or [])
            yield (
                consumer,
                DeadLetter(
                    dlq_topic=record.topic,
                    dlq_partition=record.partition,
                    dlq_offset=record.offset,
                    original_topic=_header(headers, "dlq_original_topic"),
                    original_partition=int(_header(headers, "dlq_original_partition") or -1),
                    original_offset=int(_header(headers, "dlq_original_offset") or -1),
                    consumer=_header(headers, "dlq_consumer"),
                    error=_header(headers, "dlq_error"),
                    key=record.key,
                    value=record.value,
                    headers=headers,
                ),
            )
    finally:
        consumer.close(autocommit=False)


def dead_letters_replay(*, topic: str, bootstrap_servers: list[str] | str | None = None) -> int:
    """Re-publish every not-yet-replayed dead letter of `topic` to its original topic (dlq_* headers dropped).
    The replay group's offsets remember what was replayed, so running it twice sends nothing twice."""
    servers = bootstrap_servers or settings.KAFKA_BOOTSTRAP_SERVERS
    producer = KafkaProducer(bootstrap_servers=servers, acks="all", enable_idempotence=True)
    replayed = 0
    try:
        for consumer, letter in dead_letters_read(
            topic=topic, group_id="market.dlq-replay", bootstrap_servers=servers
        ):
            headers = [(name, value) for name, value in letter.headers if not name.startswith("dlq_")]
            producer.send(
                letter.original_topic or topic, key=letter.key, value=letter.value, headers=headers
            ).get(timeout=30)
            consumer.commit(
                {
                    TopicPartition(letter.dlq_topic, letter.dlq_partition): OffsetAndMetadata(
                        letter.dlq_offset + 1, "", -1
                    )
                }
            )
            replayed += 1
    finally:
        producer.close(timeout=5)
    return replayed
