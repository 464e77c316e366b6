"""Links in notifications lead to the market where it runs: the site URL comes from the environment, `make
run` sets it from its port, and every link a recipient gets opens in the API."""

import os
import signal
from urllib.parse import urlsplit

import pytest

from market.catalog import services as catalog
from market.localdev.processes import market_environment
from services.notify.models import Notification
from services.notify.services import subscriptions
from tests import factories
from tests.events.kit import consumer_process, relay_all
from tests.waiting import wait_until

pytestmark = pytest.mark.django_db(transaction=True)


def test_make_run_points_the_links_at_its_own_port_unless_an_address_is_given(broker, tmp_path):
    environ = {name: value for name, value in os.environ.items() if name != "MARKET_PUBLIC_URL"}
    local = market_environment(broker=broker, port=9137, data_dir=tmp_path, environ=environ)
    assert local["MARKET_PUBLIC_URL"] == "http://127.0.0.1:9137"
    proxied = {**environ, "MARKET_PUBLIC_URL": "https://market.example.org"}
    given = market_environment(broker=broker, port=9137, data_dir=tmp_path, environ=proxied)
    assert given["MARKET_PUBLIC_URL"] == "https://market.example.org"


def test_the_notify_consumer_links_to_the_site_url_of_its_environment_and_the_links_open(
    cast, broker, tmp_path, api
):
    """The real consumer process, started with the environment `make run` gives it on port 9137: the links it
    writes are on that port (they said 127.0.0.1:8000 whatever the port), and each opens for its recipient."""
    subscriptions.subscription_create(
        user=cast.ent_member, kind="ipc", params={"ipc": "H01M"}, channels=["in_app"]
    )
    patent = factories.patent(cast.university, status="draft", ipc_codes=["H01M 4/525"])
    catalog.listing_submit(listing=patent, user=cast.uni_member)
    catalog.listing_approve(listing=patent, reviewer=cast.platform_admin)
    relay_all(broker)
    environ = {name: value for name, value in os.environ.items() if name != "MARKET_PUBLIC_URL"}
    site = market_environment(broker=broker, port=9137, data_dir=tmp_path, environ=environ)[
        "MARKET_PUBLIC_URL"
    ]

    process = consumer_process(broker, "notify", tmp_path, MARKET_PUBLIC_URL=site)
    try:
        assert wait_until(
            lambda: Notification.objects.filter(kind__in=["listing_matched", "review_pending"]).count() >= 2,
            timeout=60,
        ), (tmp_path / "consumer-notify.log").read_text()
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(20)

    for user, kind, path in (
        (cast.ent_member, "listing_matched", f"/api/v1/patents/{patent.pk}/"),
        (cast.platform_admin, "review_pending", "/api/v1/review/patents/"),
    ):
        [item] = [n for n in api(user).get("/api/v1/notifications/").json()["results"] if n["kind"] == kind]
        assert item["link"] == f"http://127.0.0.1:9137{path}"
        assert api(user).get(urlsplit(item["link"]).path).status_code == 200
