"""Search fixtures: the real engine (noida-db's Elasticsearch endpoint, official client) with the index
aliases created, and a module-wide index of the real sample data built from the seeder's own events."""

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.conf import settings
from django.db import transaction
from django.test import override_settings

from market.demo.seeding import market_seed
from market.events.decoding import event_of
from market.events.models import OutboxEvent
from market.localdev.embedded import EmbeddedBroker
from services.search.indexer import bulk_send, listing_event_action
from services.search.indexes import all_aliases, client, indexes_ensure


@pytest.fixture
def engine(broker, settings) -> EmbeddedBroker:
    """A fresh stand-in per test (Kafka + Elasticsearch), settings pointed at it, aliases in place."""
    settings.ELASTICSEARCH_URL = broker.elasticsearch_url
    settings.SEARCH_INDEX_PREFIX = "test"
    indexes_ensure()
    return broker


def refresh() -> None:
    client().indices.refresh(index=all_aliases())


class _Rollback(Exception):
    def __init__(self, events: list[tuple[str, dict[str, Any]]]):
        self.events = events


@dataclass
class RealIndex:
    broker: EmbeddedBroker
    events: int


@contextlib.contextmanager
def _quiet_progress(**_kwargs: Any) -> Iterator[Any]:
    class Bar:
        def update(self, _count: int) -> None:
            pass

    yield Bar()


@contextlib.contextmanager
def _sample_index(
    data_dir: Any,
    django_db_blocker: Any,
    *,
    prefix: str,
    limit: int | None = None,
    kinds: tuple[str, ...] = (),
) -> Iterator[RealIndex]:
    """The real sample data (the first `limit` patents and achievements; only the events of `kinds`, if
    given) indexed from the events the seeder publishes; the database rows are rolled back, only the index
    stays."""
    broker = EmbeddedBroker(data_dir=data_dir).start()
    try:
        # these indexes serve relevance tests: the stand-in takes seconds for a common word over the whole
        # sample on a loaded machine, which the production request timeout would turn into 503s
        with override_settings(
            ELASTICSEARCH_URL=broker.elasticsearch_url, SEARCH_INDEX_PREFIX=prefix, SEARCH_REQUEST_TIMEOUT=30
        ):
            with django_db_blocker.unblock():
                try:
                    with transaction.atomic():
                        market_seed(
                            data_dir=settings.MARKET_SAMPLE_DATA_DIR, progress=_quiet_progress, limit=limit
                        )
                        raise _Rollback(
                            list(OutboxEvent.objects.order_by("created_at", "id").values_list("type", "data"))
                        )
                except _Rollback as rolled_back:
                    events = [
                        (kind, data)
                        for kind, data in rolled_back.events
                        if not kinds or kind.split(".")[1] in kinds
                    ]
            indexes_ensure()
            actions = [
                action for kind, data in events if (action := listing_event_action(event_of(kind, data)))
            ]
            assert bulk_send(actions, actions) == []
            refresh()
            yield RealIndex(broker=broker, events=len(events))
    finally:
        broker.stop()


@pytest.fixture(scope="module")
def real_index(django_db_setup, django_db_blocker, tmp_path_factory) -> Iterator[RealIndex]:
    """All the real sample data (8,766 patents, 1,000 achievements, demo demands and experts)."""
    with _sample_index(tmp_path_factory.mktemp("noida-real"), django_db_blocker, prefix="real") as index:
        yield index


@pytest.fixture(scope="module")
def achievements_index(django_db_setup, django_db_blocker, tmp_path_factory) -> Iterator[RealIndex]:
    """300 real research achievements: the index on which everyday queries were seen to hang the engine."""
    with _sample_index(
        tmp_path_factory.mktemp("noida-300"),
        django_db_blocker,
        prefix="achievements",
        limit=300,
        kinds=("achievement",),
    ) as index:
        yield index
