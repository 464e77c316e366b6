"""Celery timers of trading. `close_due_auctions` runs from beat; it is safe to run twice or from two workers
at once, because each auction is closed under its row lock and only while still open."""

from celery import shared_task

from market.trading import selectors
from market.trading.services import auctions


@shared_task(name="trading.close_due_auctions", ignore_result=True)
def close_due_auctions() -> dict[str, int]:
    """Close or fail every auction whose end has passed; counts only what this run finished."""
    finished = {"closed": 0, "failed": 0}
    for auction_id in selectors.auction_due_ids():
        auction = auctions.auction_close(auction_id=auction_id)
        if auction is not None:
            finished[auction.status] += 1
    return finished
