"""The statistics as deployed: the relay and `run_consumer stats` as their own processes against the noida-db
stand-in; deals made and registered through the API show in `/api/v1/stats/`, and a consumer killed
(SIGKILL) mid-stream and started again ends with figures that lose and double-count nothing."""

import itertools
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import timezone
from rest_framework.throttling import SimpleRateThrottle

from market.trading.models import Deal
from services.stats.models import DealContribution
from services.stats.recompute import stats_recompute
from tests import factories
from tests.events.kit import consumer_process
from tests.processes import child_database_url
from tests.trading.helpers import deal_between, register_contract
from tests.waiting import wait_until

pytestmark = pytest.mark.django_db(transaction=True)  # the processes read committed rows
REPO = Path(__file__).resolve().parents[2]
NUMBERS = itertools.count(1)
#: deals made while the consumer is down, so that the restarted one has a stream to be killed in
BACKLOG = 80


@pytest.fixture
def unthrottled(monkeypatch) -> None:
    """Some two hundred requests are the point here; the rate limits have tests of their own."""
    monkeypatch.setattr(
        SimpleRateThrottle, "THROTTLE_RATES", dict.fromkeys(("anon", "user", "auth"), "100000/min")
    )


@pytest.fixture
def relay(broker, tmp_path) -> Iterator[subprocess.Popen]:
    """`manage.py relay_outbox` against the test database and the stand-in, stopped by its PID."""
    process = subprocess.Popen(
        [sys.executable, str(REPO / "manage.py"), "relay_outbox"],
        cwd=REPO,
        env={
            **os.environ,
            "DATABASE_URL": child_database_url(),
            "KAFKA_BOOTSTRAP_SERVERS": broker.kafka_bootstrap,
            "LOG_LEVEL": "WARNING",
        },
        stdout=subprocess.DEVNULL,
        stderr=(tmp_path / "relay.log").open("ab"),
    )
    try:
        yield process
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


def _stats_consumer(broker, tmp_path: Path) -> subprocess.Popen:
    # a static member id, as a pod name would be, so the restart takes its partitions back at once
    return consumer_process(broker, "stats", tmp_path, CONSUMER_INSTANCE_ID="stats-0")


def _registered_deal(cast, api, amount: int) -> int:
    """An offer on a new patent of the Xihu university, accepted, signed by both, submitted and registered:
    all through the API, as the parties and the registrar would."""
    patent = factories.patent(cast.university, price=None)
    buyer, seller = api(cast.ent_member), api(cast.uni_member)
    offer = buyer.post(
        "/api/v1/offers/",
        {
            "listing_kind": "patent",
            "listing_id": patent.pk,
            "amount": str(amount),
            "transaction_mode": "transfer",
        },
        format="json",
    )
    assert offer.status_code == 201, offer.content
    accepted = seller.post(f"/api/v1/offers/{offer.json()['id']}/accept/", {}, format="json")
    assert accepted.status_code == 200, accepted.content
    deal = Deal.objects.get(offer_id=offer.json()["id"]).pk
    steps = [
        (buyer, "sign", {}),
        (seller, "sign", {}),
        (
            seller,
            "registration",
            {
                "contract_type": "transfer",
                "contract_value": str(amount),
                "technology_transaction_value": str(amount),
            },
        ),
        (api(cast.registrar), "registration/approve", {"registration_number": f"330106P{next(NUMBERS):08d}"}),
    ]
    for client, path, body in steps:
        answer = client.post(f"/api/v1/deals/{deal}/{path}/", body, format="json")
        assert answer.status_code == 200, (path, answer.content)
    return deal


def _caught_up() -> bool:
    """Every deal counts with its newest version."""
    return set(DealContribution.objects.values_list("deal_id", "version")) == set(
        Deal.objects.values_list("id", "version")
    )


def _year_totals(client) -> dict:
    today = timezone.localdate()
    answer = client.get("/api/v1/stats/", {"from": f"{today.year}-01-01", "to": f"{today.year}-12-31"})
    assert answer.status_code == 200, answer.content
    return answer.json()["totals"]


def _up_to_date() -> int:
    """How many deals count with their newest version."""
    return len(
        set(DealContribution.objects.values_list("deal_id", "version"))
        & set(Deal.objects.values_list("id", "version"))
    )


def test_deals_made_through_the_api_are_counted_once_across_a_killed_consumer(
    cast, api, broker, relay, tmp_path, unthrottled
):
    through_api = [100_000 + 1_000 * index for index in range(3)]
    backlog = [200_000 + 1_000 * index for index in range(BACKLOG)]
    consumer = _stats_consumer(broker, tmp_path)
    try:
        for amount in through_api:
            _registered_deal(cast, api, amount)
        assert wait_until(_caught_up, timeout=60), "the deals reached the stats"
        totals = _year_totals(api(cast.gov_member))
        assert (totals["deals"], totals["contracts"]) == (3, 3)
        assert Decimal(totals["contract_value"]) == sum(through_api)

        consumer.send_signal(signal.SIGTERM)
        assert consumer.wait(20) == 0
        for amount in backlog:  # a backlog builds up while no consumer runs
            deal = deal_between(cast.inst_member, cast.ent2_member, amount=str(amount))
            register_contract(
                deal, seller=cast.inst_member, buyer=cast.ent2_member, registrar=cast.platform_admin
            )
        consumer = _stats_consumer(broker, tmp_path)
        assert wait_until(lambda: _up_to_date() > 3, timeout=60, interval=0.005)
        consumer.send_signal(signal.SIGKILL)  # mid-stream: no chance to commit what it applies now
        consumer.wait(10)
        killed_at = _up_to_date()
        assert killed_at < 3 + BACKLOG, "the consumer was killed before it caught up"

        consumer = _stats_consumer(broker, tmp_path)
        assert wait_until(_caught_up, timeout=90), "the restarted consumer caught up"
        assert stats_recompute(replace=False).differences == []
        totals = _year_totals(api(cast.platform_admin))
        assert totals["deals"] == totals["contracts"] == 3 + BACKLOG
        assert Decimal(totals["amount"]) == Decimal(totals["contract_value"]) == sum(through_api + backlog)

        consumer.send_signal(signal.SIGTERM)
        assert consumer.wait(20) == 0
    finally:
        if consumer.poll() is None:
            consumer.kill()
            consumer.wait(10)
