"""Closing due auctions the way production does it: celery beat (its own process) schedules
`trading.close_due_auctions` every half second, and two worker processes on Redis run the copies at once.
Each auction ends exactly once: one deal for the sold one, one failure for the other, one event each."""

import os
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone

from market.trading.models import Auction, AuctionStatus, Deal
from market.trading.services import auctions
from tests import factories
from tests.processes import child_database_url
from tests.trading.helpers import enterprise_bidders, events_of, open_auction
from tests.waiting import wait_until

pytestmark = pytest.mark.django_db(transaction=True)

REPO = Path(__file__).resolve().parents[2]


def _celery(*arguments: str, environment: dict[str, str], log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "market.config.celery", *arguments, "--loglevel", "INFO"],
        cwd=REPO,
        env=environment,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )


def test_beat_and_two_workers_close_each_due_auction_exactly_once(cast, tmp_path):
    reserve = Decimal("100000.00")
    sold = open_auction(cast.uni_member, factories.patent(cast.university), reserve_price=reserve)
    unsold = open_auction(cast.uni_member, factories.patent(cast.university))
    winner, runner_up = enterprise_bidders(2)
    for user in (winner, runner_up):
        auctions.auction_register(auction=sold, user=user)
    auctions.bid_place(auction_id=sold.pk, user=runner_up, amount=Decimal("100000.00"))
    auctions.bid_place(auction_id=sold.pk, user=winner, amount=Decimal("101000.00"))
    # both end in three seconds, as time passing would have it (bids this late would extend the end)
    Auction.objects.filter(pk__in=[sold.pk, unsold.pk]).update(ends_at=timezone.now() + timedelta(seconds=3))

    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "market.config.settings",
        "DATABASE_URL": child_database_url(),
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "CELERY_TASK_DEFAULT_QUEUE": f"test-close-{uuid.uuid4().hex[:12]}",
        "AUCTION_CLOSE_INTERVAL": "0.5",
    }
    logs = tmp_path / "logs"
    logs.mkdir()
    processes = [
        _celery("beat", "--schedule", str(tmp_path / "schedule"), environment=environment, log=logs / "beat"),
        *(
            _celery(
                "worker",
                "--pool",
                "threads",
                "--concurrency",
                "2",
                "--hostname",
                f"close{number}@%h",
                "--without-mingle",
                "--without-gossip",
                environment=environment,
                log=logs / f"worker{number}",
            )
            for number in (1, 2)
        ),
    ]
    try:
        finished = wait_until(
            lambda: (
                not Auction.objects.filter(pk__in=[sold.pk, unsold.pk], status=AuctionStatus.OPEN).exists()
            ),
            timeout=60,
        )
        assert finished, "\n".join(path.read_text() for path in sorted(logs.iterdir()))
        time.sleep(2)  # four more beats, each run by whichever worker takes it: nothing may close twice
        worker_logs = (logs / "worker1").read_text() + (logs / "worker2").read_text()
        runs = [
            line
            for line in worker_logs.splitlines()
            if "trading.close_due_auctions" in line and "succeeded" in line
        ]
        assert len(runs) >= 4, worker_logs  # closing ran again and again after the auctions had ended
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()

    sold.refresh_from_db()
    unsold.refresh_from_db()
    assert sold.status == AuctionStatus.CLOSED and unsold.status == AuctionStatus.FAILED
    deal = Deal.objects.get(auction=sold)
    assert deal.amount == Decimal("101000.00") and deal.buyer_id == winner.organization_id
    assert [event["auction_id"] for event in events_of("market.auction.closed.v1")] == [sold.pk]
    assert [event["auction_id"] for event in events_of("market.auction.failed.v1")] == [unsold.pk]
