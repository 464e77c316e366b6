"""Negotiated offers on a listing: make, counter, accept (which opens a deal), decline."""

from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from market.accounts.models import User
from market.accounts.permissions import belongs_to, can_post_demand
from market.catalog.models import (
    Achievement,
    Patent,
    PricingMethod,
)
from market.common.errors import Conflict, Forbidden, Invalid
from market.events.catalogue import (
    OfferAccepted,
    OfferCountered,
    OfferDeclined,
    OfferMade,
)
from market.events.publishing import publish
from market.trading.models import (
    DealParty,
    DeclineReason,
    Offer,
    OfferRound,
    OfferSide,
    OfferStatus,
)
from market.trading.services.availability import require_tradeable
from market.trading.services.common import (
    acting_org_id,
    listing_columns,
    needs_public_notice,
    published_listing,
)
from market.trading.services.deals import deal_open

#: pricing methods of achievements that take offers; patents take offers when they have no asking price (面议)
NEGOTIABLE = frozenset({PricingMethod.NEGOTIATED, PricingMethod.OPEN_TO_OFFERS})


def listing_takes_offers(listing: Patent | Achievement) -> bool:
    """Whether buyers negotiate this listing's price: an achievement priced "negotiated" or "open to offers",
    or a patent without an asking price (面议). A page asks this before it offers the form; `offer_make`
    refuses the rest."""
    return listing.price is None if isinstance(listing, Patent) else listing.pricing_method in NEGOTIABLE


def _offer_side(offer: Offer, user: User) -> str:
    if belongs_to(user, offer.buyer_id):
        return OfferSide.BUYER
    if belongs_to(user, offer.owner_id):
        return OfferSide.OWNER
    raise Forbidden(_("Only the buyer and the owner take part in this negotiation."))


def _lock_open_offer(offer: Offer) -> Offer:
    locked = (
        Offer.objects.select_for_update(of=("self",))
        .select_related("patent__owner", "achievement__owner")
        .get(pk=offer.pk)
    )
    if locked.status != OfferStatus.OPEN:
        raise Conflict(_("This negotiation has ended."), code="offer_closed")
    return locked


def offer_make(
    *,
    user: User,
    listing_kind: str,
    listing_id: int,
    amount: Decimal,
    transaction_mode: str,
    message: str = "",
) -> Offer:
    """An enterprise opens a negotiation on a listing priced "negotiated" or "open to offers" (or a patent
    without an asking price); one open negotiation per buyer and listing."""
    if not can_post_demand(user):
        raise Forbidden(_("Only members of approved enterprises make offers."))
    buyer_id = acting_org_id(user)
    listing = published_listing(listing_kind, listing_id)
    if not listing_takes_offers(listing):
        raise Conflict(
            _("This listing has a fixed price or is auctioned; it takes no offers."), code="not_negotiable"
        )
    require_tradeable(listing)
    try:
        with transaction.atomic():
            offer = Offer.objects.create(
                listing_kind=listing_kind,
                **listing_columns(listing),
                buyer_id=buyer_id,
                buyer_user=user,
                amount=amount,
                transaction_mode=transaction_mode,
                awaiting=OfferSide.OWNER,
            )
            OfferRound.objects.create(
                offer=offer, side=OfferSide.BUYER, user=user, amount=amount, message=message
            )
            publish(OfferMade.of(offer, actor=user))
    except IntegrityError as error:
        raise Conflict(
            _("Your organization already has an open offer on this listing."), code="offer_exists"
        ) from error
    return offer


def offer_counter(*, offer: Offer, user: User, amount: Decimal, message: str = "") -> Offer:
    side = _offer_side(offer, user)
    with transaction.atomic():
        offer = _lock_open_offer(offer)
        if side != offer.awaiting:
            raise Conflict(_("The other side has the next move."), code="not_your_turn")
        offer.amount = amount
        offer.awaiting = OfferSide.BUYER if side == OfferSide.OWNER else OfferSide.OWNER
        offer.bump_version()
        offer.save()
        OfferRound.objects.create(offer=offer, side=side, user=user, amount=amount, message=message)
        publish(OfferCountered.of(offer, actor=user))
    return offer


def offer_accept(*, offer: Offer, user: User) -> Offer:
    """The side whose turn it is accepts the amount on the table; a deal opens, if the listing can still be
    traded (another buyer's deal or an auction may have reserved it since the offer was made)."""
    side = _offer_side(offer, user)
    with transaction.atomic():
        offer = _lock_open_offer(offer)
        if side != offer.awaiting:
            raise Conflict(_("The other side has the next move."), code="not_your_turn")
        offer.status = OfferStatus.ACCEPTED
        offer.bump_version()
        offer.save()
        deal = deal_open(
            source="offer",
            actor=user,
            acting_as=DealParty.SELLER if side == OfferSide.OWNER else DealParty.BUYER,
            with_notice=needs_public_notice(offer.listing),
            title=offer.title,
            seller_id=offer.owner_id,
            buyer_id=offer.buyer_id,
            patent_id=offer.patent_id,
            achievement_id=offer.achievement_id,
            offer=offer,
            amount=offer.amount,
            transaction_mode=offer.transaction_mode,
        )
        publish(OfferAccepted.of(offer, actor=user, deal_id=deal.pk))
    return offer


def offer_decline(*, offer: Offer, user: User, reason_code: str, reason_text: str = "") -> Offer:
    """Either side ends the negotiation with a structured reason, so owners learn why buyers pass."""
    side = _offer_side(offer, user)
    if reason_code == DeclineReason.OTHER and not reason_text.strip():
        raise Invalid(
            {"reason_text": [_("Required when the reason is other.")]}, message=_("Explain the reason.")
        )
    with transaction.atomic():
        offer = _lock_open_offer(offer)
        offer.status = OfferStatus.DECLINED
        offer.decline_reason = reason_code
        offer.decline_text = reason_text.strip()
        offer.declined_by = side
        offer.bump_version()
        offer.save()
        publish(OfferDeclined.of(offer, actor=user))
    return offer
