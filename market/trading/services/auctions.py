"""Auctions (拍卖): opening, sign-up and deposits, bids, closing, cancelling."""

from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from market.accounts.models import User
from market.accounts.permissions import belongs_to, can_post_demand, is_reviewer
from market.catalog.models import (
    NdaAcceptance,
)
from market.common.errors import Conflict, Forbidden, Invalid
from market.events.catalogue import (
    AuctionCancelled,
    AuctionClosed,
    AuctionDepositConfirmed,
    AuctionFailed,
    AuctionOpened,
    AuctionRegistered,
    BidOutbid,
    BidPlaced,
    money,
)
from market.events.publishing import publish
from market.trading.models import (
    Auction,
    AuctionRegistration,
    AuctionStatus,
    Bid,
    DepositStatus,
    FailureReason,
)
from market.trading.services.availability import availability_refresh, listing_claim
from market.trading.services.common import acting_org_id, listing_columns, published_listing
from market.trading.services.deals import deal_open


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
    """The owner puts a published listing up for auction; one open auction per listing, and only while the
    listing can be traded. The open auction reserves it."""
    listing = published_listing(listing_kind, listing_id)
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
        raise Invalid(errors)
    try:
        with transaction.atomic():
            # the clearer answer than "reserved", which the claim below would give
            if Auction.objects.filter(
                **{f"{listing_kind}_id": listing_id}, status=AuctionStatus.OPEN
            ).exists():
                raise Conflict(_("This listing already has an open auction."), code="auction_exists")
            listing_claim(listing_kind, listing_id)
            auction = Auction.objects.create(
                listing_kind=listing_kind,
                **listing_columns(listing),
                created_by=user,
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
            availability_refresh(listing)
            publish(AuctionOpened.of(auction))
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


def auction_register(*, auction: Auction, user: User) -> tuple[AuctionRegistration, bool]:
    """An enterprise signs up to bid (once; signing up again returns the first registration). An achievement
    with confidential details needs its owner's NDA accepted first."""
    if not can_post_demand(user):
        raise Forbidden(_("Only members of approved enterprises bid in auctions."))
    org_id = acting_org_id(user)
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
        publish(AuctionRegistered.of(auction, registration))
    return registration, True


def registration_confirm_deposit(*, registration: AuctionRegistration, user: User) -> AuctionRegistration:
    """The owner confirms it received the bidder's deposit; only then may the bidder bid."""
    with transaction.atomic():
        auction = _lock_auction(registration.auction_id)
        if not belongs_to(user, auction.owner_id):
            raise Forbidden(_("Only the auction's owner confirms deposits."))
        if auction.status != AuctionStatus.OPEN:
            raise Conflict(_("This auction has ended."), code="auction_closed")
        registration = AuctionRegistration.objects.get(pk=registration.pk)
        if registration.deposit_status != DepositStatus.PENDING:
            raise Conflict(
                _("This registration has no deposit awaiting confirmation."), code="no_deposit_pending"
            )
        registration.deposit_status = DepositStatus.CONFIRMED
        registration.save(update_fields=["deposit_status", "updated_at"])
        publish(AuctionDepositConfirmed.of(auction, registration, actor_user_id=user.pk))
    return registration


def _too_low(minimum: Decimal) -> None:
    raise Conflict(
        _("The bid must be at least %(minimum)s.") % {"minimum": money(minimum)},
        code="bid_too_low",
        fields={"amount": [_("At least %(minimum)s.") % {"minimum": money(minimum)}]},
    )


def bid_place(*, auction_id: int, user: User, amount: Decimal) -> Bid:
    """Place a bid under the auction's row lock: the minimum is computed from the committed top bid, so two
    bids can never both be accepted at the same price, and each accepted bid exceeds the one before by at
    least the increment. A bid in the last minutes moves the end (anti-sniping)."""
    if not can_post_demand(user):
        raise Forbidden(_("Only members of approved enterprises bid in auctions."))
    org_id = acting_org_id(user)
    # the minimum only ever rises: a bid below the committed minimum is refused without queueing for the lock
    seen = (
        Auction.objects.only("starting_price", "current_price", "bid_increment").filter(pk=auction_id).first()
    )
    if seen is not None and seen.current_price is not None and amount < seen.minimum_next_bid:
        _too_low(seen.minimum_next_bid)
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
        if amount < auction.minimum_next_bid:
            _too_low(auction.minimum_next_bid)
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
        publish(BidPlaced.of(bid, auction=auction, extended_seconds=int(extended.total_seconds())))
        if previous is not None:
            publish(BidOutbid.of(bid, auction=auction, previous=previous))
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
        if top is None or auction.reserve_met is False:
            auction.status = AuctionStatus.FAILED
            auction.failure_reason = FailureReason.NO_BIDS if top is None else FailureReason.RESERVE_NOT_MET
            auction.save()
            availability_refresh(auction.listing)
            publish(AuctionFailed.of(auction))
            return auction
        auction.status = AuctionStatus.CLOSED
        auction.save()
        deal = deal_open(
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
        publish(AuctionClosed.of(auction, deal=deal))
    return auction


#: deposits an auction holds or may hold: a cancelled auction releases them
_HELD_DEPOSITS = (DepositStatus.PENDING, DepositStatus.CONFIRMED)


def auction_cancel(*, auction_id: int, user: User, reason: str = "") -> Auction:
    """The owner withdraws its auction before the first bid; a platform administrator stops one at any time,
    giving a reason. Deposits are released, everyone signed up hears of it, and the listing can be traded
    again. Under the auction's row lock, like closing: whichever comes first wins, and the closing timer
    leaves a cancelled auction alone (it finishes only open ones)."""
    reason = reason.strip()
    with transaction.atomic():
        auction = _lock_auction(auction_id)
        is_owner, is_administrator = belongs_to(user, auction.owner_id), is_reviewer(user)
        if not (is_owner or is_administrator):
            raise Forbidden(_("Only the auction's owner or a platform administrator cancels an auction."))
        if auction.status != AuctionStatus.OPEN:
            raise Conflict(_("This auction has ended."), code="auction_closed")
        if is_owner and auction.bid_count == 0:
            cancelled_by = "owner"
        elif not is_administrator:
            raise Conflict(
                _("Bids have been placed: only a platform administrator can cancel this auction now."),
                code="auction_has_bids",
            )
        elif not reason:
            raise Invalid(
                {"reason": [_("An administrator gives a reason for cancelling an auction.")]},
                message=_("Give a reason."),
            )
        else:
            cancelled_by = "administrator"
        auction.status = AuctionStatus.CANCELLED
        auction.cancel_reason = reason
        auction.closed_at = timezone.now()
        auction.bump_version()
        auction.save()
        registrations = list(auction.registrations.order_by("paddle_number"))
        released = [r for r in registrations if r.deposit_status in _HELD_DEPOSITS]
        AuctionRegistration.objects.filter(pk__in=[r.pk for r in released]).update(
            deposit_status=DepositStatus.RELEASED, updated_at=auction.closed_at
        )
        availability_refresh(auction.listing)
        publish(
            AuctionCancelled.of(
                auction,
                actor=user,
                cancelled_by=cancelled_by,
                registrations=registrations,
                released=released,
            )
        )
    return auction
