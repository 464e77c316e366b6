"""Builders for trading tests: auctions through the service, ends moved into the past (the API refuses to
open an auction that already ended), many enterprise bidders, deals taken to completion, listings as the
public reads them, and the outbox as payload lists."""

from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.utils import timezone
from jsonschema import Draft202012Validator

from market.accounts.models import OrganizationType, User
from market.events.models import OutboxEvent
from market.events.schemas import stored_snapshots
from market.trading.models import Auction, Deal
from market.trading.services import auctions, deals, offers
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
    """The payloads of one type in the outbox, oldest first, each checked against every stored schema of its
    type (what a consumer relies on)."""
    payloads = [row.data for row in OutboxEvent.objects.filter(type=type_name).order_by("created_at")]
    for snapshot in stored_snapshots(type_name):
        for payload in payloads:
            Draft202012Validator(snapshot).validate(payload)
    return payloads


def deal_between(seller: User, buyer: User, *, mode: str = "transfer", amount: str = "300000") -> Deal:
    """A deal on a new patent of the seller's organization, from the buyer's accepted offer (no notice)."""
    assert seller.organization is not None
    patent = factories.patent(seller.organization, price=None)
    offer = offers.offer_make(
        user=buyer,
        listing_kind="patent",
        listing_id=patent.pk,
        amount=Decimal(amount),
        transaction_mode=mode,
    )
    offers.offer_accept(offer=offer, user=seller)
    return Deal.objects.get(offer=offer)


def noticed_deal(seller: User, buyer: User, *, mode: str = "transfer") -> Deal:
    """A negotiated sale of an achievement of the seller's organization, opened under public notice (公示)
    when the seller is a university or an institute."""
    assert seller.organization is not None
    achievement = factories.achievement(seller.organization, pricing_method="negotiated")
    offer = offers.offer_make(
        user=buyer,
        listing_kind="achievement",
        listing_id=achievement.pk,
        amount=Decimal("480000"),
        transaction_mode=mode,
    )
    offers.offer_accept(offer=offer, user=seller)
    return Deal.objects.get(offer=offer)


def register_contract(deal: Deal, *, seller: User, buyer: User, registrar: User) -> None:
    """Both parties confirm the signing, the seller submits the contract and a registrar (over the seller's
    region, or a platform administrator) registers it."""
    deals.deal_sign(deal=deal, user=buyer)
    deals.deal_sign(deal=deal, user=seller)
    deals.deal_registration_submit(
        deal=deal,
        user=seller,
        contract_type="transfer",
        contract_value=deal.amount,
        technology_transaction_value=deal.amount,
    )
    deals.deal_registration_approve(deal=deal, user=registrar, registration_number=f"330106{deal.pk:010d}")


def complete_deal(deal: Deal, *, seller: User, buyer: User, registrar: User) -> None:
    """Every step to completion, each by the side that takes it."""
    register_contract(deal, seller=seller, buyer=buyer, registrar=registrar)
    deals.deal_advance(deal=deal, user=seller, to="paid")
    deals.deal_advance(deal=deal, user=buyer, to="completed")


def availability(api: Any, listing: Any) -> str:
    """The listing's availability as its public detail endpoint shows it."""
    kind = "patents" if hasattr(listing, "application_number") else "achievements"
    response = api(None).get(f"/api/v1/{kind}/{listing.pk}/")
    assert response.status_code == 200, response.content
    return response.json()["availability"]
