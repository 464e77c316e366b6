"""Outbox relay throughput against kafka-python producing the same messages directly, and the write-path
cost of the outbox (API creates per second with publication on vs. off), measured in the same run.

    .venv/bin/python bench/relay.py [--quick]

Goals (issue 3): relay >= 0.7x the raw producer; the outbox costs < 15% of API write throughput."""

import argparse
import logging
import os
from datetime import date
from typing import Any
from unittest import mock

from _harness import broker, report, scratch_database, timed


def _outbox_rows(count: int, topic: str) -> list:
    """Realistic rows: patent `published` events with a full public snapshot (~1 KB), 200 keys."""
    from market.events.catalogue import PatentPublished
    from market.events.models import OutboxEvent

    rows = []
    for number in range(count):
        snapshot = {
            "title": f"一种锂离子电池正极材料及其制备方法 {number}",
            "abstract": "本发明公开了一种" * 20,
            "ipc_codes": ["H01M 4/525", "H01M 10/0525"],
            "applicants": ["示范理工大学"],
            "filing_date": "2021-03-04",
            "legal_status": "granted",
            "id": number % 200,
            "version": number,
        }
        event = PatentPublished(
            aggregate_id=number % 200,
            version=number + 1,
            status="published",
            owner_org_id=1,
            snapshot=snapshot,
        )
        rows.append(
            OutboxEvent(
                type=event.type,
                topic=topic,
                key=event.key,
                source="/market/core",
                data=event.data(),
                aggregate_version=event.version,
            )
        )
    return rows


def relay_throughput(running, count: int) -> dict[str, float]:
    from market.events.models import OutboxEvent
    from market.events.relay import OutboxRelay, cloudevent_message, producer_build

    OutboxEvent.objects.bulk_create(_outbox_rows(count, "bench.relay"))
    relay = OutboxRelay(producer_factory=lambda: producer_build(running.kafka_bootstrap), batch_size=500)
    relay.producer.partitions_for("bench.relay")  # connect before timing, as a running relay is

    def drain() -> None:
        while relay.relay_batch():
            pass

    relay_seconds = timed(drain)
    relay.close()
    assert OutboxEvent.objects.filter(sent_at__isnull=True).count() == 0

    # baseline: the same messages (topic, key, value, CloudEvents headers), straight from kafka-python
    rows = [
        (str(row.id), row.type, "bench.raw", row.key, row.source, row.data, row.created_at)
        for row in OutboxEvent.objects.order_by("created_at", "id")
    ]
    messages = [cloudevent_message(row) for row in rows]
    producer = producer_build(running.kafka_bootstrap, client_id="bench-raw")

    def produce() -> None:
        for start in range(0, len(messages), 500):
            futures = [
                producer.send(topic, key=key, value=value, headers=headers)
                for topic, key, value, headers in messages[start : start + 500]
            ]
            producer.flush()
            for future in futures:
                future.get(timeout=30)

    raw_seconds = timed(produce)
    producer.close()
    return {
        "relay_events_per_s": round(count / relay_seconds),
        "raw_producer_msgs_per_s": round(count / raw_seconds),
        "relay_vs_raw": round(raw_seconds / relay_seconds, 3),
    }


def api_write_cost(count: int) -> dict[str, float]:
    """Create patents through the API in-process (no HTTP server noise), with and without the outbox write."""
    from rest_framework.test import APIClient

    from market.accounts.models import Organization, OrganizationStatus, User
    from market.catalog import services
    from market.common.validators import application_number_check_char
    from tests.factories import credit_code

    university = Organization.objects.create(
        name="基准大学",
        org_type="university",
        credit_code=credit_code(777001),
        province_code="330000",
        city_code="330100",
        county_code="330106",
        status=OrganizationStatus.APPROVED,
    )
    member = User.objects.create(username="bench", organization=university)
    client = APIClient()
    client.force_authenticate(member)
    serial = iter(range(1, 10**7))

    def create_many() -> None:
        for _ in range(count):
            body = f"2021{1}{next(serial):07d}"
            response = client.post(
                "/api/v1/patents/",
                {
                    "application_number": f"{body}.{application_number_check_char(body)}",
                    "title": "一种锂离子电池正极材料及其制备方法",
                    "abstract": "本发明公开了一种" * 20,
                    "filing_date": date(2021, 3, 4).isoformat(),
                    "ipc_codes": ["H01M 4/525"],
                },
                format="json",
            )
            assert response.status_code == 201, response.content

    create_many()  # warm-up: imports, caches, connections
    rounds: dict[str, list[float]] = {"on": [], "off": []}
    for _ in range(3):  # interleaved, so drift in machine load hits both sides alike
        rounds["on"].append(timed(create_many))
        with mock.patch.object(services, "publish", lambda event: None):
            rounds["off"].append(timed(create_many))
    on, off = min(rounds["on"]), min(rounds["off"])
    return {
        "api_creates_per_s_outbox_on": round(count / on, 1),
        "api_creates_per_s_outbox_off": round(count / off, 1),
        "outbox_write_cost": round(1 - off / on, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller run, under 60 s")
    args = parser.parse_args()
    events, creates = (3000, 100) if args.quick else (20000, 400)
    logging.disable(logging.WARNING)
    with scratch_database(f"bench_relay_{os.getpid()}"), broker() as running:
        figures: dict[str, Any] = {"events": events, "api_creates": creates}
        figures.update(relay_throughput(running, events))
        figures.update(api_write_cost(creates))
    figures["goal_relay_vs_raw_ge_0_7"] = figures["relay_vs_raw"] >= 0.7
    figures["goal_outbox_cost_lt_0_15"] = figures["outbox_write_cost"] < 0.15
    report("relay", figures)


if __name__ == "__main__":
    main()
