"""Page tests: a live server on the test database, the real search engine (noida-db) per module, and a real
Chromium per module. The search index and the stats are fed in-process from the outbox (`catch_up`); the
pipeline that does it in production has its own tests with real processes."""

import itertools
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.contrib.auth import SESSION_KEY
from django.test import override_settings
from playwright.sync_api import Browser

from market.accounts.models import User
from market.events.decoding import event_of
from market.events.models import OutboxEvent
from market.localdev.embedded import EmbeddedBroker
from services.search.documents import action_build
from services.search.indexer import bulk_send, listing_event_action
from services.search.indexes import all_aliases, client, indexes_ensure
from tests.web.browser import Visitor, chromium

_index_names = itertools.count()


@pytest.fixture(scope="module")
def search_engine(tmp_path_factory) -> Iterator[EmbeddedBroker]:
    """noida-db for this module's pages, its indexes made; stopped by PID when the module ends."""
    broker = EmbeddedBroker(data_dir=tmp_path_factory.mktemp("noida-web")).start()
    try:
        with override_settings(ELASTICSEARCH_URL=broker.elasticsearch_url, SEARCH_INDEX_PREFIX="web"):
            yield broker
    finally:
        broker.stop()


@pytest.fixture
def engine(search_engine) -> Iterator[EmbeddedBroker]:
    """The module's engine with indexes of this test's own (the database is emptied after each test too)."""
    with override_settings(
        ELASTICSEARCH_URL=search_engine.elasticsearch_url, SEARCH_INDEX_PREFIX=f"web{next(_index_names)}"
    ):
        indexes_ensure()
        yield search_engine


def search_index(*listings: Any) -> None:
    """Index listings made by the factories (which write no events) as their published facts would."""
    from market.catalog import snapshots

    classes = {
        "patent": snapshots.PatentSnapshot,
        "achievement": snapshots.AchievementSnapshot,
        "demand": snapshots.DemandSnapshot,
        "expert": snapshots.ExpertSnapshot,
    }
    actions = []
    for listing in listings:
        kind = listing._meta.model_name
        status = getattr(listing, "status", "published")
        actions.append(action_build(kind, listing.pk, listing.version, status, classes[kind].of(listing)))
    assert bulk_send(actions, actions) == []
    client().indices.refresh(index=all_aliases())


def search_catch_up() -> int:
    """Index every listing event in the outbox, in order, as the search consumer would; the number indexed."""
    rows = OutboxEvent.objects.order_by("sequence").values_list("type", "data")
    events = [event_of(kind, data) for kind, data in rows]
    actions = [action for event in events if (action := listing_event_action(event))]
    assert bulk_send(actions, actions) == []
    client().indices.refresh(index=all_aliases())
    return len(actions)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


@pytest.fixture
def visit(browser, live_server) -> Iterator[Callable[[User | None], Visitor]]:
    """`visit(user)`: a new browser context signed in as `user` (by session cookie), or anonymous."""
    contexts: list[Any] = []

    def make(user: User | None = None) -> Visitor:
        context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
        contexts.append(context)
        if user is not None:
            context.add_cookies([_session_cookie(user, live_server.url)])
        visitor = Visitor(page=context.new_page(), base_url=live_server.url)
        visitor.page.on("console", visitor.note)
        visitor.page.on("pageerror", lambda error: visitor.console_errors.append(str(error)))
        return visitor

    yield make
    for context in contexts:
        context.close()


def _session_cookie(user: User, url: str) -> dict[str, Any]:
    """A signed-in session for `user`, as Django's test client `force_login` makes one."""
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.save()
    return {"name": settings.SESSION_COOKIE_NAME, "value": session.session_key, "url": url}
