"""Search service benchmark, every figure against a baseline measured in the same run:

- indexer throughput (Kafka → `run_consumer search`'s steps, its bulk step pipelined → Elasticsearch) vs. the
  official client's `helpers.bulk` of the same documents (goal >= 0.9x at 100,000 documents, >= 0.8x in
  `--quick`);
- end-to-end freshness from an API write (a reviewer approves a patent) to visible in /api/v1/search/, at
  50 writes/s, with the relay and the indexer as processes (p50, p99; goal: p99 <= refresh interval + 0.5 s),
  split into its stages: outbox to Kafka (the relay), and visible to a bare engine query (relay, indexer and
  the engine's refresh, without the API's full query); on the small index, once the large one is deleted
  (on the stand-in, a large index stalls the engine every few seconds: see main);
- /api/v1/search/ latency vs. the same query body sent straight to the engine (goal <= 1.3x), on a small index
  (where our own overhead shows) and on the large one (where, on the stand-in, the engine dominates).

The documents are the real sample data (8,766 patents, 1,000 achievements) scaled up by deterministic
variation: copy k of a record gets a new id, a qualifier in front of its title, another region, price and
publication day.

    .venv/bin/python bench/search.py [--quick] [--documents N] [--idle-backoff-ms N]"""

import argparse
import contextlib
import logging
import math
import os
import statistics
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from _harness import broker, manage_processes, percentile, report, scratch_database, timed

QUALIFIERS = ("改进型", "低成本", "高效", "便携式", "智能化", "模块化", "节能型", "高精度", "一体化")
PROVINCES = ("110000", "310000", "320000", "330000", "370000", "440000", "510000", "420000")
QUERIES = (
    {"q": "锂离子电池"},
    {"q": "电池", "type": "patent"},
    {"q": "传感器", "sort": "newest"},
    {"q": "图像识别方法"},
    {"q": "控制系统", "ipc": "G05B"},
    {"q": "土壤", "type": "achievement", "trl_min": "4"},
    {"q": "高效", "sort": "price"},
    {"q": "neural network"},
)


@contextlib.contextmanager
def _quiet(**_kwargs: Any):
    class Bar:
        def update(self, _count: int) -> None:
            pass

    yield Bar()


def real_events(limit: int | None = None) -> list[tuple[str, dict[str, Any]]]:
    """The seeder's own `published` events for the real sample, or its first `limit` patents and
    achievements (rows rolled back afterwards)."""
    from django.conf import settings
    from django.db import transaction

    from market.demo.seeding import market_seed
    from market.events.models import OutboxEvent

    class Rollback(Exception):
        pass

    events: list[tuple[str, dict[str, Any]]] = []
    with contextlib.suppress(Rollback), transaction.atomic():
        market_seed(data_dir=settings.MARKET_SAMPLE_DATA_DIR, progress=_quiet, limit=limit)
        events = list(OutboxEvent.objects.order_by("created_at", "id").values_list("type", "data"))
        raise Rollback
    return [(kind, data) for kind, data in events if ".published." in kind or ".created." in kind]


def scaled(events: list[tuple[str, dict[str, Any]]], count: int) -> list[tuple[str, dict[str, Any]]]:
    """`count` events: the real ones, then deterministic variants of them."""
    out = []
    for number in range(count):
        kind, data = events[number % len(events)]
        copy = number // len(events)
        if copy == 0:
            out.append((kind, data))
            continue
        snapshot = dict(data["snapshot"])
        title_key = "name" if "achievement" in kind or "expert" in kind else "title"
        snapshot[title_key] = QUALIFIERS[copy % len(QUALIFIERS)] + snapshot[title_key]
        snapshot["id"] = data["aggregate_id"] + copy * 1_000_000
        owner = dict(snapshot.get("owner") or {})
        province = PROVINCES[(number + copy) % len(PROVINCES)]
        owner.update(
            province_code=province, city_code=province[:2] + "0100", county_code=province[:2] + "0102"
        )
        snapshot["owner"] = owner
        if snapshot.get("price"):
            snapshot["price"] = str(round(float(snapshot["price"]) * (1 + (copy % 7) / 10), 2))
        if snapshot.get("published_at"):
            day = datetime.fromisoformat(snapshot["published_at"]) - timedelta(days=copy % 365)
            snapshot["published_at"] = day.isoformat()
        out.append((kind, {**data, "aggregate_id": snapshot["id"], "snapshot": snapshot}))
    return out


def produce(running: Any, events: list[tuple[str, dict[str, Any]]]) -> None:
    from market.events.catalogue import EVENT_TYPES
    from market.events.relay import cloudevent_message, producer_build

    producer = producer_build(running.kafka_bootstrap, client_id="bench-search")
    now = datetime.now(UTC)
    for kind, data in events:
        aggregate = EVENT_TYPES[kind].aggregate
        topic, key, value, headers = cloudevent_message(
            (
                uuid.uuid4(),
                kind,
                f"market.{aggregate}s",
                f"{aggregate}:{data['aggregate_id']}",
                "/bench",
                data,
                now,
            )
        )
        producer.send(topic, key=key, value=value, headers=headers)
    producer.flush()
    producer.close()


def _count(alias: str) -> int:
    from services.search.indexes import client

    client().indices.refresh(index=alias)
    return client().count(index=alias)["count"]


@contextlib.contextmanager
def search_group(running: Any) -> Any:
    """A client of the indexer's consumer group (it joins nothing) and the partitions of its topics."""
    from kafka import KafkaConsumer
    from kafka.structs import TopicPartition

    from services.search.indexer import SPEC

    consumer = KafkaConsumer(bootstrap_servers=running.kafka_bootstrap, group_id="market.search")
    partitions = [
        TopicPartition(topic, number)
        for topic in SPEC.topics
        for number in consumer.partitions_for_topic(topic) or ()
    ]
    try:
        yield consumer, partitions
    finally:
        consumer.close()


def _committed(admin: Any) -> int:
    """How many records the indexer's group has committed, over all its partitions."""
    offsets = admin.list_group_offsets({"market.search": None})["market.search"]
    return sum(position.offset for position in offsets.values())


def indexer_vs_bulk(running: Any, events: list[tuple[str, dict[str, Any]]]) -> dict[str, Any]:
    """The baseline first, into identical fresh indexes that are deleted afterwards, then the indexer: both
    meet an engine holding nothing else (the stand-in slows down as it holds more documents)."""
    from django.conf import settings
    from elasticsearch import helpers
    from kafka import KafkaAdminClient

    from market.events.decoding import event_of
    from services.common.consumer import ConsumerRunner
    from services.search.indexer import SPEC, listing_event_action
    from services.search.indexes import all_aliases, client, index_create, indexes_ensure

    # baseline: the very same documents, already built, through helpers.bulk
    prefix = settings.SEARCH_INDEX_PREFIX
    actions = []
    for kind, data in events:
        if (action := listing_event_action(event_of(kind, data))) is not None:
            actions.append({**action, "_index": action["_index"].replace(prefix, "bench-raw")})
    raw_indexes = sorted({action["_index"] for action in actions})
    for name in raw_indexes:
        index_create(name)

    def raw() -> None:
        helpers.bulk(client(), actions, chunk_size=500, refresh=False)

    raw_seconds = timed(raw)
    assert _count(",".join(raw_indexes)) == len(events)
    client().indices.delete(index=",".join(raw_indexes))

    indexes_ensure()
    produce(running, events)
    stop = threading.Event()
    # the stand-in answers a fetch with the whole backlog, ignoring fetch_max_bytes (real Kafka does not)
    runner = ConsumerRunner(
        spec=SPEC,
        bootstrap_servers=running.kafka_bootstrap,
        consumer_options={"receive_message_max_bytes": 1 << 30},
    )
    thread = threading.Thread(target=runner.run, args=(stop,), daemon=True)
    thread.start()
    while not runner.assignment:  # joining the group is start-up, not indexing
        time.sleep(0.01)
    started = time.perf_counter()
    # committed only once its bulk request succeeded; one offset request per check (asking partition by
    # partition would send the broker, which also feeds the indexer, two dozen requests each time)
    admin = KafkaAdminClient(bootstrap_servers=running.kafka_bootstrap)
    try:
        while _committed(admin) < len(events):
            time.sleep(0.05)
    finally:
        admin.close()
    indexer_seconds = time.perf_counter() - started
    stop.set()
    thread.join(60)
    assert _count(all_aliases()) == len(events)
    return {
        "indexer_docs_per_s": round(len(events) / indexer_seconds),
        "helpers_bulk_docs_per_s": round(len(events) / raw_seconds),
        "indexer_vs_helpers_bulk": round(raw_seconds / indexer_seconds, 3),
    }


def api_vs_raw(label: str, rounds: int, queries: tuple[dict[str, str], ...] = QUERIES) -> dict[str, Any]:
    """Median latency per query through the API (in-process) and raw, interleaved; ratio of the sums."""
    from rest_framework.test import APIClient

    from market.common.apis import validated
    from services.search.queries import search_body
    from services.search.selectors import search_raw
    from services.search.serializers import SearchParamsSerializer, search_params

    api = APIClient()
    api_times: list[float] = []
    raw_times: list[float] = []
    for params in queries:
        body = search_body(search_params(validated(SearchParamsSerializer, params)))
        api.get("/api/v1/search/", params)  # warm-up
        api_samples, raw_samples = [], []
        for _ in range(rounds):
            api_samples.append(timed(partial(api.get, "/api/v1/search/", params)))
            raw_samples.append(timed(partial(search_raw, body)))
        api_times.append(statistics.median(api_samples))
        raw_times.append(statistics.median(raw_samples))
    return {
        f"{label}_api_ms_median": round(1000 * statistics.median(api_times), 1),
        f"{label}_raw_ms_median": round(1000 * statistics.median(raw_times), 1),
        f"{label}_api_vs_raw": round(sum(api_times) / sum(raw_times), 3),
    }


def _skip_to_end(running: Any) -> None:
    """The indexer group starts at the topics' ends: only the writes measured here are indexed."""
    from kafka.structs import OffsetAndMetadata

    with search_group(running) as (group, partitions):
        ends = group.end_offsets(partitions)
        group.commit({partition: OffsetAndMetadata(offset, "", -1) for partition, offset in ends.items()})


@contextlib.contextmanager
def pipeline(running: Any) -> Any:
    """`manage.py relay_outbox` and `manage.py run_consumer search` as their own processes, as deployed."""
    from django.conf import settings

    environment = {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": running.kafka_bootstrap,
        "ELASTICSEARCH_URL": running.elasticsearch_url,
        "SEARCH_INDEX_PREFIX": settings.SEARCH_INDEX_PREFIX,
        "CONSUMER_HEALTH_DIR": tempfile.gettempdir(),
        "LOG_LEVEL": "WARNING",
    }
    with manage_processes([["relay_outbox"], ["run_consumer", "search"]], environment):
        yield


def freshness(
    running: Any, seconds: float, rate: float = 50.0, pollers: int = 1, writers: int = 3
) -> dict[str, Any]:
    """Approve pending patents through the review API at `rate`/s while the relay and the indexer run as
    processes; `pollers` staggered threads search /api/v1/search/ over and over. A patent is visible from
    the earliest search that was sent at a time and answered with it (an upper bound: the search before it
    did not show it, so it became visible in between); when that answer came back is reported too. One
    poller: on 2 cores, every further one loads the engine and this process enough to lengthen the tail it
    measures (seen: p99 1.8 s with two, 1.5 s with one)."""
    from rest_framework.test import APIClient

    from market.accounts.models import User
    from market.catalog.models import ListingStatus
    from market.events.models import OutboxEvent
    from tests import factories

    university = factories.organization("university")
    reviewer = User.objects.create(username="bench-reviewer", is_platform_admin=True, is_staff=True)
    total = int(seconds * rate)
    pending = [
        factories.patent(university, status=ListingStatus.PENDING, title=f"一种鲜度基准测试装置 {number}")
        for number in range(total + 1)
    ]
    written: dict[int, float] = {}
    # patent -> (sent, answered) of the earliest search that showed it, through the API and straight
    seen: dict[int, tuple[float, float]] = {}
    in_engine: dict[int, tuple[float, float]] = {}

    def note(found: list[int], sent: float, answered: float, into: dict[int, tuple[float, float]]) -> None:
        for pk in found:
            if pk not in into or sent < into[pk][0]:
                into[pk] = (sent, answered)

    stop = threading.Event()

    def poll(offset: float) -> None:
        client = APIClient()
        time.sleep(offset)
        while not stop.is_set():
            sent = time.perf_counter()
            body = client.get(
                "/api/v1/search/", {"q": "鲜度基准测试", "sort": "newest", "page_size": "100"}
            ).json()
            note([item["id"] for item in body["results"]], sent, time.perf_counter(), seen)
            time.sleep(0.1)

    def engine_poll(since: datetime) -> None:
        """The documents published since `since`, straight from the engine (ids only, no text query, no
        facets): the pipeline and the refresh without the API's and the full query's own time, at little
        cost to the engine (a text query here lengthened the tail of the others)."""
        from services.search.indexes import all_aliases, client

        while not stop.is_set():
            sent = time.perf_counter()
            hits = client().search(
                index=all_aliases(),
                query={"range": {"published_at": {"gte": since.isoformat()}}},
                sort=[{"published_at": "desc"}],
                size=100,
                source=False,
            )["hits"]["hits"]
            note([int(hit["_id"]) for hit in hits], sent, time.perf_counter(), in_engine)
            time.sleep(0.1)

    def approve(patent: Any) -> None:
        writer = APIClient()
        writer.force_authenticate(reviewer)
        written[patent.pk] = time.perf_counter()
        response = writer.post(f"/api/v1/review/patents/{patent.pk}/approve/")
        assert response.status_code == 200, response.content

    _skip_to_end(running)
    with pipeline(running):
        threads = [threading.Thread(target=poll, args=(0.1 * n,), daemon=True) for n in range(pollers)]
        threads.append(threading.Thread(target=engine_poll, args=(datetime.now(UTC),), daemon=True))
        for thread in threads:
            thread.start()
        warm_up, *measured = pending
        approve(warm_up)  # the pipeline is up (consumer joined, indexes checked) once this one is found
        deadline = time.perf_counter() + 60
        while warm_up.pk not in seen and time.perf_counter() < deadline:
            time.sleep(0.05)
        assert warm_up.pk in seen, "the indexer did not start"
        start = time.perf_counter()
        # an approval takes about 20 ms: writers in threads keep the schedule when one is slow
        with ThreadPoolExecutor(max_workers=writers) as pool:
            approvals = []
            for number, patent in enumerate(measured):
                time.sleep(max(0.0, start + number / rate - time.perf_counter()))
                approvals.append(pool.submit(approve, patent))
            for approval in approvals:
                approval.result()
        achieved_rate = total / (max(written.values()) - start)
        deadline = time.perf_counter() + 30
        while not all(patent.pk in seen for patent in measured) and time.perf_counter() < deadline:
            time.sleep(0.05)
        stop.set()
        for thread in threads:
            thread.join(30)
    figures: dict[str, Any] = {
        "freshness_writes": total,
        "freshness_write_rate_per_s": round(achieved_rate, 1),
    }
    for label, visible, moment in (
        ("freshness", seen, 0),
        ("freshness_answered", seen, 1),
        ("freshness_engine", in_engine, 0),
    ):
        delays = [
            visible[pk][moment] - written[pk] if pk in visible else math.inf
            for pk in written
            if pk != warm_up.pk
        ]
        figures[f"{label}_visible"] = sum(delay != math.inf for delay in delays)
        figures[f"{label}_p50_s"] = percentile(delays, 0.5)
        figures[f"{label}_p99_s"] = percentile(delays, 0.99)
    relay_delays = [
        (event.sent_at - event.created_at).total_seconds()
        for event in OutboxEvent.objects.filter(type="market.patent.published.v1", sent_at__isnull=False)
        if event.sent_at is not None
    ]
    figures["freshness_relay_p50_s"] = percentile(relay_delays, 0.5)
    figures["freshness_relay_p99_s"] = percentile(relay_delays, 0.99)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller run, under 60 s")
    parser.add_argument("--documents", type=int, default=None)
    parser.add_argument(
        "--idle-backoff-ms",
        type=int,
        default=int(os.environ.get("CONSUMER_IDLE_BACKOFF_MS", "0")),
        help="CONSUMER_IDLE_BACKOFF_MS of the consumer processes (as `make run` sets it)",
    )
    args = parser.parse_args()
    os.environ["CONSUMER_IDLE_BACKOFF_MS"] = str(args.idle_backoff_ms)  # the consumer processes inherit it
    documents = args.documents or (6_000 if args.quick else 100_000)
    logging.disable(logging.WARNING)
    os.environ.setdefault("SEARCH_INDEX_PREFIX", "bench")
    with scratch_database(f"bench_search_{os.getpid()}"), broker() as running:
        from django.conf import settings

        from market.common.chinese import segment
        from market.events.decoding import event_of
        from services.search.indexer import bulk_send, listing_event_action
        from services.search.indexes import KINDS, alias_targets, all_aliases, client, indexes_ensure

        settings.ELASTICSEARCH_URL = running.elasticsearch_url
        settings.KAFKA_BOOTSTRAP_SERVERS = [running.kafka_bootstrap]
        segment("预热")  # jieba loads its dictionary once per process (about a second), before any timing
        events = real_events(limit=1_000 if args.quick else None)
        figures: dict[str, Any] = {
            "documents": documents,
            "refresh_interval_s": 1.0,
            "idle_backoff_ms": args.idle_backoff_ms,
        }
        figures.update(indexer_vs_bulk(running, scaled(events, documents)))
        # on the stand-in a query over the large index takes seconds: fewer queries, one round each
        figures.update(api_vs_raw("large", rounds=1, queries=QUERIES[: 1 if args.quick else 4]))
        # The large index goes: the stand-in saves all it holds as one JSON file every few seconds while
        # writes come in, and with 100,000 documents it answers nothing for ~1.6 s each time (real
        # Elasticsearch does not), which would drown the pipeline's own freshness.
        client().indices.delete(index=",".join(name for kind in KINDS for name in alias_targets(kind)))

        # a small index (2,000 documents), where the engine does not drown our own overhead
        settings.SEARCH_INDEX_PREFIX = "small"
        indexes_ensure()
        small = [
            action
            for kind, data in scaled(events, 2_000)
            if (action := listing_event_action(event_of(kind, data)))
        ]
        bulk_send(small, small)
        client().indices.refresh(index=all_aliases())
        # the stand-in takes ~0.4 s a query even here: --quick asks half the queries, twice each (under 60 s)
        figures.update(
            api_vs_raw("small", rounds=2, queries=QUERIES[:4])
            if args.quick
            else api_vs_raw("small", rounds=20)
        )
        figures.update(freshness(running, seconds=4 if args.quick else 20))
    goal, label = (0.8, "0_8") if args.quick else (0.9, "0_9")
    figures[f"goal_indexer_ge_{label}"] = figures["indexer_vs_helpers_bulk"] >= goal
    figures["goal_small_api_le_1_3"] = figures["small_api_vs_raw"] <= 1.3
    p99 = figures["freshness_p99_s"]
    figures["goal_freshness_p99_le_1_5_s"] = p99 is not None and p99 <= 1.5
    report("search", figures)


if __name__ == "__main__":
    main()
