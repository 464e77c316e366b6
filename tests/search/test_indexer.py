"""The indexer consumer, reindexing and the API's edges against the real engine and broker."""

import dataclasses
import signal
import threading
import time
import uuid

import pytest
from django.core.management import call_command
from django.db import transaction
from kafka import KafkaConsumer, KafkaProducer
from kafka.structs import OffsetAndMetadata, TopicPartition

from market.catalog import services
from market.catalog.models import ListingStatus
from market.catalog.snapshots import PatentSnapshot
from market.events.catalogue import PatentPublished
from market.events.models import OutboxEvent
from market.events.publishing import publish_many
from market.events.relay import cloudevent_message
from services.common.dead_letters import dead_letters_read
from services.search import indexer as indexer_module
from services.search import reindex as reindex_module
from services.search.indexer import BULK_CHUNK, SPEC, bulk_send
from services.search.indexes import alias_name, alias_targets, all_aliases, client
from services.search.queries import SearchParams
from services.search.selectors import search_run
from tests import factories
from tests.events.kit import TcpProxy, consumer_loop, consumer_process, relay_all, running
from tests.search.conftest import refresh
from tests.waiting import wait_until

pytestmark = pytest.mark.django_db(transaction=True)


def _ids(q: str = "", **filters) -> set[int]:
    refresh()
    params = SearchParams(q=q, filters={key: [value] for key, value in filters.items()}, size=100)
    return {item["id"] for item in search_run(params)["results"]}


def _documents() -> dict[str, tuple[int, dict]]:
    """Every stored document (tombstones too): uid -> (version, source)."""
    refresh()
    hits = client().search(index=all_aliases(), size=5000, version=True, query={"match_all": {}})
    return {hit["_source"]["uid"]: (hit["_version"], hit["_source"]) for hit in hits["hits"]["hits"]}


def _committed(engine) -> dict[int, int]:
    """The search group's committed offset of each partition of market.patents."""
    consumer = KafkaConsumer(bootstrap_servers=engine.kafka_bootstrap, group_id="market.search")
    try:
        partitions = [
            TopicPartition("market.patents", p) for p in consumer.partitions_for_topic("market.patents")
        ]
        return {partition.partition: consumer.committed(partition) or 0 for partition in partitions}
    finally:
        consumer.close()


def _committed_total(engine) -> int:
    return sum(_committed(engine).values())


def _approved(cast, **fields):
    patent = factories.patent(cast.university, status=ListingStatus.PENDING, **fields)
    return services.listing_approve(listing=patent, reviewer=cast.platform_admin)


def test_published_listings_become_searchable_and_withdrawn_ones_disappear(cast, engine, api):
    visible = _approved(cast, title="一种钠离子电池负极材料")
    gone = _approved(cast, title="一种钠离子电池电解液")
    factories.patent(cast.university, status=ListingStatus.DRAFT, title="一种钠离子电池隔膜")
    services.listing_withdraw(listing=gone, user=cast.uni_member)
    relay_all(engine)
    with running(consumer_loop, engine, SPEC):
        assert wait_until(lambda: _ids("钠离子电池") == {visible.pk}, timeout=30)
        services.listing_withdraw(listing=visible, user=cast.uni_member)
        relay_all(engine)
        assert wait_until(lambda: _ids("钠离子电池") == set(), timeout=30)
    body = api(None).get("/api/v1/search/", {"q": "钠离子电池"}).json()
    assert body["count"] == 0 and body["results"] == []
    # what is left of the listings is a versioned tombstone with nothing searchable in it
    version, tombstone = _documents()[f"patent:{visible.pk}"]
    assert version == visible.version + 1 and tombstone["live"] is False and "title" not in tombstone


def test_replaying_the_topic_from_offset_zero_leaves_the_index_identical(cast, engine):
    patents = [_approved(cast, title=f"一种储能变流器控制方法 {number}") for number in range(5)]
    services.listing_withdraw(listing=patents[0], user=cast.uni_member)
    relay_all(engine)
    total = OutboxEvent.objects.filter(topic="market.patents").count()
    with running(consumer_loop, engine, SPEC):
        assert wait_until(lambda: _committed_total(engine) == total, timeout=30)
    before = _documents()
    assert len(before) == 5 and len(_ids("储能变流器")) == 4
    rewind = KafkaConsumer(bootstrap_servers=engine.kafka_bootstrap, group_id="market.search")
    partitions = [TopicPartition("market.patents", p) for p in rewind.partitions_for_topic("market.patents")]
    rewind.commit({partition: OffsetAndMetadata(0, "", -1) for partition in partitions})
    rewind.close()
    assert _committed_total(engine) == 0
    with running(consumer_loop, engine, SPEC):
        assert wait_until(lambda: _committed_total(engine) == total, timeout=30)
    assert _documents() == before


def test_an_older_event_arriving_late_is_ignored(cast, engine):
    patent = _approved(cast, title="一种光伏组件清洗机器人")
    services.listing_withdraw(listing=patent, user=cast.uni_member)
    patent.refresh_from_db()
    services.listing_submit(listing=patent, user=cast.uni_member)
    services.listing_approve(listing=patent, reviewer=cast.platform_admin)
    relay_all(engine)
    with running(consumer_loop, engine, SPEC):
        assert wait_until(lambda: _ids("光伏组件清洗") == {patent.pk}, timeout=30)
        # the withdrawal again, as a late duplicate with a new event id (older version than the index holds)
        row = OutboxEvent.objects.get(type="market.patent.withdrawn.v1")
        topic, key, value, headers = cloudevent_message(
            (uuid.uuid4(), row.type, row.topic, row.key, row.source, row.data, row.created_at)
        )
        producer = KafkaProducer(bootstrap_servers=engine.kafka_bootstrap, acks="all")
        producer.send(topic, key=key, value=value, headers=headers).get(timeout=10)
        producer.close()
        total = OutboxEvent.objects.filter(topic="market.patents").count() + 1
        assert wait_until(lambda: _committed_total(engine) == total, timeout=30)
    patent.refresh_from_db()
    version, document = _documents()[f"patent:{patent.pk}"]
    assert version == patent.version and document["live"] is True
    assert _ids("光伏组件清洗") == {patent.pk}


def _published_events(cast, count: int, first: int = 0) -> int:
    """`count` published patents' events in the outbox, in one go (their rows are not needed), numbered from
    `first`."""
    template = PatentSnapshot.of(factories.patent(cast.university))
    with transaction.atomic():
        publish_many(
            PatentPublished(
                aggregate_id=100_000 + number,
                version=1,
                status="published",
                owner_org_id=cast.university.pk,
                snapshot=dataclasses.replace(
                    template, id=100_000 + number, title=f"一种风力发电机叶片检测装置 {number}"
                ),
            )
            for number in range(first, first + count)
        )
    return count


def test_the_index_ends_complete_when_the_engine_stops_during_indexing(cast, engine):
    total = _published_events(cast, 3000)
    relay_all(engine)

    def indexed() -> int:
        try:
            refresh()
            return client().count(index=alias_name("patent"))["count"]
        except Exception:
            return -1

    with running(consumer_loop, engine, SPEC, retry_wait=lambda _n: 0.2) as (_stop, outcome):
        assert wait_until(lambda: indexed() > 0, timeout=30, interval=0.01)
        engine.restart()  # Elasticsearch (and Kafka) gone mid-stream, back with the same data
        assert wait_until(lambda: indexed() == total, timeout=90, interval=0.5)
        # a commit refused across the restart is redone after the re-read (which changes nothing)
        assert wait_until(lambda: _committed_total(engine) == total, timeout=60, interval=0.5)
    assert "error" not in outcome and outcome.get("result") == 0
    assert indexed() == total


def test_a_record_whose_bulk_fails_is_not_committed_past(cast, engine, monkeypatch):
    """The bulk step is pipelined (the next batches are built while a bulk request is in flight): while the
    second batch's bulk keeps failing, the batches behind it wait, and no offset is committed past any record
    of the failing batch. Once the engine takes it, everything is indexed and committed; no dead letters."""
    total = _published_events(cast, 3 * BULK_CHUNK)
    relay_all(engine)
    batches: list[list] = []  # the messages of each batch sent, in the order first sent
    healed = threading.Event()
    original = indexer_module.bulk_send

    def second_batch_down(actions, owners, **options):
        if owners not in batches:
            batches.append(owners)
        if len(batches) > 1 and owners == batches[1] and not healed.is_set():
            failures.append(owners)
            raise ConnectionError("the engine is down for this batch")
        return original(actions, owners, **options)

    failures: list[list] = []
    monkeypatch.setattr(indexer_module, "bulk_send", second_batch_down)
    with running(consumer_loop, engine, SPEC, retry_wait=lambda _n: 0.05) as (_stop, outcome):
        assert wait_until(lambda: len(failures) >= 5, timeout=60)
        lowest: dict[int, int] = {}
        for message in batches[1]:
            partition, offset = message.record.partition, message.record.offset
            lowest[partition] = min(offset, lowest.get(partition, offset))
        for _ in range(10):
            committed = _committed(engine)
            assert all(committed[partition] <= offset for partition, offset in lowest.items()), committed
            time.sleep(0.1)
        assert len(batches) == 2, "no batch is sent past the failing one"
        healed.set()
        assert wait_until(lambda: _committed_total(engine) == total, timeout=60)
    assert "error" not in outcome
    refresh()
    assert client().count(index=alias_name("patent"))["count"] == total
    assert list(dead_letters_read(topic="market.patents")) == []


def test_the_search_consumer_waits_out_a_stopped_engine_and_dead_letters_nothing(cast, engine, tmp_path):
    """`run_consumer search` as its own process reaches the engine through a loopback proxy; the proxy is
    stopped for 30 s (connections refused, open ones cut) while events keep flowing. The consumer waits
    (alive, health file fresh), then indexes everything; nothing is dead-lettered."""
    first = _published_events(cast, 200)
    relay_all(engine)
    proxy = TcpProxy(engine.elasticsearch_port).start()
    process = consumer_process(
        engine, "search", tmp_path, ELASTICSEARCH_URL=proxy.url, SEARCH_INDEX_PREFIX="test"
    )
    health = tmp_path / "consumer-search.alive"

    def indexed() -> int:
        refresh()
        return client().count(index=alias_name("patent"))["count"]

    try:
        assert wait_until(lambda: indexed() == first, timeout=60, interval=0.2)
        proxy.stop()
        stopped = time.monotonic()
        later = _published_events(cast, 300, first=first)
        relay_all(engine)
        while time.monotonic() - stopped < 30:
            time.sleep(2)
            assert process.poll() is None, "the consumer must wait for the engine, not exit"
            assert time.time() - health.stat().st_mtime < 3, "a waiting consumer is alive"
        assert indexed() == first, "nothing reached the engine while it was away"
        proxy.start()
        assert wait_until(lambda: indexed() == first + later, timeout=60, interval=0.5)
        assert wait_until(lambda: _committed_total(engine) == first + later, timeout=30, interval=0.5)
        assert list(dead_letters_read(topic="market.patents")) == []
        process.send_signal(signal.SIGTERM)
        assert process.wait(20) == 0
    finally:
        proxy.stop()
        if process.poll() is None:
            process.kill()


def test_reindex_builds_identical_documents_catches_up_and_swaps_without_downtime(cast, engine, monkeypatch):
    kept = [_approved(cast, title=f"一种数控机床热误差补偿方法 {number}") for number in range(4)]
    relay_all(engine)
    with running(consumer_loop, engine, SPEC):
        assert wait_until(lambda: _committed_total(engine) == len(kept), timeout=30)
    from_events = _documents()
    old_index = alias_targets("patent")

    # while the database is being read, one listing is withdrawn and its event reaches Kafka: the catch-up
    # must apply it even though the rows read said "published"
    original = reindex_module.bulk_send
    late = kept[0]

    def send_and_change(*args, **kwargs):
        if late.status == ListingStatus.PUBLISHED:
            late.refresh_from_db()
            services.listing_withdraw(listing=late, user=cast.uni_member)
            late.status = ListingStatus.WITHDRAWN
            relay_all(engine)
        return original(*args, **kwargs)

    monkeypatch.setattr(reindex_module, "bulk_send", send_and_change)
    counts, stop = [], threading.Event()

    def search_during() -> None:
        while not stop.is_set():
            counts.append(search_run(SearchParams(q="数控机床热误差", size=1))["count"])

    searcher = threading.Thread(target=search_during, daemon=True)
    searcher.start()
    try:
        call_command("search_reindex", kind=["patent"], no_progress=True)
    finally:
        stop.set()
        searcher.join(10)
    assert alias_targets("patent") != old_index and len(alias_targets("patent")) == 1
    assert counts and min(counts) >= 3  # never an empty or missing index
    after = _documents()
    for patent in kept[1:]:
        assert after[f"patent:{patent.pk}"] == from_events[f"patent:{patent.pk}"]
    assert after[f"patent:{late.pk}"][1]["live"] is False
    assert _ids("数控机床热误差") == {patent.pk for patent in kept[1:]}


def test_latin_queries_tolerate_typos(cast, engine):
    snapshot = PatentSnapshot.of(
        factories.patent(cast.university, title="Graphene oxide membrane for desalination")
    )
    from services.search.documents import action_build

    action = action_build("patent", snapshot.id, 1, "published", snapshot)
    assert bulk_send([action], [action]) == []
    assert _ids("grapheme oxide membrane") == {snapshot.id}
    assert _ids("desalinaton") == {snapshot.id}


def test_bad_parameters_are_a_400_naming_the_parameter(api):
    for params, field in (
        ({"type": "car"}, "type"),
        ({"trl_min": 0}, "trl_min"),
        ({"trl_min": 5, "trl_max": 3}, "trl_max"),
        ({"cursor": "not-a-cursor"}, "cursor"),
        ({"page_size": 1000}, "page_size"),
        ({"ipc": "Z99"}, "ipc"),
        ({"region": "12"}, "region"),
        ({"sort": "random"}, "sort"),
        ({"q": "x" * 201}, "q"),
        ({"owner": "x"}, "owner"),
        ({"published_before": "soon"}, "published_before"),
        ({"published_after": "1850-01-01"}, "published_after"),
        ({"published_after": "2026-11-30T25:00:00+08:00"}, "published_after"),
    ):
        response = api(None).get("/api/v1/search/", params)
        assert response.status_code == 400, params
        assert field in response.json()["error"]["fields"], params
    assert api(None).get("/api/v1/search/suggest/").status_code == 400
    assert api(None).get("/api/v1/search/similar/", {"type": "patent"}).status_code == 400


def test_an_unreachable_engine_is_a_503_not_a_500(api, settings):
    from market.localdev.embedded import free_port

    settings.ELASTICSEARCH_URL = f"http://127.0.0.1:{free_port()}"
    response = api(None).get("/api/v1/search/", {"q": "电池"})
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "search_unavailable"
