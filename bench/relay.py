"""Outbox relay throughput against kafka-python producing the same messages directly, and the write-path
cost of the outbox (API creates per second with publication on vs. off), measured in the same run.

    .venv/bin/python bench/relay.py [--quick]

Both comparisons run interleaved in short pairs (candidate, baseline, candidate, baseline, ...), so a drift in
machine load hits both sides alike; each figure is the median over the pairs, with their range beside it.

Goals (issue 11): relay >= 0.95x the raw producer; the outbox costs <= 5% of API write throughput."""

import argparse
import logging
import os
import statistics
from datetime import date
from typing import Any
from unittest import mock

from _harness import broker, report, scratch_database, timed


def _outbox_rows(count: int, topic: str) -> list:
    """Realistic rows: patent `published` events with a full public snapshot (~1 KB), 200 keys."""
    from market.catalog.snapshots import OwnerSnapshot, PatentSnapshot
    from market.events.catalogue import PatentPublished
    from market.events.models import OutboxEvent

    owner = OwnerSnapshot(
        id=1,
        name="示范理工大学",
        org_type="university",
        province_code="330000",
        city_code="330100",
        county_code="330106",
    )
    rows = []
    for number in range(count):
        snapshot = PatentSnapshot(
            id=number % 200,
            version=number + 1,
            owner=owner,
            created_at="2026-11-01T09:00:00+00:00",
            updated_at="2026-11-01T09:00:00+00:00",
            status="published",
            published_at="2026-11-01T09:00:00+00:00",
            synthetic_fields=[],
            application_number="CN202110238475.1",
            publication_number=None,
            patent_type="invention",
            title=f"一种锂离子电池正极材料及其制备方法 {number}",
            abstract="本发明公开了一种" * 20,
            claims_summary="",
            ipc_codes=["H01M 4/525", "H01M 10/0525"],
            applicants=["示范理工大学"],
            inventors=[],
            filing_date="2021-03-04",
            publication_date=None,
            grant_date=None,
            legal_status="granted",
            expiry_date="2041-03-04",
            field="电化学",
            price=None,
        )
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


def _spread(pairs: list[float]) -> dict[str, float]:
    """The median of the per-pair figures and their range (min, max): two runs should agree on the median."""
    return {
        "median": round(statistics.median(pairs), 3),
        "min": round(min(pairs), 3),
        "max": round(max(pairs), 3),
    }


def relay_throughput(running, count: int, repeats: int) -> dict[str, Any]:
    """Relay and raw producer interleaved (relay, raw, relay, raw, ...), fresh outbox rows each round; the
    ratio is taken per pair, then its median."""
    from market.events.models import OutboxEvent
    from market.events.relay import OutboxRelay, cloudevent_message, producer_build

    relay = OutboxRelay(producer_factory=lambda: producer_build(running.kafka_bootstrap), batch_size=500)
    producer = producer_build(running.kafka_bootstrap, client_id="bench-raw")

    def relay_round(size: int) -> tuple[float, list]:
        OutboxEvent.objects.all().delete()
        OutboxEvent.objects.bulk_create(_outbox_rows(size, "bench.relay"))

        def drain() -> None:
            while relay.relay_batch():
                pass

        seconds = timed(drain)
        assert OutboxEvent.objects.filter(sent_at__isnull=True).count() == 0
        # the same messages (topic, key, value, CloudEvents headers) for the raw producer
        rows = [
            (str(row.id), row.type, "bench.raw", row.key, row.source, row.data, row.created_at)
            for row in OutboxEvent.objects.order_by("sequence")
        ]
        return seconds, [cloudevent_message(row) for row in rows]

    def raw_round(messages: list) -> float:
        def produce() -> None:
            for start in range(0, len(messages), 500):
                futures = [
                    producer.send(topic, key=key, value=value, headers=headers)
                    for topic, key, value, headers in messages[start : start + 500]
                ]
                producer.flush()
                for future in futures:
                    future.get(timeout=30)

        return timed(produce)

    raw_round(relay_round(count)[1])  # warm-up: connections, topics, metadata, caches
    relay_seconds, raw_seconds = [], []
    for _ in range(repeats):
        seconds, messages = relay_round(count)
        relay_seconds.append(seconds)
        raw_seconds.append(raw_round(messages))
    relay.close()
    producer.close()
    ratios = _spread([raw / relayed for raw, relayed in zip(raw_seconds, relay_seconds, strict=True)])
    return {
        "relay_events_per_s": round(count / statistics.median(relay_seconds)),
        "raw_producer_msgs_per_s": round(count / statistics.median(raw_seconds)),
        "relay_vs_raw": ratios["median"],
        "relay_vs_raw_range": [ratios["min"], ratios["max"]],
    }


def api_write_cost(count: int, repeats: int) -> dict[str, Any]:
    """Create patents through the API in-process (no HTTP server noise), with and without the outbox write,
    interleaved (on, off, on, off, ...); the cost is taken per pair, then its median."""
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
    on_seconds, off_seconds = [], []
    for _ in range(repeats):
        on_seconds.append(timed(create_many))
        with mock.patch.object(services, "publish", lambda event: None):
            off_seconds.append(timed(create_many))
    costs = _spread([1 - off / on for on, off in zip(on_seconds, off_seconds, strict=True)])
    return {
        "api_creates_per_s_outbox_on": round(count / statistics.median(on_seconds), 1),
        "api_creates_per_s_outbox_off": round(count / statistics.median(off_seconds), 1),
        "outbox_write_cost": costs["median"],
        "outbox_write_cost_range": [costs["min"], costs["max"]],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller run, under 60 s")
    args = parser.parse_args()
    # (events per round, relay/raw pairs, API creates per round, on/off pairs): rounds long enough (a few
    # hundred ms) that a scheduling hiccup is a small part of one, and enough pairs for a steady median
    events, relay_pairs, creates, write_pairs = (2000, 11, 30, 11) if args.quick else (5000, 25, 60, 21)
    logging.disable(logging.WARNING)
    with scratch_database(f"bench_relay_{os.getpid()}"), broker() as running:
        figures: dict[str, Any] = {
            "events": events,
            "relay_pairs": relay_pairs,
            "api_creates": creates,
            "write_pairs": write_pairs,
        }
        figures.update(relay_throughput(running, events, relay_pairs))
        figures.update(api_write_cost(creates, write_pairs))
    figures["goal_relay_vs_raw_ge_0_95"] = figures["relay_vs_raw"] >= 0.95
    figures["goal_outbox_cost_le_0_05"] = figures["outbox_write_cost"] <= 0.05
    report("relay", figures)


if __name__ == "__main__":
    main()
