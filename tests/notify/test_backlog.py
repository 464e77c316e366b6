"""A subscription made while the notify consumer still works through a backlog (as right after `make run`
started): it is told only of what was published after it was created, by the events' own time, and the
earlier matches are one search link in its API output."""

from datetime import datetime
from urllib.parse import parse_qs, urlsplit

import pytest

from market.catalog import services as catalog
from market.events.models import OutboxEvent
from services.common.models import HandledMessage
from services.notify.consumer import SPEC as NOTIFY
from services.notify.models import Notification
from services.search.indexer import SPEC as SEARCH
from services.search.indexes import all_aliases, client, indexes_ensure
from tests import factories
from tests.events.kit import consumer_loop, relay_all, running
from tests.waiting import wait_until

pytestmark = pytest.mark.django_db(transaction=True)


def _publish(cast, title: str, ipc: str):
    patent = factories.patent(cast.university, status="draft", title=title, ipc_codes=[ipc])
    catalog.listing_submit(listing=patent, user=cast.uni_member)
    return catalog.listing_approve(listing=patent, reviewer=cast.platform_admin)


def _search_ids(api, link: str) -> set[int]:
    client().indices.refresh(index=all_aliases())
    parts = urlsplit(link)
    response = api(None).get(parts.path, parse_qs(parts.query))
    assert response.status_code == 200, response.content
    return {item["id"] for item in response.json()["results"]}


def test_a_subscription_made_during_the_start_up_backlog_is_told_only_of_what_came_after_it(
    cast, broker, api, settings
):
    settings.ELASTICSEARCH_URL = broker.elasticsearch_url
    settings.SEARCH_INDEX_PREFIX = "test"
    indexes_ensure()
    backlog = [_publish(cast, f"一种锂离子电池正极材料 {number}", "H01M 4/525") for number in range(6)]
    elsewhere = _publish(cast, "一种光伏组件清洗机器人", "H02S 40/10")
    relay_all(broker)  # on the broker, not yet read by the notify consumer

    created = api(cast.ent_member).post(
        "/api/v1/subscriptions/", {"kind": "ipc", "ipc": "H01M", "channels": ["in_app"]}, format="json"
    )
    assert created.status_code == 201, created.content
    subscription = created.json()
    following = api(cast.ent2_member).post(
        "/api/v1/subscriptions/",
        {"kind": "organization", "target_id": cast.university.pk, "channels": ["in_app"]},
        format="json",
    )
    assert following.status_code == 201, following.content
    later = _publish(cast, "一种固态电池电解质膜", "H01M 10/0562")
    relay_all(broker)

    total = OutboxEvent.objects.count()
    with running(consumer_loop, broker, NOTIFY), running(consumer_loop, broker, SEARCH):
        assert wait_until(
            lambda: HandledMessage.objects.filter(consumer="notify").count() == total, timeout=60
        ), "the notify consumer did not handle the backlog"
        matched = Notification.objects.filter(user=cast.ent_member, kind="listing_matched")
        assert [n.data["listing_id"] for n in matched] == [later.pk]
        inbox = api(cast.ent_member).get("/api/v1/notifications/").json()["results"]
        assert [n["data"]["listing_id"] for n in inbox if n["kind"] == "listing_matched"] == [later.pk]

        # the earlier matches: one link, to a search that finds exactly them (through the real engine)
        link = (
            api(cast.ent_member).get(f"/api/v1/subscriptions/{subscription['id']}/").json()["earlier_matches"]
        )
        assert link == subscription["earlier_matches"]
        assert parse_qs(urlsplit(link).query)["ipc"] == ["H01M"]
        expected = {patent.pk for patent in backlog}
        assert wait_until(lambda: _search_ids(api, link) == expected, timeout=30), _search_ids(api, link)
        assert elsewhere.pk not in _search_ids(api, link)
        # following the organization: told of the later patent only; its earlier ones are the link's
        told = Notification.objects.filter(user=cast.ent2_member, kind="listing_matched")
        assert [n.data["listing_id"] for n in told] == [later.pk]
        organization_link = following.json()["earlier_matches"]
        assert _search_ids(api, organization_link) == {*expected, elsewhere.pk}


def test_earlier_matches_of_each_kind_of_subscription(cast, api):
    client_ = api(cast.ent_member)
    search = client_.post(
        "/api/v1/subscriptions/",
        {"kind": "search", "params": {"q": "锂离子电池", "type": "patent,demand"}, "channels": ["in_app"]},
        format="json",
    ).json()
    organization = client_.post(
        "/api/v1/subscriptions/",
        {"kind": "organization", "target_id": cast.university.pk, "channels": ["in_app"]},
        format="json",
    ).json()
    patent = factories.patent(cast.university)
    listing = client_.post(
        "/api/v1/subscriptions/",
        {"kind": "listing", "target_kind": "patent", "target_id": patent.pk, "channels": ["in_app"]},
        format="json",
    ).json()

    query = parse_qs(urlsplit(search["earlier_matches"]).query)
    assert (query["q"], query["type"], query["sort"]) == (["锂离子电池"], ["patent,demand"], ["newest"])
    published_before = datetime.fromisoformat(query["published_before"][0])
    assert published_before == datetime.fromisoformat(search["created_at"])  # to the microsecond
    assert parse_qs(urlsplit(organization["earlier_matches"]).query)["owner"] == [str(cast.university.pk)]
    assert listing["earlier_matches"] is None  # a followed listing has nothing earlier to match
    for subscription in (search, organization):
        parts = urlsplit(subscription["earlier_matches"])
        assert parts.path == "/api/v1/search/"
        # the search API takes every parameter of the link: with one bad parameter added, that one alone is
        # refused (validation comes before the engine, which this test does not need)
        response = api(None).get(parts.path, {**parse_qs(parts.query), "page_size": 0})
        assert response.status_code == 400 and set(response.json()["error"]["fields"]) == {"page_size"}
