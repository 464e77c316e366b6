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

from market.catalog.seeding import market_seed
from market.events.models import OutboxEvent
from services.common.embedded import EmbeddedBroker
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


@pytest.fixture(scope="module")
def real_index(django_db_setup, django_db_blocker, tmp_path_factory) -> Iterator[RealIndex]:
    """All the real sample data (8,766 patents, 1,000 achievements, demo demands and experts) indexed from
    the events the seeder publishes; the database rows are rolled back, only the index stays."""
    broker = EmbeddedBroker(data_dir=tmp_path_factory.mktemp("noida-real")).start()
    try:
        with override_settings(ELASTICSEARCH_URL=broker.elasticsearch_url, SEARCH_INDEX_PREFIX="real"):
            with django_db_blocker.unblock():
                try:
                    with transaction.atomic():
                        market_seed(data_dir=settings.MARKET_SAMPLE_DATA_DIR, progress=_quiet_progress)
                        raise _Rollback(
                            list(OutboxEvent.objects.order_by("created_at", "id").values_list("type", "data"))
                        )
                except _Rollback as rolled_back:
                    events = rolled_back.events
            indexes_ensure()
            actions = [action for kind, data in events if (action := listing_event_action(kind, data))]
            assert bulk_send(actions, actions) == []
            refresh()
            yield RealIndex(broker=broker, events=len(events))
    finally:
        broker.stop()
