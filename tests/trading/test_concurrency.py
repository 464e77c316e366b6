"""Against the real PostgreSQL, with real threads and connections: 200 bids from 20 threads on one auction
are strictly ordered, closing it twice or from two workers at once opens exactly one deal, and of buyers
accepting one listed price at once exactly the first gets it."""

import itertools
import random
import threading
from collections import Counter
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection, transaction
from rest_framework.test import APIClient

from market.catalog.models import Patent
from market.trading import tasks
from market.trading.models import Auction, AuctionStatus, Bid, Deal, Purchase
from market.trading.services import auctions
from tests import factories
from tests.locks import wait_until_blocked
from tests.trading.helpers import end_now, enterprise_bidders, events_of, open_auction

pytestmark = pytest.mark.django_db(transaction=True)

THREADS = 20
BIDS_PER_THREAD = 10
INCREMENT = Decimal("1000.00")


def _run_threads(target, count: int) -> None:
    barrier = threading.Barrier(count)
    errors: list[BaseException] = []

    def body(index: int) -> None:
        try:
            barrier.wait()
            target(index)
        except BaseException as error:  # surfaced to the test below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=body, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors


def test_200_bids_from_20_threads_then_closing_from_two_workers(cast, patent):
    auction = open_auction(cast.uni_member, patent, bid_increment=INCREMENT, reserve_price=Decimal("105000"))
    bidders = enterprise_bidders(THREADS)
    for user in bidders:
        auctions.auction_register(auction=auction, user=user)
    outcomes: list[tuple[int, str, int, str]] = []
    lock = threading.Lock()

    def bidder(index: int) -> None:
        client = APIClient()
        client.force_authenticate(bidders[index])
        chooser = random.Random(index)
        for attempt in range(BIDS_PER_THREAD):
            seen = Auction.objects.values_list("current_price", flat=True).get(pk=auction.pk)
            base = seen if seen is not None else Decimal("99000")
            # mostly the minimum at the time of reading (so threads race for the same amount), sometimes more,
            # and now and then a malformed amount that must get a 400
            amount = str(base + INCREMENT * chooser.choice((1, 1, 1, 2, 3))) if attempt != 7 else "-5"
            response = client.post(f"/api/v1/auctions/{auction.pk}/bids/", {"amount": amount}, format="json")
            body = response.json()
            code = body.get("error", {}).get("code", "") if response.status_code >= 400 else ""
            with lock:
                outcomes.append((index, amount, response.status_code, code))

    _run_threads(bidder, THREADS)

    assert len(outcomes) == THREADS * BIDS_PER_THREAD
    statuses = Counter(status for _, _, status, _ in outcomes)
    assert set(statuses) <= {201, 400, 409}, statuses
    assert statuses[400] == THREADS  # exactly the malformed ones
    assert {code for _, _, status, code in outcomes if status == 409} <= {"bid_too_low", "already_leading"}
    assert statuses[409] > 0  # the race was real
    assert statuses[201] > 5

    bids = list(Bid.objects.filter(auction=auction).order_by("sequence"))
    assert len(bids) == statuses[201]
    assert [bid.sequence for bid in bids] == list(range(1, len(bids) + 1))
    assert bids[0].amount >= auction.starting_price
    for previous, current in itertools.pairwise(bids):
        assert current.amount >= previous.amount + INCREMENT
        assert current.organization_id != previous.organization_id
        assert current.placed_at >= previous.placed_at
    assert len({bid.amount for bid in bids}) == len(bids)
    auction.refresh_from_db()
    assert auction.bid_count == len(bids)
    assert auction.current_price == bids[-1].amount and auction.leading_bid_id == bids[-1].pk
    assert len(events_of("market.bid.placed.v1")) == len(bids)
    assert len(events_of("market.bid.outbid.v1")) == len(bids) - 1

    # closing: two workers at once, then the beat task twice more
    end_now(auction)
    results: list[Auction | None] = []
    _run_threads(lambda _: results.append(auctions.auction_close(auction_id=auction.pk)), 2)
    assert sum(result is not None for result in results) == 1
    assert tasks.close_due_auctions() == {"closed": 0, "failed": 0}
    assert tasks.close_due_auctions() == {"closed": 0, "failed": 0}

    auction.refresh_from_db()
    assert auction.status == AuctionStatus.CLOSED
    deals = list(Deal.objects.filter(auction=auction))
    assert len(deals) == 1
    assert deals[0].amount == bids[-1].amount and deals[0].buyer_id == bids[-1].organization_id
    closed = events_of("market.auction.closed.v1")
    assert len(closed) == 1 and closed[0]["deal_id"] == deals[0].pk
    assert closed[0]["winner_org_id"] == bids[-1].organization_id
    assert len(events_of("market.deal.opened.v1")) == 1


def test_the_beat_task_run_by_two_workers_at_once_finishes_each_auction_once(cast):
    bidders = enterprise_bidders(2)
    opened = []
    for number in range(6):
        auction = open_auction(cast.uni_member, factories.patent(cast.university))
        if number % 2 == 0:  # half get a winning bid, half none (they fail)
            auctions.auction_register(auction=auction, user=bidders[0])
            auctions.bid_place(auction_id=auction.pk, user=bidders[0], amount=Decimal("100000"))
        end_now(auction)
        opened.append(auction)
    totals: list[dict[str, int]] = []
    _run_threads(lambda _: totals.append(tasks.close_due_auctions()), 2)

    assert sum(total["closed"] for total in totals) == 3
    assert sum(total["failed"] for total in totals) == 3
    assert Deal.objects.count() == 3
    assert len(events_of("market.auction.closed.v1")) == 3
    assert len(events_of("market.auction.failed.v1")) == 3
    assert not Auction.objects.filter(status=AuctionStatus.OPEN).exists()


PRICE = "200000.00"


def _buy(user, patent):
    client = APIClient()
    client.force_authenticate(user)
    body = {
        "listing_kind": "patent",
        "listing_id": patent.pk,
        "amount": PRICE,
        "transaction_mode": "transfer",
    }
    return client.post("/api/v1/purchases/", body, format="json")


def test_of_two_buyers_at_once_the_first_wins_and_the_second_waits_for_it_then_is_refused(cast):
    """The second purchase is provably queued behind the first one's uncommitted claim on the listing (its
    backend waits for a lock), and once the first commits it sees the first deal and answers 409."""
    patent = factories.patent(cast.university, price=Decimal(PRICE))
    first_bought, release = threading.Event(), threading.Event()
    second_pid: list[int] = []
    answers: dict[str, Any] = {}

    def first() -> None:
        try:
            with transaction.atomic():  # the purchase made, its transaction held open until released
                answers["first"] = _buy(cast.ent_member, patent)
                first_bought.set()
                release.wait(30)
        finally:
            connection.close()

    def second() -> None:
        try:
            connection.ensure_connection()
            second_pid.append(connection.connection.info.backend_pid)
            answers["second"] = _buy(cast.ent2_member, patent)
        finally:
            connection.close()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    threads[0].start()
    assert first_bought.wait(30)
    threads[1].start()
    try:
        while not second_pid:
            threads[1].join(0.01)
        wait_until_blocked(second_pid[0])
        assert not Deal.objects.exists()  # nothing committed yet: the second buyer waits, not fails
    finally:
        release.set()
        for thread in threads:
            thread.join(30)

    assert answers["first"].status_code == 201, answers["first"].content
    second = answers["second"]
    assert second.status_code == 409 and second.json()["error"]["code"] == "listing_reserved"
    [deal] = Deal.objects.filter(patent=patent)
    assert deal.buyer_id == cast.enterprise.pk and deal.purchase_id == answers["first"].json()["id"]
    assert Patent.objects.get(pk=patent.pk).availability == "reserved"
    assert len(events_of("market.purchase.made.v1")) == 1


def test_eight_buyers_accepting_one_listed_price_at_once_make_exactly_one_deal(cast):
    patent = factories.patent(cast.university, price=Decimal(PRICE))
    buyers = enterprise_bidders(8)
    answers: list[tuple[int, str]] = []
    lock = threading.Lock()

    def buyer(index: int) -> None:
        response = _buy(buyers[index], patent)
        code = response.json()["error"]["code"] if response.status_code >= 400 else ""
        with lock:
            answers.append((response.status_code, code))

    _run_threads(buyer, len(buyers))

    assert sorted(answers) == [(201, "")] + [(409, "listing_reserved")] * 7
    assert Purchase.objects.count() == 1 and Deal.objects.filter(patent=patent).count() == 1
    assert len(events_of("market.purchase.made.v1")) == 1
    assert len(events_of("market.deal.opened.v1")) == 1
    assert Patent.objects.get(pk=patent.pk).availability == "reserved"
