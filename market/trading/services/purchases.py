"""Purchases at the listed price (挂牌交易): an enterprise accepts a listing's price; a deal opens at once."""

from decimal import Decimal

from django.db import transaction
from django.utils.translation import gettext as _

from market.accounts.models import User
from market.accounts.permissions import belongs_to, can_post_demand
from market.common.errors import Conflict, Forbidden
from market.events.catalogue import PurchaseMade, money
from market.events.publishing import publish
from market.trading.models import DealParty, Purchase
from market.trading.services.availability import listing_claim
from market.trading.services.common import (
    acting_org_id,
    listed_price,
    listing_columns,
    needs_public_notice,
    published_listing,
)
from market.trading.services.deals import deal_open


def purchase_make(
    *, user: User, listing_kind: str, listing_id: int, amount: Decimal, transaction_mode: str
) -> Purchase:
    """An enterprise accepts the listed price (`amount`, the price it saw: a price changed since is refused,
    not silently taken). The listing is claimed under its row lock, so of two buyers at once the first wins
    and the second gets 409 `listing_reserved`. The deal opens with a public notice (公示) where a negotiated
    price would get one."""
    if not can_post_demand(user):
        raise Forbidden(_("Only members of approved enterprises buy listings."))
    buyer_id = acting_org_id(user)
    listing = published_listing(listing_kind, listing_id)
    if belongs_to(user, listing.owner_id):
        raise Forbidden(_("Your organization owns this listing."))
    with transaction.atomic():
        listing = listing_claim(listing_kind, listing_id)
        price = listed_price(listing)
        if price is None:
            raise Conflict(
                _("This listing has no listed price: make an offer or join its auction."),
                code="not_listed_price",
            )
        if amount != price:
            message = _("The listed price is %(price)s.") % {"price": money(price)}
            raise Conflict(message, code="price_changed", fields={"amount": [message]})
        purchase = Purchase.objects.create(
            listing_kind=listing_kind,
            **listing_columns(listing),
            buyer_id=buyer_id,
            buyer_user=user,
            amount=price,
            transaction_mode=transaction_mode,
        )
        deal = deal_open(
            source="purchase",
            actor=user,
            acting_as=DealParty.BUYER,
            with_notice=needs_public_notice(listing),
            title=purchase.title,
            seller_id=purchase.owner_id,
            buyer_id=buyer_id,
            patent_id=purchase.patent_id,
            achievement_id=purchase.achievement_id,
            purchase=purchase,
            amount=price,
            transaction_mode=transaction_mode,
        )
        publish(PurchaseMade.of(purchase, deal=deal))
    return purchase
