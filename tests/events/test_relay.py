"""The outbox relay against the real broker: every event arrives as a valid CloudEvent, in per-key order,
exactly once, also across a broker outage and with several relays at once."""

import io
import json
import time
import uuid
from collections import defaultdict
from datetime import UTC, datetime, timedelta

import orjson
import pytest
from cloudevents.v1.http import CloudEvent
from cloudevents.v1.kafka import KafkaMessage, from_binary, to_binary
from django.core.management import call_command
from django.utils import timezone
from jsonschema import Draft202012Validator
from prometheus_client import REGISTRY

from market.events.catalogue import EVENT_TYPES
from market.events.models import OutboxEvent
from market.events.relay import OutboxRelay, cloudevent_message, producer_build, set_aside_rows
from market.events.schemas import stored_snapshots
from services.audit.consumer import SPEC as AUDIT
from services.audit.models import AuditEntry
from tests import factories
from tests.events.kit import ALL_TOPICS, consumer_loop, read_topics, relay_all, relay_loop, running, unsent
from tests.waiting import wait_until

pytestmark = pytest.mark.django_db(transaction=True)

PATENT = {"title": "一种锂离子电池负极材料", "filing_date": "2021-03-04", "ipc_codes": ["H01M 4/583"]}


def _scenario(cast, api) -> None:
    """A bit of everything: organization registration and review, listings through their workflow, NDA."""
    anonymous, member, reviewer = api(None), api(cast.uni_member), api(cast.platform_admin)
    registered = anonymous.post(
        "/api/v1/orgs/",
        {
            "name": "新大学",
            "org_type": "university",
            "credit_code": factories.credit_code(990001),
            "county_code": "330106",
            "admin_username": "new_admin",
            "admin_password": "Long-enough-pass-42",
        },
        format="json",
    )
    assert registered.status_code == 201, registered.json()
    assert reviewer.post(f"/api/v1/review/orgs/{registered.json()['id']}/approve/").status_code == 200
    patent = member.post(
        "/api/v1/patents/",
        {**PATENT, "application_number": factories.application_number(4242)},
        format="json",
    ).json()
    assert (
        member.patch(f"/api/v1/patents/{patent['id']}/", {"abstract": "摘要"}, format="json").status_code
        == 200
    )
    assert member.post(f"/api/v1/patents/{patent['id']}/submit/").status_code == 200
    assert (
        reviewer.post(
            f"/api/v1/review/patents/{patent['id']}/reject/", {"reason": "缺少摘要细节"}, format="json"
        ).status_code
        == 200
    )
    assert member.post(f"/api/v1/patents/{patent['id']}/submit/").status_code == 200
    assert reviewer.post(f"/api/v1/review/patents/{patent['id']}/approve/").status_code == 200
    assert member.post(f"/api/v1/patents/{patent['id']}/withdraw/").status_code == 200
    achievement = factories.achievement(cast.university)
    assert api(cast.ent_member).post(f"/api/v1/achievements/{achievement.pk}/nda/").status_code == 200
    demand = (
        api(cast.ent_member)
        .post(
            "/api/v1/demands/",
            {
                "title": "储能热管理",
                "description": "需要液冷方案",
                "field": "电学",
                "collaboration_mode": "service",
                "is_anonymous": True,
            },
            format="json",
        )
        .json()
    )
    assert api(cast.ent_member).post(f"/api/v1/demands/{demand['id']}/submit/").status_code == 200
    assert reviewer.post(f"/api/v1/review/demands/{demand['id']}/approve/").status_code == 200
    assert api(cast.ent_member).post(f"/api/v1/demands/{demand['id']}/close/").status_code == 200
    assert (
        api(cast.uni_admin)
        .post("/api/v1/experts/", {"name": "李教授", "fields": ["储能"]}, format="json")
        .status_code
        == 201
    )


def test_every_event_of_a_scenario_arrives_as_a_valid_cloudevent(cast, api, broker):
    _scenario(cast, api)
    produced = {str(row.id): row for row in OutboxEvent.objects.all()}
    assert len(produced) >= 15

    assert relay_all(broker) == len(produced)
    assert unsent() == 0
    records = read_topics(broker, ALL_TOPICS, expected=len(produced))

    assert len(records) == len(produced)
    seen = set()
    titles_in_utf8 = 0
    for record in records:
        # Chinese text travels as UTF-8, not as \u escapes (six bytes per character)
        title = (produced[dict(record.headers)["ce_id"].decode()].data.get("snapshot") or {}).get("title")
        if title and not title.isascii():
            assert title.encode() in record.value and b"\\u" not in record.value
            titles_in_utf8 += 1
        event = from_binary(
            KafkaMessage(dict(record.headers), record.key, record.value), data_unmarshaller=json.loads
        )
        assert event["specversion"] == "1.0"
        assert event["datacontenttype"] == "application/json"
        row = produced[event["id"]]
        assert (event["type"], event["source"], record.topic, record.key.decode()) == (
            row.type,
            "/market/core",
            row.topic,
            row.key,
        )
        assert datetime.fromisoformat(event["time"]) == row.created_at
        assert event.get_data() == row.data
        for snapshot in stored_snapshots(event["type"]):
            Draft202012Validator(snapshot).validate(event.get_data())
        seen.add(event["id"])
    assert seen == set(produced)
    assert titles_in_utf8 >= 5
    assert {row.type for row in produced.values()} >= {
        "market.organization.registered.v1",
        "market.organization.reviewed.v1",
        "market.patent.created.v1",
        "market.patent.updated.v1",
        "market.patent.submitted.v1",
        "market.patent.rejected.v1",
        "market.patent.published.v1",
        "market.patent.withdrawn.v1",
        "market.achievement.nda_accepted.v1",
        "market.demand.created.v1",
        "market.demand.closed.v1",
        "market.expert.created.v1",
    }
    assert {row.type for row in produced.values()} <= set(EVENT_TYPES)


def _versions_by_key(records) -> dict[str, list[int]]:
    versions: dict[str, list[int]] = defaultdict(list)
    for record in sorted(records, key=lambda r: (r.topic, r.partition, r.offset)):
        versions[record.key.decode()].append(json.loads(record.value)["version"])
    return versions


def test_broker_outage_during_500_api_writes_loses_and_duplicates_nothing(cast, api, broker):
    """Relay and audit consumer run throughout; the broker is down while 500 writes go through the API."""
    member = api(cast.uni_member)
    with running(relay_loop, broker), running(consumer_loop, broker, AUDIT) as (_stop, consumer):
        patents = [
            member.post(
                "/api/v1/patents/",
                {**PATENT, "application_number": factories.application_number(n)},
                format="json",
            ).json()["id"]
            for n in range(1, 6)
        ]
        assert wait_until(lambda: AuditEntry.objects.count() == 5, timeout=30)

        broker.stop()
        for round_number in range(100):
            for patent_id in patents:
                response = member.patch(
                    f"/api/v1/patents/{patent_id}/", {"abstract": f"第{round_number}版"}, format="json"
                )
                assert response.status_code == 200
        assert unsent() == 500, "nothing can be relayed while the broker is down"
        broker.start()

        total = OutboxEvent.objects.count()
        assert wait_until(lambda: AuditEntry.objects.count() >= total, timeout=120), (
            f"{AuditEntry.objects.count()} of {total} events arrived"
        )
        assert "error" not in consumer
    entries = list(AuditEntry.objects.order_by("id"))
    assert len(entries) == total == 505
    assert len({entry.event_id for entry in entries}) == total
    for patent_id in patents:
        versions = [e.aggregate_version for e in entries if e.aggregate_key == f"patent:{patent_id}"]
        assert versions == list(range(1, 102)), "a key's events arrive once each, in order"


def test_several_relays_share_the_outbox_without_duplicates_or_reordering(cast, broker):
    patents = [factories.patent(cast.university) for _ in range(20)]
    from market.catalog import services

    for round_number in range(15):
        for patent in patents:
            services.patent_update(
                patent=patent.__class__.objects.get(pk=patent.pk),
                user=cast.uni_member,
                abstract=f"r{round_number}",
            ) if patent.status == "draft" else None
    for patent in patents:  # published listings are not editable: withdraw, then edit repeatedly
        services.listing_withdraw(listing=patent, user=cast.uni_member)
    for round_number in range(15):
        for patent in patents:
            services.patent_update(patent=patent, user=cast.uni_member, abstract=f"r{round_number}")
    total = OutboxEvent.objects.count()
    assert total == 20 * 16

    with running(relay_loop, broker), running(relay_loop, broker), running(relay_loop, broker):
        assert _wait_for_outbox_drained(timeout=60)
    records = read_topics(broker, ["market.patents"], expected=total)
    assert len(records) == total
    for key, versions in _versions_by_key(records).items():
        assert versions == sorted(versions) and len(set(versions)) == len(versions), key


def _wait_for_outbox_drained(timeout: float) -> bool:
    return wait_until(lambda: unsent() == 0, timeout=timeout)


def test_delivered_rows_are_purged_after_retention_and_lag_is_measured(cast, broker):
    factories.patent(cast.university)
    from market.catalog import services

    services.listing_withdraw(listing=factories.patent(cast.university), user=cast.uni_member)
    relay = OutboxRelay()
    count, age = relay.measure_lag()
    assert count == 1 and age >= 0
    assert relay_all(broker) == 1
    assert relay.measure_lag() == (0, 0.0)
    assert relay.purge(retention_seconds=3600) == 0, "recent rows are kept"
    assert relay.purge(retention_seconds=0) == 1
    assert OutboxEvent.objects.count() == 0


def test_an_idle_relay_wakes_on_the_commit_of_an_event_not_on_its_polling_timer(cast, broker):
    """The insert trigger's notification reaches the listening relay when the writing transaction commits;
    nothing is notified for a rolled-back one."""
    from django.db import transaction

    from market.catalog import services

    listing = factories.patent(cast.university)

    def relay_slowly(*, stop) -> None:  # a fallback poll far longer than the wait below
        OutboxRelay(producer_factory=lambda: producer_build(broker.kafka_bootstrap)).run(
            stop=stop, idle_sleep=30.0
        )

    with running(relay_slowly) as (_stop, outcome):
        assert _wait_for_outbox_drained(timeout=10) and "error" not in outcome
        time.sleep(0.5)  # the relay is now waiting on its listener
        with transaction.atomic():
            services.listing_withdraw(listing=listing, user=cast.uni_member)
        committed = time.monotonic()
        assert _wait_for_outbox_drained(timeout=5)
        assert time.monotonic() - committed < 5
        assert OutboxEvent.objects.filter(type="market.patent.withdrawn.v1", sent_at__isnull=False).exists()


def _row(key: str, **data) -> OutboxEvent:
    return OutboxEvent.objects.create(
        type="market.patent.updated.v1",
        topic="market.patents",
        key=key,
        source="/market/core",
        data={"aggregate": "patent", **data},
        aggregate_version=1,
    )


def test_a_row_too_large_for_the_broker_is_set_aside_and_the_rest_flow(broker):
    """The producer's limit (max_request_size) stands in for the broker's message.max.bytes."""
    first = _row("patent:1", n=1)
    too_large = _row("patent:2", n=1, blob="专利" * 20_000)
    held = _row("patent:2", n=2)  # same key, after the set-aside row: waits behind it (per-key order)
    other = _row("patent:3", n=1)

    def relay_small_limit(*, stop) -> None:
        OutboxRelay(
            producer_factory=lambda: producer_build(broker.kafka_bootstrap, max_request_size=20_000),
            batch_size=100,
        ).run(stop=stop, idle_sleep=0.05, housekeeping_every=0.2)

    with running(relay_small_limit) as (_stop, outcome):
        assert wait_until(lambda: OutboxEvent.objects.filter(set_aside_at__isnull=False).exists(), timeout=15)
        assert wait_until(lambda: unsent() == 2, timeout=15)
        set_aside = OutboxEvent.objects.get(set_aside_at__isnull=False)
        assert set_aside.id == too_large.id and set_aside.sent_at is None
        assert set_aside.set_aside_reason.startswith("MessageSizeTooLargeError")
        assert OutboxEvent.objects.get(id=held.id).sent_at is None
        assert wait_until(lambda: REGISTRY.get_sample_value("outbox_set_aside_events") == 1, timeout=5)

        later = _row("patent:4", n=1)  # the relay keeps running
        assert wait_until(lambda: OutboxEvent.objects.get(id=later.id).sent_at is not None, timeout=10)

        out = io.StringIO()
        call_command("outbox_set_aside", "list", stdout=out)
        assert f"{too_large.id}" in out.getvalue() and "1 later events of its key held" in out.getvalue()
        call_command("outbox_set_aside", "retry", "--all", stdout=io.StringIO())  # still too large
        assert wait_until(lambda: OutboxEvent.objects.filter(set_aside_at__isnull=False).exists(), timeout=10)
        call_command("outbox_set_aside", "discard", str(too_large.id), stdout=io.StringIO())
        assert wait_until(lambda: unsent() == 0, timeout=10), (
            "the held row goes once the blocker is discarded"
        )
        assert wait_until(lambda: REGISTRY.get_sample_value("outbox_set_aside_events") == 0, timeout=5)
        assert "error" not in outcome

    records = read_topics(broker, ["market.patents"], expected=4)
    assert [dict(record.headers)["ce_id"].decode() for record in records] == [
        str(row.id) for row in (first, other, later, held)
    ]


def _clock_runs_backwards(rows: list[OutboxEvent]) -> None:
    """Each row's `created_at` an hour before the previous one's: web processes whose clocks disagree."""
    start = timezone.now()
    for position, row in enumerate(rows):
        OutboxEvent.objects.filter(id=row.id).update(created_at=start - timedelta(hours=position))


def test_a_keys_events_are_relayed_in_sequence_order_whatever_the_writers_clocks_say(cast, broker):
    """Several transactions edit one listing (each under the listing's row lock); their rows' clocks run
    backwards, yet the relay publishes them in the order the database numbered them, which is commit order."""
    from market.catalog import services

    listings = [factories.patent(cast.university), factories.patent(cast.university)]
    for listing in listings:
        services.listing_withdraw(listing=listing, user=cast.uni_member)
    for round_number in range(5):
        for listing in listings:
            services.patent_update(
                patent=listing, user=cast.uni_member, data={"abstract": f"第{round_number}版"}
            )
    rows = list(OutboxEvent.objects.order_by("sequence"))
    written = {
        f"patent:{listing.pk}": [row.aggregate_version for row in rows if row.key == f"patent:{listing.pk}"]
        for listing in listings
    }
    for versions in written.values():
        assert len(versions) == 6 and versions == sorted(versions)
    _clock_runs_backwards(rows)

    assert relay_all(broker) == len(rows)
    assert _versions_by_key(read_topics(broker, ["market.patents"], expected=len(rows))) == written


def test_rows_are_held_behind_a_set_aside_row_by_sequence_not_by_clock(broker):
    too_large = _row("patent:2", n=1, blob="专利" * 20_000)
    held = _row("patent:2", n=2)
    _clock_runs_backwards([too_large, held])  # the held row claims to be older than its blocker
    relay = OutboxRelay(
        producer_factory=lambda: producer_build(broker.kafka_bootstrap, max_request_size=20_000)
    )
    try:
        assert relay.relay_batch() == 2 and relay.relay_batch() == 0, "the held row is claimed, not sent"
        assert list(set_aside_rows()) == [too_large] and unsent() == 2

        out = io.StringIO()
        call_command("outbox_set_aside", "list", stdout=out)
        assert "1 later events of its key held" in out.getvalue()
        call_command("outbox_set_aside", "discard", str(too_large.id), stdout=io.StringIO())
        assert relay.relay_batch() == 1 and unsent() == 0
    finally:
        relay.close()
    records = read_topics(broker, ["market.patents"], expected=1)
    assert [dict(record.headers)["ce_id"].decode() for record in records] == [str(held.id)]


def test_a_message_carries_the_headers_and_value_the_cloudevents_sdk_writes():
    """The relay builds the binary-mode message itself (hot path); the SDK's `to_binary` is the reference."""
    row = (
        uuid.uuid4(),
        "market.patent.updated.v1",
        "market.patents",
        "patent:7",
        "/market/core",
        {"aggregate": "patent", "title": "一种锂离子电池"},
        timezone.now(),
    )
    expected = to_binary(
        CloudEvent.create(
            {
                "id": str(row[0]),
                "source": row[4],
                "type": row[1],
                "time": row[6].isoformat(),
                "specversion": "1.0",
                "datacontenttype": "application/json",
                "partitionkey": row[3],
            },
            row[5],
        ),
        data_marshaller=orjson.dumps,
    )
    topic, key, value, headers = cloudevent_message(row)
    assert (topic, key, value, headers) == (
        "market.patents",
        expected.key.encode(),
        expected.value,
        list(expected.headers.items()),
    )
    assert cloudevent_message((*row[:5], orjson.dumps(row[5]).decode(), row[6])) == (
        topic,
        key,
        value,
        headers,
    )


def test_the_cloudevent_time_is_the_rows_creation_time_as_python_writes_it(broker):
    """The claim reads the time as text from PostgreSQL; it must be exactly what `isoformat()` of the row's
    timestamp gives, with and without a fraction of a second, whatever the session's time zone."""
    times = [
        datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC),
        datetime(2026, 3, 4, 5, 6, 7, 120, tzinfo=UTC),
        datetime(2026, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
    ]
    for number, created_at in enumerate(times):
        row = OutboxEvent.objects.create(
            type="market.patent.published.v1",
            topic="market.patents",
            key=f"patent:{900 + number}",
            source="/market/core",
            data={"aggregate": "patent"},
            aggregate_version=1,
        )
        OutboxEvent.objects.filter(pk=row.pk).update(created_at=created_at)
    assert relay_all(broker) == len(times)
    sent = {
        dict(record.headers)["ce_time"].decode()
        for record in read_topics(broker, ["market.patents"], expected=len(times))
    }
    assert sent == {created_at.isoformat() for created_at in times}
