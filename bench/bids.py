"""Accepted bids per second through the bidding service (row lock, validation, bid row, auction update, two
outbox events), on one hot auction and spread over 100 auctions, against plain inserts of bid rows of the same
size, all with the same number of threads and measured in the same run.

    .venv/bin/python bench/bids.py [--quick]

Every bidder bids the minimum it last saw; a bid that lost the race (409) is retried with a fresh price, so
the figures count accepted bids only. On one auction the row lock serializes everything by design."""

import argparse
import itertools
import logging
import os
import random
import threading
from datetime import timedelta
from decimal import Decimal

from _harness import report, scratch_database, timed

THREADS = 8


def _market(count: int) -> tuple[list, list]:
    from django.utils import timezone

    from market.accounts.models import OrganizationType
    from market.trading.services import auctions
    from tests import factories

    university = factories.organization(OrganizationType.UNIVERSITY)
    seller = factories.user(university)
    bidders = [factories.user(factories.organization(OrganizationType.ENTERPRISE)) for _ in range(THREADS)]
    now = timezone.now()
    opened = []
    for _ in range(count):
        patent = factories.patent(university)
        auction = auctions.auction_open(
            user=seller,
            listing_kind="patent",
            listing_id=patent.pk,
            starts_at=now - timedelta(minutes=1),
            ends_at=now + timedelta(days=1),
            starting_price=Decimal("1000.00"),
            bid_increment=Decimal("10.00"),
            snipe_window_minutes=0,
        )
        for bidder in bidders:
            auctions.auction_register(auction=auction, user=bidder)
        opened.append(auction)
    return opened, bidders


def _in_threads(work) -> None:
    from django.db import connection

    def body(index: int) -> None:
        try:
            work(index)
        finally:
            connection.close()

    threads = [threading.Thread(target=body, args=(index,)) for index in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def bidding(auctions: list, bidders: list, total: int) -> dict[str, float]:
    """`total` accepted bids from THREADS bidders on the given auctions (random choice per bid)."""
    from market.common.errors import ApplicationError
    from market.trading.models import Auction
    from market.trading.services.auctions import bid_place

    ids = [auction.pk for auction in auctions]
    accepted = itertools.count(1)
    done = threading.Event()
    rejected = [0] * THREADS

    def bidder(index: int) -> None:
        # the quota is shared: a bidder that leads cannot bid again, so per-thread quotas could never finish
        chooser = random.Random(index)
        while not done.is_set():
            auction_id = chooser.choice(ids)
            price, increment = Auction.objects.values_list("current_price", "bid_increment").get(
                pk=auction_id
            )
            amount = Decimal("1000.00") if price is None else price + increment
            try:
                bid_place(auction_id=auction_id, user=bidders[index], amount=amount)
            except ApplicationError:  # lost the race or already leading: read again and retry
                rejected[index] += 1
                continue
            if next(accepted) >= total:
                done.set()

    seconds = timed(lambda: _in_threads(bidder))
    return {"accepted": next(accepted) - 1, "rejected": sum(rejected), "seconds": seconds}


def plain_inserts(auction, bidders: list, total: int) -> float:
    """The baseline: the same bid rows, inserted one per transaction (autocommit), no lock, no checks."""
    from django.utils import timezone

    from market.trading.models import AuctionRegistration, Bid

    registrations = {r.organization_id: r for r in AuctionRegistration.objects.filter(auction=auction)}
    sequence = itertools.count(10**6)
    per_thread = total // THREADS

    def inserter(index: int) -> None:
        user = bidders[index]
        for _ in range(per_thread):
            number = next(sequence)
            Bid.objects.create(
                auction=auction,
                registration=registrations[user.organization_id],
                organization_id=user.organization_id,
                user=user,
                amount=Decimal(number),
                sequence=number,
                placed_at=timezone.now(),
            )

    return timed(lambda: _in_threads(inserter))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller run, under 60 s")
    args = parser.parse_args()
    total = 800 if args.quick else 4000
    logging.disable(logging.WARNING)
    with scratch_database(f"bench_bids_{os.getpid()}"):
        auctions, bidders = _market(100)
        bidding(auctions[:1], bidders, THREADS * 10)  # warm-up: imports, connections
        hot = bidding(auctions[1:2], bidders, total)
        spread = bidding(auctions[2:], bidders, total)
        baseline_seconds = plain_inserts(auctions[0], bidders, total)
    hot_rate = hot["accepted"] / hot["seconds"]
    spread_rate = spread["accepted"] / spread["seconds"]
    insert_rate = total / baseline_seconds
    figures = {
        "threads": THREADS,
        "accepted_bids": total,
        "hot_accepted_bids_per_s": round(hot_rate, 1),
        "hot_rejected_retries": hot["rejected"],
        "spread_100_accepted_bids_per_s": round(spread_rate, 1),
        "spread_100_rejected_retries": spread["rejected"],
        "plain_inserts_per_s": round(insert_rate, 1),
        "hot_vs_plain_insert": round(hot_rate / insert_rate, 3),
        "spread_vs_plain_insert": round(spread_rate / insert_rate, 3),
    }
    report("bids", figures)


if __name__ == "__main__":
    main()
