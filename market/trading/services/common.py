"""Helpers every trading aggregate shares: the listing being traded, the acting organization (amounts as
event strings are the events' own `money`)."""

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _

from market.accounts.models import SUPPLIER_TYPES, User
from market.catalog.models import Achievement, ListingStatus, Patent, PricingMethod
from market.common.errors import ApplicationError, Forbidden
from market.trading.models import ListingKind


def notice_days() -> int:
    return int(getattr(settings, "TRADING_NOTICE_DAYS", 15))


def listing_title(listing: Patent | Achievement) -> str:
    return listing.title if isinstance(listing, Patent) else listing.name


def listing_columns(listing: Patent | Achievement) -> dict[str, Any]:
    """The columns an auction or an offer copies from the listing it trades: link, owner and title."""
    return {
        "patent": listing if isinstance(listing, Patent) else None,
        "achievement": listing if isinstance(listing, Achievement) else None,
        "owner_id": listing.owner_id,
        "title": listing_title(listing),
    }


#: achievement pricing methods in which the parties set the price rather than bidding finding it
PRICE_SET_BY_PARTIES = frozenset({PricingMethod.NEGOTIATED, PricingMethod.LISTING})


def needs_public_notice(listing: Patent | Achievement) -> bool:
    """A public institution's achievement sold at a price the parties set, negotiated (协议定价) or listed
    (挂牌), is published for objections (公示) before the contract is signed; a price found by bidding (an
    auction) is not."""
    return (
        isinstance(listing, Achievement)
        and listing.pricing_method in PRICE_SET_BY_PARTIES
        and listing.owner.org_type in SUPPLIER_TYPES
    )


def listed_price(listing: Patent | Achievement) -> Decimal | None:
    """The price a buyer may simply accept (挂牌价): a patent's asking price, or an achievement's price when
    it is priced by listing; None when the price is negotiated, open to offers or found by auction."""
    if isinstance(listing, Achievement) and listing.pricing_method != PricingMethod.LISTING:
        return None
    return listing.price


def listing_model(kind: str) -> type[Patent] | type[Achievement]:
    return Patent if kind == ListingKind.PATENT else Achievement


def published_listing(kind: str, listing_id: int) -> Patent | Achievement:
    listing = listing_model(kind).objects.select_related("owner").filter(pk=listing_id).first()
    if listing is None or listing.status != ListingStatus.PUBLISHED:
        raise ApplicationError(
            _("Choose a published patent or achievement."),
            code="not_published",
            fields={"listing_id": [_("No published listing of this kind has this id.")]},
        )
    return listing


def acting_org_id(user: User) -> int:
    """The organization a member acts for; the permission predicates (`can_post_demand`, `can_list_supply`)
    the callers check first already require one."""
    if user.organization_id is None:
        raise Forbidden(_("Join an approved organization first."))
    return user.organization_id
