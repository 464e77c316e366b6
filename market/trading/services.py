"""Writes for trading. Every function is one transaction that locks what it changes, checks who may act, and
publishes each fact it creates through the outbox; permission checks live here so no caller can skip them.

Concurrency: everything that happens to one auction (sign-ups, bids, closing) runs under a row lock of the
auction, so bids are strictly ordered and closing happens once; a deal's stage changes lock the deal; offers
and proposals lock their own row (proposal acceptance also locks the demand, so a demand accepts one).
Unique constraints back every "only once" rule, so a second deal for the same auction cannot be stored even
if the locks were bypassed."""

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from market.accounts.models import SUPPLIER_TYPES, OrganizationType, User
from market.catalog.models import (
    Achievement,
    Demand,
    ListingStatus,
    NdaAcceptance,
    Patent,
    PricingMethod,
)
from market.common.errors import ApplicationError, Conflict, Forbidden
from market.common.permissions import belongs_to, can_list_supply, can_post_demand, is_reviewer
from market.events.catalogue import (
    AuctionClosed,
    AuctionDepositConfirmed,
    AuctionFailed,
    AuctionOpened,
    AuctionRegistered,
    BidOutbid,
    BidPlaced,
    DealAdvanced,
    DealCancelled,
    DealCompleted,
    DealContractRegistered,
    DealFact,
    DealOpened,
    DealUpdated,
    OfferAccepted,
    OfferCountered,
    OfferDeclined,
    OfferFact,
    OfferMade,
    ProposalAccepted,
    ProposalFact,
    ProposalShortlisted,
    ProposalSubmitted,
)
from market.events.publishing import publish
from market.trading.models import (
    Auction,
    AuctionRegistration,
    AuctionStatus,
    Bid,
    ContractType,
    Deal,
    DealAudit,
    DealDocument,
    DealMilestone,
    DealObjection,
    DealParty,
    DealStage,
    DeclineReason,
    DepositStatus,
    FailureReason,
    ListingKind,
    ObjectionStatus,
    Offer,
    OfferRound,
    OfferSide,
    OfferStatus,
    Proposal,
    ProposalStatus,
)

#: pricing methods of achievements that take offers; patents take offers when they have no asking price (面议)
NEGOTIABLE = frozenset({PricingMethod.NEGOTIATED, PricingMethod.OPEN_TO_OFFERS})
TERMINAL_STAGES = frozenset({DealStage.COMPLETED, DealStage.CANCELLED})


def _money(value: Decimal) -> str:
    return f"{value:.2f}"


def _notice_days() -> int:
    return int(getattr(settings, "TRADING_NOTICE_DAYS", 15))


def _listing_title(listing: Patent | Achievement) -> str:
    return listing.title if isinstance(listing, Patent) else listing.name


def _published_listing(kind: str, listing_id: int) -> Patent | Achievement:
    model = Patent if kind == ListingKind.PATENT else Achievement
    listing = model.objects.select_related("owner").filter(pk=listing_id).first()
    if listing is None or listing.status != ListingStatus.PUBLISHED:
        raise ApplicationError(
            _("Choose a published patent or achievement."),
            code="not_published",
            fields={"listing_id": [_("No published listing of this kind has this id.")]},
        )
    return listing


# ---- deals (opened by auctions, offers and proposals) ------------------------------------------------------


def _deal_fact(fact_class: type[DealFact], deal: Deal, *, actor_id: int, **extra: Any) -> DealFact:
    return fact_class(
        aggregate="deal",
        aggregate_id=deal.pk,
        version=deal.version,
        deal_id=deal.pk,
        stage=deal.stage,
        amount=_money(deal.amount),
        party_org_ids=deal.party_org_ids,
        broker_user_id=deal.broker_id,
        actor_user_id=actor_id,
        title=deal.title,
        seller_org_id=deal.seller_id,
        buyer_org_id=deal.buyer_id,
        transaction_mode=deal.transaction_mode,
        **extra,
    )


def _audit(
    deal: Deal, *, action: str, from_stage: str, actor: User | None, acting_as: str, note: str = ""
) -> None:
    DealAudit.objects.create(
        deal=deal,
        action=action,
        from_stage=from_stage,
        to_stage=deal.stage,
        actor=actor,
        acting_as=acting_as,
        note=note,
    )


def _deal_open(*, source: str, actor: User, acting_as: str, with_notice: bool = False, **fields: Any) -> Deal:
    """Create a deal in `negotiating`, audit and announce it. Call inside the caller's transaction; the
    one-to-one link to its source (auction, offer, proposal) makes a second deal for it impossible."""
    now = timezone.now()
    if with_notice:
        fields.update(notice_starts_at=now, notice_ends_at=now + timedelta(days=_notice_days()))
    try:
        with transaction.atomic():
            deal = Deal.objects.create(**fields)
    except IntegrityError as error:
        raise Conflict(_("A deal was already opened for this."), code="deal_exists") from error
    _audit(
        deal,
        action="opened",
        from_stage="",
        actor=None if acting_as == "system" else actor,
        acting_as=acting_as,
        note=source,
    )
    notice_ends = deal.notice_ends_at.isoformat() if deal.notice_ends_at else None
    publish(_deal_fact(DealOpened, deal, actor_id=actor.pk, source=source, notice_ends_at=notice_ends))
    return deal


# ---- auctions ----------------------------------------------------------------------------------------------


def auction_open(
    *,
    user: User,
    listing_kind: str,
    listing_id: int,
    starts_at: Any,
    ends_at: Any,
    starting_price: Decimal,
    bid_increment: Decimal,
    reserve_price: Decimal | None = None,
    deposit_amount: Decimal = Decimal("0"),
    snipe_window_minutes: int = 5,
    extension_minutes: int = 5,
    transaction_mode: str = "transfer",
) -> Auction:
    """The owner puts a published listing up for auction; one open auction per listing."""
    listing = _published_listing(listing_kind, listing_id)
    if not belongs_to(user, listing.owner_id):
        raise Forbidden(_("Only members of the owning organization auction this listing."))
    errors: dict[str, list[str]] = {}
    if ends_at <= starts_at:
        errors["ends_at"] = [_("The auction must end after it starts.")]
    elif ends_at <= timezone.now():
        errors["ends_at"] = [_("The end time is in the past.")]
    if reserve_price is not None and reserve_price < starting_price:
        errors["reserve_price"] = [_("The reserve price cannot be below the starting price.")]
    if errors:
        raise ApplicationError(_("The submitted data is not valid."), code="invalid", fields=errors)
    title = _listing_title(listing)
    try:
        with transaction.atomic():
            auction = Auction.objects.create(
                listing_kind=listing_kind,
                patent=listing if isinstance(listing, Patent) else None,
                achievement=listing if isinstance(listing, Achievement) else None,
                owner_id=listing.owner_id,
                created_by=user,
                title=title,
                starts_at=starts_at,
                ends_at=ends_at,
                scheduled_end=ends_at,
                starting_price=starting_price,
                reserve_price=reserve_price,
                bid_increment=bid_increment,
                deposit_amount=deposit_amount,
                snipe_window_minutes=snipe_window_minutes,
                extension_minutes=extension_minutes,
                transaction_mode=transaction_mode,
            )
            publish(
                AuctionOpened(
                    aggregate="auction",
                    aggregate_id=auction.pk,
                    version=auction.version,
                    auction_id=auction.pk,
                    listing_kind=listing_kind,
                    listing_id=listing.pk,
                    listing_title=title,
                    owner_org_id=listing.owner_id,
                    starts_at=auction.starts_at.isoformat(),
                    ends_at=auction.ends_at.isoformat(),
                    starting_price=_money(starting_price),
                    bid_increment=_money(bid_increment),
                    deposit_amount=_money(deposit_amount),
                )
            )
    except IntegrityError as error:
        raise Conflict(_("This listing already has an open auction."), code="auction_exists") from error
    return auction


def _lock_auction(auction_id: int) -> Auction:
    """Lock the auction row, then read its leading bid in a separate query. Joining the bid into the locking
    query would be wrong: when PostgreSQL waits for the lock it re-reads the locked row but keeps the joined
    row of its old snapshot, so a bidder would see a stale leader."""
    auction = Auction.objects.select_for_update().get(pk=auction_id)
    auction.leading_bid = Bid.objects.get(pk=auction.leading_bid_id) if auction.leading_bid_id else None
    return auction


def _registration_fact(
    fact_class: type[AuctionRegistered], auction: Auction, registration: AuctionRegistration, **extra: Any
) -> AuctionRegistered:
    return fact_class(
        aggregate="auction",
        aggregate_id=auction.pk,
        version=auction.version,
        auction_id=auction.pk,
        registration_id=registration.pk,
        bidder_org_id=registration.organization_id,
        bidder_user_id=registration.user_id,
        owner_org_id=auction.owner_id,
        listing_title=auction.title,
        deposit_status=registration.deposit_status,
        **extra,
    )


def _acting_org_id(user: User) -> int:
    """The organization a member acts for; the permission predicates (`can_post_demand`, `can_list_supply`)
    the callers check first already require one."""
    if user.organization_id is None:
        raise Forbidden(_("Join an approved organization first."))
    return user.organization_id


def auction_register(*, auction: Auction, user: User) -> tuple[AuctionRegistration, bool]:
    """An enterprise signs up to bid (once; signing up again returns the first registration). An achievement
    with confidential details needs its owner's NDA accepted first."""
    if not can_post_demand(user):
        raise Forbidden(_("Only members of approved enterprises bid in auctions."))
    org_id = _acting_org_id(user)
    existing = AuctionRegistration.objects.filter(auction=auction, organization_id=org_id).first()
    if existing is not None:
        return existing, False
    achievement = auction.achievement
    if (
        achievement is not None
        and achievement.nda_text
        and not NdaAcceptance.objects.filter(achievement=achievement, user=user).exists()
    ):
        raise Conflict(
            _("Accept the owner's non-disclosure agreement before signing up."), code="nda_required"
        )
    with transaction.atomic():
        auction = _lock_auction(auction.pk)
        if registration := AuctionRegistration.objects.filter(
            auction=auction, organization_id=org_id
        ).first():
            return registration, False
        if auction.status != AuctionStatus.OPEN or timezone.now() >= auction.ends_at:
            raise Conflict(_("This auction has ended."), code="auction_closed")
        last = auction.registrations.aggregate(last=Max("paddle_number"))["last"] or 0
        registration = AuctionRegistration.objects.create(
            auction=auction,
            organization_id=org_id,
            user=user,
            paddle_number=last + 1,
            deposit_status=DepositStatus.PENDING
            if auction.deposit_amount > 0
            else DepositStatus.NOT_REQUIRED,
        )
        publish(_registration_fact(AuctionRegistered, auction, registration))
    return registration, True


def registration_confirm_deposit(*, registration: AuctionRegistration, user: User) -> AuctionRegistration:
    """The owner confirms it received the bidder's deposit; only then may the bidder bid."""
    with transaction.atomic():
        auction = _lock_auction(registration.auction_id)
        if not belongs_to(user, auction.owner_id):
            raise Forbidden(_("Only the auction's owner confirms deposits."))
        registration = AuctionRegistration.objects.get(pk=registration.pk)
        if registration.deposit_status != DepositStatus.PENDING:
            raise Conflict(
                _("This registration has no deposit awaiting confirmation."), code="no_deposit_pending"
            )
        registration.deposit_status = DepositStatus.CONFIRMED
        registration.save(update_fields=["deposit_status", "updated_at"])
        publish(_registration_fact(AuctionDepositConfirmed, auction, registration, actor_user_id=user.pk))
    return registration


def _too_low(minimum: Decimal) -> None:
    raise Conflict(
        _("The bid must be at least %(minimum)s.") % {"minimum": _money(minimum)},
        code="bid_too_low",
        fields={"amount": [_("At least %(minimum)s.") % {"minimum": _money(minimum)}]},
    )


def bid_place(*, auction_id: int, user: User, amount: Decimal) -> Bid:
    """Place a bid under the auction's row lock: the minimum is computed from the committed top bid, so two
    bids can never both be accepted at the same price, and each accepted bid exceeds the one before by at
    least the increment. A bid in the last minutes moves the end (anti-sniping)."""
    if not can_post_demand(user):
        raise Forbidden(_("Only members of approved enterprises bid in auctions."))
    org_id = _acting_org_id(user)
    # the minimum only ever rises: a bid below the committed minimum is refused without queueing for the lock
    seen = Auction.objects.filter(pk=auction_id).values("current_price", "bid_increment").first()
    if seen and seen["current_price"] is not None and amount < seen["current_price"] + seen["bid_increment"]:
        _too_low(seen["current_price"] + seen["bid_increment"])
    with transaction.atomic():
        auction = _lock_auction(auction_id)
        now = timezone.now()
        if auction.status != AuctionStatus.OPEN or now >= auction.ends_at:
            raise Conflict(_("This auction has ended."), code="auction_closed")
        if now < auction.starts_at:
            raise Conflict(_("This auction has not started yet."), code="auction_not_started")
        registration = AuctionRegistration.objects.filter(auction=auction, organization_id=org_id).first()
        if registration is None:
            raise Forbidden(_("Sign up for this auction before bidding."), code="not_registered")
        if not registration.may_bid:
            raise Forbidden(_("The owner has not confirmed your deposit yet."), code="deposit_pending")
        previous = auction.leading_bid
        if previous is not None and previous.organization_id == org_id:
            raise Conflict(_("Your organization already holds the highest bid."), code="already_leading")
        # a leading bid set the current price
        minimum = (
            auction.starting_price
            if previous is None or auction.current_price is None
            else auction.current_price + auction.bid_increment
        )
        if amount < minimum:
            _too_low(minimum)
        try:
            with transaction.atomic():
                bid = Bid.objects.create(
                    auction=auction,
                    registration=registration,
                    organization_id=org_id,
                    user=user,
                    amount=amount,
                    sequence=auction.bid_count + 1,
                    placed_at=now,
                )
        except IntegrityError as error:  # the constraints behind the lock: never two bids at one amount
            raise Conflict(_("Someone else bid first."), code="bid_too_low") from error
        extended = timedelta(0)
        if auction.ends_at - now < timedelta(minutes=auction.snipe_window_minutes):
            new_end = now + timedelta(minutes=auction.extension_minutes)
            if new_end > auction.ends_at:
                extended = new_end - auction.ends_at
                auction.ends_at = new_end
        auction.current_price = amount
        auction.leading_bid = bid
        auction.bid_count = bid.sequence
        auction.bump_version()
        auction.save(
            update_fields=["current_price", "leading_bid", "bid_count", "ends_at", "version", "updated_at"]
        )
        publish(
            BidPlaced(
                aggregate="bid",
                aggregate_id=bid.pk,
                version=auction.version,
                auction_id=auction.pk,
                bid_id=bid.pk,
                sequence=bid.sequence,
                amount=_money(amount),
                bidder_user_id=user.pk,
                bidder_org_id=org_id,
                owner_org_id=auction.owner_id,
                listing_kind=auction.listing_kind,
                listing_id=auction.listing_id,
                listing_title=auction.title,
                ends_at=auction.ends_at.isoformat(),
                extended_seconds=int(extended.total_seconds()),
            )
        )
        if previous is not None:
            publish(
                BidOutbid(
                    aggregate="bid",
                    aggregate_id=bid.pk,
                    version=auction.version,
                    auction_id=auction.pk,
                    bid_id=bid.pk,
                    amount=_money(amount),
                    outbid_user_id=previous.user_id,
                    outbid_org_id=previous.organization_id,
                    outbid_amount=_money(previous.amount),
                    listing_title=auction.title,
                    ends_at=auction.ends_at.isoformat(),
                )
            )
    return bid


def auction_close(*, auction_id: int) -> Auction | None:
    """Finish a due auction exactly once: the top bid at or above the reserve wins and a deal opens, otherwise
    the auction fails. Returns None when there is nothing to do (already finished, or extended and not yet
    due), which the check under the lock decides, so two workers closing at once finish it once."""
    with transaction.atomic():
        auction = _lock_auction(auction_id)
        now = timezone.now()
        if auction.status != AuctionStatus.OPEN or now < auction.ends_at:
            return None
        auction.closed_at = now
        auction.bump_version()
        top = auction.leading_bid
        reserve_met = top is not None and (
            auction.reserve_price is None or top.amount >= auction.reserve_price
        )
        if top is None or not reserve_met:
            auction.status = AuctionStatus.FAILED
            auction.failure_reason = FailureReason.NO_BIDS if top is None else FailureReason.RESERVE_NOT_MET
            auction.save()
            publish(
                AuctionFailed(
                    aggregate="auction",
                    aggregate_id=auction.pk,
                    version=auction.version,
                    auction_id=auction.pk,
                    owner_org_id=auction.owner_id,
                    listing_title=auction.title,
                    reason=auction.failure_reason,
                )
            )
            return auction
        auction.status = AuctionStatus.CLOSED
        auction.save()
        deal = _deal_open(
            source="auction",
            actor=top.user,
            acting_as="system",
            title=auction.title,
            seller_id=auction.owner_id,
            buyer_id=top.organization_id,
            patent_id=auction.patent_id,
            achievement_id=auction.achievement_id,
            auction=auction,
            amount=top.amount,
            transaction_mode=auction.transaction_mode,
        )
        publish(
            AuctionClosed(
                aggregate="auction",
                aggregate_id=auction.pk,
                version=auction.version,
                auction_id=auction.pk,
                winner_user_id=top.user_id,
                winner_org_id=top.organization_id,
                amount=_money(top.amount),
                deal_id=deal.pk,
                owner_org_id=auction.owner_id,
                listing_title=auction.title,
            )
        )
    return auction


# ---- offers ------------------------------------------------------------------------------------------------


def _offer_fact(fact_class: type[OfferFact], offer: Offer, *, actor: User, **extra: Any) -> OfferFact:
    return fact_class(
        aggregate="offer",
        aggregate_id=offer.pk,
        version=offer.version,
        offer_id=offer.pk,
        listing_kind=offer.listing_kind,
        listing_id=offer.listing_id,
        listing_title=offer.title,
        buyer_org_id=offer.buyer_id,
        buyer_user_id=offer.buyer_user_id,
        owner_org_id=offer.owner_id,
        amount=_money(offer.amount),
        transaction_mode=offer.transaction_mode,
        actor_user_id=actor.pk,
        **extra,
    )


def _offer_side(offer: Offer, user: User) -> str:
    if belongs_to(user, offer.buyer_id):
        return OfferSide.BUYER
    if belongs_to(user, offer.owner_id):
        return OfferSide.OWNER
    raise Forbidden(_("Only the buyer and the owner take part in this negotiation."))


def _lock_open_offer(offer: Offer) -> Offer:
    locked = (
        Offer.objects.select_for_update(of=("self",)).select_related("achievement", "owner").get(pk=offer.pk)
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
    buyer_id = _acting_org_id(user)
    listing = _published_listing(listing_kind, listing_id)
    negotiable = (
        listing.price is None if isinstance(listing, Patent) else listing.pricing_method in NEGOTIABLE
    )
    if not negotiable:
        raise Conflict(
            _("This listing has a fixed price or is auctioned; it takes no offers."), code="not_negotiable"
        )
    try:
        with transaction.atomic():
            offer = Offer.objects.create(
                listing_kind=listing_kind,
                patent=listing if isinstance(listing, Patent) else None,
                achievement=listing if isinstance(listing, Achievement) else None,
                owner_id=listing.owner_id,
                buyer_id=buyer_id,
                buyer_user=user,
                title=_listing_title(listing),
                amount=amount,
                transaction_mode=transaction_mode,
                awaiting=OfferSide.OWNER,
            )
            OfferRound.objects.create(
                offer=offer, side=OfferSide.BUYER, user=user, amount=amount, message=message
            )
            publish(_offer_fact(OfferMade, offer, actor=user))
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
        publish(_offer_fact(OfferCountered, offer, actor=user))
    return offer


def _needs_public_notice(offer: Offer) -> bool:
    """Negotiated pricing of a public institution's achievement is published for objections (协议定价公示)."""
    return (
        offer.achievement is not None
        and offer.achievement.pricing_method == PricingMethod.NEGOTIATED
        and offer.owner.org_type in SUPPLIER_TYPES
    )


def offer_accept(*, offer: Offer, user: User) -> Offer:
    """The side whose turn it is accepts the amount on the table; a deal opens."""
    side = _offer_side(offer, user)
    with transaction.atomic():
        offer = _lock_open_offer(offer)
        if side != offer.awaiting:
            raise Conflict(_("The other side has the next move."), code="not_your_turn")
        offer.status = OfferStatus.ACCEPTED
        offer.bump_version()
        offer.save()
        deal = _deal_open(
            source="offer",
            actor=user,
            acting_as=DealParty.SELLER if side == OfferSide.OWNER else DealParty.BUYER,
            with_notice=_needs_public_notice(offer),
            title=offer.title,
            seller_id=offer.owner_id,
            buyer_id=offer.buyer_id,
            patent_id=offer.patent_id,
            achievement_id=offer.achievement_id,
            offer=offer,
            amount=offer.amount,
            transaction_mode=offer.transaction_mode,
        )
        publish(_offer_fact(OfferAccepted, offer, actor=user, deal_id=deal.pk))
    return offer


def offer_decline(*, offer: Offer, user: User, reason_code: str, reason_text: str = "") -> Offer:
    """Either side ends the negotiation with a structured reason, so owners learn why buyers pass."""
    side = _offer_side(offer, user)
    if reason_code == DeclineReason.OTHER and not reason_text.strip():
        raise ApplicationError(
            _("Explain the reason."),
            code="invalid",
            fields={"reason_text": [_("Required when the reason is other.")]},
        )
    with transaction.atomic():
        offer = _lock_open_offer(offer)
        offer.status = OfferStatus.DECLINED
        offer.decline_reason = reason_code
        offer.decline_text = reason_text.strip()
        offer.declined_by = side
        offer.bump_version()
        offer.save()
        publish(
            _offer_fact(
                OfferDeclined,
                offer,
                actor=user,
                reason_code=reason_code,
                reason_text=offer.decline_text,
                declined_by=side,
            )
        )
    return offer


# ---- proposals (揭榜) --------------------------------------------------------------------------------------


def _proposal_fact(fact_class: type[ProposalFact], proposal: Proposal, **extra: Any) -> ProposalFact:
    return fact_class(
        aggregate="proposal",
        aggregate_id=proposal.pk,
        version=proposal.version,
        proposal_id=proposal.pk,
        demand_id=proposal.demand_id,
        demand_title=proposal.demand.title,
        proposer_org_id=proposal.proposer_id,
        proposer_user_id=proposal.proposer_user_id,
        enterprise_org_id=proposal.demand.owner_id,
        amount=_money(proposal.amount),
        **extra,
    )


def proposal_submit(
    *, demand: Demand, user: User, summary: str, approach: str, amount: Decimal, transaction_mode: str
) -> Proposal:
    if not can_list_supply(user):
        raise Forbidden(_("Only members of approved universities and institutes propose solutions."))
    proposer_id = _acting_org_id(user)
    if demand.status != ListingStatus.PUBLISHED:
        raise Conflict(_("Only published demands take proposals."), code="not_published")
    try:
        with transaction.atomic():
            proposal = Proposal.objects.create(
                demand=demand,
                proposer_id=proposer_id,
                proposer_user=user,
                summary=summary,
                approach=approach,
                amount=amount,
                transaction_mode=transaction_mode,
            )
            publish(_proposal_fact(ProposalSubmitted, proposal))
    except IntegrityError as error:
        raise Conflict(
            _("Your organization already proposed for this demand."), code="proposal_exists"
        ) from error
    return proposal


def _require_demand_owner(proposal: Proposal, user: User) -> None:
    if not belongs_to(user, proposal.demand.owner_id):
        raise Forbidden(_("Only the enterprise that posted the demand decides on proposals."))


def proposal_shortlist(*, proposal: Proposal, user: User) -> Proposal:
    _require_demand_owner(proposal, user)
    with transaction.atomic():
        proposal = (
            Proposal.objects.select_for_update(of=("self",)).select_related("demand").get(pk=proposal.pk)
        )
        if proposal.status != ProposalStatus.SUBMITTED:
            raise Conflict(_("Only submitted proposals can be shortlisted."), code="invalid_transition")
        proposal.status = ProposalStatus.SHORTLISTED
        proposal.bump_version()
        proposal.save()
        publish(_proposal_fact(ProposalShortlisted, proposal))
    return proposal


def proposal_accept(*, proposal: Proposal, user: User) -> Proposal:
    """The enterprise accepts one shortlisted proposal per demand; a deal opens. The demand row is locked so
    two acceptances on the same demand serialize and the second sees the first."""
    _require_demand_owner(proposal, user)
    with transaction.atomic():
        demand = Demand.objects.select_for_update().get(pk=proposal.demand_id)
        proposal = Proposal.objects.select_for_update(of=("self",)).get(pk=proposal.pk)
        proposal.demand = demand
        if proposal.status != ProposalStatus.SHORTLISTED:
            raise Conflict(_("Shortlist the proposal before accepting it."), code="invalid_transition")
        if Proposal.objects.filter(demand=demand, status=ProposalStatus.ACCEPTED).exists():
            raise Conflict(_("This demand has already accepted a proposal."), code="already_accepted")
        proposal.status = ProposalStatus.ACCEPTED
        proposal.bump_version()
        proposal.save()
        deal = _deal_open(
            source="proposal",
            actor=user,
            acting_as=DealParty.BUYER,
            title=demand.title,
            seller_id=proposal.proposer_id,
            buyer_id=demand.owner_id,
            demand=demand,
            proposal=proposal,
            amount=proposal.amount,
            transaction_mode=proposal.transaction_mode,
        )
        publish(_proposal_fact(ProposalAccepted, proposal, deal_id=deal.pk))
    return proposal


# ---- deal workflow -----------------------------------------------------------------------------------------

#: stage -> (the stage it follows, the sides that perform the step). Contract registration (技术合同认定登记)
#: is the seller's filing; the seller confirms the money arrived; the buyer accepts the delivery.
STEPS: dict[str, tuple[str, frozenset[str]]] = {
    DealStage.CONTRACT_SIGNED: (DealStage.NEGOTIATING, frozenset({DealParty.SELLER, DealParty.BUYER})),
    DealStage.CONTRACT_REGISTERED: (DealStage.CONTRACT_SIGNED, frozenset({DealParty.SELLER})),
    DealStage.PAID: (DealStage.CONTRACT_REGISTERED, frozenset({DealParty.SELLER})),
    DealStage.COMPLETED: (DealStage.PAID, frozenset({DealParty.BUYER})),
}
#: before the contract is registered either side may walk away
CANCELLABLE = frozenset({DealStage.NEGOTIATING, DealStage.CONTRACT_SIGNED})


def _own_sides(deal: Deal, user: User) -> list[str]:
    return [
        side
        for side, org_id in ((DealParty.SELLER, deal.seller_id), (DealParty.BUYER, deal.buyer_id))
        if belongs_to(user, org_id)
    ]


def _acting_as(deal: Deal, user: User, allowed: frozenset[str]) -> str:
    """Which allowed side the user acts for: their own organization's, else the side that mandated them."""
    for side in _own_sides(deal, user):
        if side in allowed:
            return side
    if deal.broker_id is not None and deal.broker_id == user.pk and deal.broker_mandate in allowed:
        return f"broker:{deal.broker_mandate}"
    raise Forbidden(
        _("Only the %(sides)s may take this step.")
        % {"sides": " / ".join(str(DealParty(s).label) for s in sorted(allowed))}
    )


def _lock_deal(deal: Deal) -> Deal:
    return Deal.objects.select_for_update().get(pk=deal.pk)


def _check_step(deal: Deal, to: str) -> None:
    expected, _sides = STEPS[to]
    if deal.stage != expected:
        raise Conflict(
            _("A deal moves to %(to)s only from %(from)s; it is %(stage)s.")
            % {"to": to, "from": expected, "stage": deal.stage},
            code="invalid_transition",
        )
    if to == DealStage.CONTRACT_SIGNED and deal.notice_ends_at is not None:
        if timezone.now() < deal.notice_ends_at:
            raise Conflict(
                _("The public notice period runs until %(end)s.") % {"end": deal.notice_ends_at.isoformat()},
                code="notice_period",
            )
        if deal.objections.filter(status=ObjectionStatus.OPEN).exists():
            raise Conflict(_("An objection to this deal awaits a ruling."), code="objection_open")


def deal_advance(*, deal: Deal, user: User, to: str) -> Deal:
    """Contract signed, paid or completed. Contract registration has its own service (it records the
    registration), cancellation too (it records a reason)."""
    if to not in STEPS or to == DealStage.CONTRACT_REGISTERED:
        raise ApplicationError(
            _("Not a stage this step reaches."),
            code="invalid",
            fields={"to": [_("One of contract_signed, paid, completed.")]},
        )
    with transaction.atomic():
        deal = _lock_deal(deal)
        acting_as = _acting_as(deal, user, STEPS[to][1])
        _check_step(deal, to)
        from_stage = deal.stage
        deal.stage = to
        deal.bump_version()
        deal.save()
        _audit(deal, action="advance", from_stage=from_stage, actor=user, acting_as=acting_as)
        if to == DealStage.COMPLETED:
            publish(_deal_fact(DealCompleted, deal, actor_id=user.pk))
        else:
            publish(_deal_fact(DealAdvanced, deal, actor_id=user.pk, from_stage=from_stage))
    return deal


def deal_register_contract(
    *,
    deal: Deal,
    user: User,
    contract_type: str,
    contract_value: Decimal,
    technology_transaction_value: Decimal,
    registration_number: str,
    registered_on: date,
) -> Deal:
    """Record the technology-contract registration (技术合同认定登记): contract value and the
    technology-transaction value (the part that counts as technology income) are kept apart."""
    if technology_transaction_value > contract_value:
        raise ApplicationError(
            _("The submitted data is not valid."),
            code="invalid",
            fields={"technology_transaction_value": [_("Cannot exceed the contract value.")]},
        )
    if registered_on > timezone.localdate():
        raise ApplicationError(
            _("The submitted data is not valid."),
            code="invalid",
            fields={"registered_on": [_("The registration date is in the future.")]},
        )
    if contract_type not in ContractType.values:
        raise ApplicationError(
            _("Unknown contract type."), code="invalid", fields={"contract_type": [contract_type]}
        )
    with transaction.atomic():
        deal = _lock_deal(deal)
        acting_as = _acting_as(deal, user, STEPS[DealStage.CONTRACT_REGISTERED][1])
        _check_step(deal, DealStage.CONTRACT_REGISTERED)
        from_stage = deal.stage
        deal.stage = DealStage.CONTRACT_REGISTERED
        deal.contract_type = contract_type
        deal.contract_value = contract_value
        deal.technology_transaction_value = technology_transaction_value
        deal.registration_number = registration_number
        deal.registered_on = registered_on
        deal.bump_version()
        deal.save()
        _audit(
            deal,
            action="register_contract",
            from_stage=from_stage,
            actor=user,
            acting_as=acting_as,
            note=registration_number,
        )
        publish(
            _deal_fact(
                DealContractRegistered,
                deal,
                actor_id=user.pk,
                contract_type=contract_type,
                contract_value=_money(contract_value),
                technology_transaction_value=_money(technology_transaction_value),
                registration_number=registration_number,
                registered_on=registered_on.isoformat(),
            )
        )
    return deal


def _cancel(deal: Deal, *, actor: User, acting_as: str, reason: str) -> Deal:
    from_stage = deal.stage
    deal.stage = DealStage.CANCELLED
    deal.cancel_reason = reason
    deal.bump_version()
    deal.save()
    _audit(deal, action="cancel", from_stage=from_stage, actor=actor, acting_as=acting_as, note=reason)
    publish(_deal_fact(DealCancelled, deal, actor_id=actor.pk, reason=reason))
    return deal


def deal_cancel(*, deal: Deal, user: User, reason: str) -> Deal:
    if not reason.strip():
        raise ApplicationError(
            _("Give a reason."), code="invalid", fields={"reason": [_("This field is required.")]}
        )
    with transaction.atomic():
        deal = _lock_deal(deal)
        acting_as = _acting_as(deal, user, frozenset({DealParty.SELLER, DealParty.BUYER}))
        if deal.stage not in CANCELLABLE:
            raise Conflict(
                _("A registered contract can no longer be cancelled here."), code="invalid_transition"
            )
        return _cancel(deal, actor=user, acting_as=acting_as, reason=reason.strip())


def _deal_change(deal: Deal, *, user: User, acting_as: str, change: str, note: str = "") -> None:
    deal.bump_version()
    deal.save()
    _audit(deal, action=change, from_stage=deal.stage, actor=user, acting_as=acting_as, note=note)
    publish(_deal_fact(DealUpdated, deal, actor_id=user.pk, change=change))


def _require_active(deal: Deal) -> None:
    if deal.stage in TERMINAL_STAGES:
        raise Conflict(_("This deal is finished."), code="deal_finished")


def deal_broker_assign(*, deal: Deal, user: User, broker_id: int, commission: Decimal | None) -> Deal:
    """A party mandates a technology broker (a member of an approved intermediary) for its side."""
    broker = User.objects.select_related("organization").filter(pk=broker_id).first()
    if not (
        broker is not None
        and broker.is_active
        and broker.organization is not None
        and broker.organization.org_type == OrganizationType.INTERMEDIARY
        and broker.organization.is_approved
    ):
        raise ApplicationError(
            _("The broker must be a member of an approved intermediary organization."),
            code="invalid",
            fields={"broker_id": [_("Not a broker.")]},
        )
    with transaction.atomic():
        deal = _lock_deal(deal)
        own = _own_sides(deal, user)
        if not own:
            raise Forbidden(_("Only the parties mandate a broker."))
        _require_active(deal)
        if deal.broker_id is not None and deal.broker_mandate not in own:
            raise Conflict(_("The other party's broker is already on this deal."), code="broker_exists")
        deal.broker = broker
        deal.broker_mandate = own[0]
        deal.broker_commission = commission
        _deal_change(deal, user=user, acting_as=own[0], change="broker_assigned", note=str(broker.pk))
    return deal


def deal_milestone_add(
    *, deal: Deal, user: User, title: str, due_on: date | None, amount: Decimal | None
) -> DealMilestone:
    with transaction.atomic():
        deal = _lock_deal(deal)
        acting_as = _acting_as(deal, user, frozenset({DealParty.SELLER, DealParty.BUYER}))
        _require_active(deal)
        milestone = DealMilestone.objects.create(deal=deal, title=title, due_on=due_on, amount=amount)
        _deal_change(deal, user=user, acting_as=acting_as, change="milestone_added", note=title)
    return milestone


def deal_milestone_done(*, milestone: DealMilestone, user: User) -> DealMilestone:
    with transaction.atomic():
        deal = _lock_deal(milestone.deal)
        acting_as = _acting_as(deal, user, frozenset({DealParty.SELLER, DealParty.BUYER}))
        _require_active(deal)
        milestone = DealMilestone.objects.select_for_update().get(pk=milestone.pk)
        if milestone.done_at is not None:
            raise Conflict(_("This milestone is already done."), code="milestone_done")
        milestone.done_at = timezone.now()
        milestone.save(update_fields=["done_at", "updated_at"])
        _deal_change(deal, user=user, acting_as=acting_as, change="milestone_done", note=milestone.title)
    return milestone


def deal_document_add(*, deal: Deal, user: User, title: str, url: str) -> DealDocument:
    with transaction.atomic():
        deal = _lock_deal(deal)
        acting_as = _acting_as(deal, user, frozenset({DealParty.SELLER, DealParty.BUYER}))
        _require_active(deal)
        document = DealDocument.objects.create(deal=deal, title=title, url=url, uploaded_by=user)
        _deal_change(deal, user=user, acting_as=acting_as, change="document_added", note=title)
    return document


def objection_lodge(*, deal: Deal, user: User, text: str) -> DealObjection:
    """Anyone signed in may object while a deal's public notice runs."""
    if not (user and user.is_authenticated):
        raise Forbidden(_("Sign in to lodge an objection."))
    with transaction.atomic():
        deal = _lock_deal(deal)
        if (
            deal.notice_ends_at is None
            or timezone.now() >= deal.notice_ends_at
            or deal.stage in TERMINAL_STAGES
        ):
            raise Conflict(_("This deal is not in a public notice period."), code="no_notice")
        objection = DealObjection.objects.create(deal=deal, user=user, text=text)
        _deal_change(deal, user=user, acting_as="public", change="objection_lodged", note=text[:200])
    return objection


def objection_rule(
    *, objection: DealObjection, reviewer: User, upheld: bool, ruling: str = ""
) -> DealObjection:
    """A platform administrator rules: an upheld objection cancels the deal."""
    if not is_reviewer(reviewer):
        raise Forbidden(_("Only platform administrators rule on objections."))
    with transaction.atomic():
        deal = _lock_deal(objection.deal)
        objection = DealObjection.objects.select_for_update().get(pk=objection.pk)
        if objection.status != ObjectionStatus.OPEN:
            raise Conflict(_("This objection has been ruled on."), code="already_ruled")
        objection.status = ObjectionStatus.UPHELD if upheld else ObjectionStatus.DISMISSED
        objection.ruling = ruling
        objection.save(update_fields=["status", "ruling", "updated_at"])
        if upheld and deal.stage not in TERMINAL_STAGES:
            _cancel(deal, actor=reviewer, acting_as="reviewer", reason=ruling or _("Objection upheld."))
        else:
            _deal_change(
                deal, user=reviewer, acting_as="reviewer", change="objection_ruled", note=objection.status
            )
    return objection
