"""A listing's availability (catalog's `Availability`), kept from the deals and auctions on it.

The stored column is what readers see; writers never trust it: every writer that commits a listing to a buyer
(opening an auction, opening a deal) first claims the listing, which locks its row and works its availability
out afresh from the rows that decide it, inside the claiming transaction. Two buyers claiming one listing
queue on that lock, and the second sees the first one's deal: the first valid acceptance wins. The unique
constraints on deals and auctions under way back this if a writer ever skipped the claim."""

from django.db.models import Q
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from market.catalog.models import TRADEABLE, Achievement, Availability, Patent
from market.common.errors import Conflict
from market.trading.models import (
    DEAL_UNDER_WAY,
    Auction,
    AuctionStatus,
    Deal,
    DealStage,
    availability_after,
)
from market.trading.services.common import listing_model


def _of_listing(listing: Patent | Achievement) -> Q:
    return Q(patent=listing) if isinstance(listing, Patent) else Q(achievement=listing)


def _derive(listing: Patent | Achievement) -> Availability:
    deals = Deal.objects.filter(_of_listing(listing))
    completed = deals.filter(stage=DealStage.COMPLETED).values_list("transaction_mode", flat=True)
    committed = (
        deals.filter(DEAL_UNDER_WAY).exists()
        or Auction.objects.filter(_of_listing(listing), status=AuctionStatus.OPEN).exists()
    )
    return availability_after(completed, committed=committed)


def _lock(model: type[Patent] | type[Achievement], listing_id: int) -> Patent | Achievement:
    """FOR NO KEY UPDATE: claims queue on each other, while rows that merely refer to the listing (an offer, a
    deal) can still be inserted meanwhile."""
    return (
        model.objects.select_related("owner").select_for_update(of=("self",), no_key=True).get(pk=listing_id)
    )


def availability_refresh(listing: Patent | Achievement) -> Availability:
    """Work the listing's availability out again and store it; call in the transaction that changed a deal or
    an auction on it, after the change."""
    locked = _lock(type(listing), listing.pk)
    availability = _derive(locked)
    if locked.availability != availability:
        type(locked).objects.filter(pk=locked.pk).update(availability=availability)
    listing.availability = availability
    return availability


#: availability -> (error code, message) of a listing that cannot be traded now
_REFUSALS: dict[str, tuple[str, Promise]] = {
    Availability.RESERVED: (
        "listing_reserved",
        _("This listing is reserved: a deal or an auction on it is under way."),
    ),
    Availability.SOLD: ("listing_sold", _("This listing has been sold.")),
    Availability.EXCLUSIVELY_LICENSED: (
        "listing_exclusively_licensed",
        _("This listing is exclusively licensed; it cannot be traded again."),
    ),
}


def require_tradeable(listing: Patent | Achievement) -> None:
    """409 naming the listing's availability unless it may be auctioned, take offers or be bought."""
    if listing.availability in TRADEABLE:
        return
    code, message = _REFUSALS[listing.availability]
    raise Conflict(str(message), code=code, fields={"listing_id": [str(message)]})


def listing_claim(kind: str, listing_id: int) -> Patent | Achievement:
    """Lock the listing's row until the transaction ends and refuse it unless it can be traded, judged from
    the rows as they are now (not from the stored column)."""
    listing = _lock(listing_model(kind), listing_id)
    listing.availability = _derive(listing)
    require_tradeable(listing)
    return listing
