"""Builders for trading tests: auctions through the service, ends moved into the past (the API refuses to
open an auction that already ended), many enterprise bidders, and the outbox as payload lists."""

from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.utils import timezone

from market.accounts.models import OrganizationType, User
from market.events.models import OutboxEvent
from market.trading.models import Auction
from market.trading.services import auctions
from tests import factories


def open_auction(owner_user: User, listing: Any, **overrides: Any) -> Auction:
    now = timezone.now()
    values: dict[str, Any] = {
        "listing_kind": "patent" if hasattr(listing, "application_number") else "achievement",
        "listing_id": listing.pk,
        "starts_at": now - timedelta(minutes=1),
        "ends_at": now + timedelta(hours=1),
        "starting_price": Decimal("100000.00"),
        "bid_increment": Decimal("1000.00"),
        **overrides,
    }
    return auctions.auction_open(user=owner_user, **values)


def end_now(auction: Auction) -> None:
    """Move the end into the past, as time passing would."""
    Auction.objects.filter(pk=auction.pk).update(ends_at=timezone.now() - timedelta(seconds=1))


def enterprise_bidders(count: int) -> list[User]:
    orgs = [factories.organization(OrganizationType.ENTERPRISE) for _ in range(count)]
    return [factories.user(org) for org in orgs]


def events_of(type_name: str) -> list[dict[str, Any]]:
    return [row.data for row in OutboxEvent.objects.filter(type=type_name).order_by("created_at")]
