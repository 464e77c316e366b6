"""Trading fixtures: a published patent of the university and an auction on it; rate limits lifted for the
property tests."""

import pytest
from rest_framework.throttling import SimpleRateThrottle

from market.trading.models import Auction
from market.trading.services import auctions
from tests import factories
from tests.trading.helpers import open_auction


@pytest.fixture
def patent(cast):
    return factories.patent(cast.university, price=None)


@pytest.fixture
def auction(cast, patent) -> Auction:
    return open_auction(cast.uni_member, patent)


@pytest.fixture
def signed_up(cast, auction) -> Auction:
    """The auction with both test enterprises signed up (no deposit required)."""
    for user in (cast.ent_member, cast.ent2_member):
        auctions.auction_register(auction=auction, user=user)
    return auction


@pytest.fixture
def unthrottled(monkeypatch) -> None:
    """A few hundred requests in one test are the point of a property test; the rate limits have tests of
    their own."""
    monkeypatch.setattr(
        SimpleRateThrottle, "THROTTLE_RATES", dict.fromkeys(("anon", "user", "auth"), "100000/min")
    )
