"""`run_consumer notify`: decides who must hear of each market fact and writes their notifications in the
handler's transaction (with the inbox row of the event, so a redelivered event changes nothing).

A subscription (saved search, followed listing, organization or IPC class) hears only of facts that happened
after it was created, by the event's own time (CloudEvents `time`, the outbox row's: a re-sent event keeps
it), not by when the consumer gets to it; what it would have matched before is one search link in the
subscription's API output (`earlier_matches`). An event without a time (the relay always sends one) is
matched against every subscription.

- a newly published listing or demand (or a new public expert profile): subscribers whose saved search,
  followed organization or IPC class matches it (through the subscription index), followers of the listing;
- a listing submitted: the reviewers; published or rejected: the owner organization's members;
- a followed listing updated, withdrawn or closed: its followers who may read it (see `_listing_followers`);
- a demand solved (a proposal accepted): its followers, like any closed listing;
- trading: the owner on a new bid, offer, purchase at the listed price or proposal; the previous top bidder
  when outbid; everyone signed up (and the owner, unless it cancelled) when an auction is cancelled; the other
  side of an offer; the proposer when shortlisted, accepted or not selected; parties and broker on every deal
  step, the registrars over the seller's region when a contract is submitted for registration, the platform
  administrators when an objection is lodged."""

from collections.abc import Iterable
from typing import Any

from market.accounts.models import Organization, User
from market.accounts.selectors import registrars_over
from market.catalog.models import Patent
from market.catalog.snapshots import AchievementSnapshot, ExpertSnapshot
from market.events.catalogue import (
    TOPICS,
    AuctionCancelled,
    AuctionClosed,
    AuctionFailed,
    AuctionOpened,
    BidOutbid,
    BidPlaced,
    DealCancelled,
    DealContractRegistered,
    DealFact,
    DealMilestoneWaived,
    DealRegistrationReturned,
    DealRegistrationSubmitted,
    DealSigningConfirmed,
    DealUpdated,
    Event,
    ExpertCreated,
    ListingClosed,
    ListingFact,
    ListingPublished,
    ListingRejected,
    ListingSubmitted,
    ListingUpdated,
    ListingWithdrawn,
    OfferAccepted,
    OfferDeclined,
    OfferFact,
    ProposalAccepted,
    ProposalFact,
    ProposalNotSelected,
    ProposalSubmitted,
    PurchaseMade,
)
from services.common.consumer import ConsumerSpec, ReceivedEvent, decode, deduplicate
from services.notify.links import (
    deal_link,
    listing_link,
    objection_queue_link,
    proposal_link,
    registration_queue_link,
    review_link,
)
from services.notify.matching import candidates, listing_facts, matching_subscriptions
from services.notify.models import NotificationKind, Subscription, SubscriptionKind
from services.notify.selectors import listing_as_seen_by
from services.notify.services.fanout import Recipient, notifications_create

LISTING_KINDS = ("patent", "achievement", "demand", "expert")
TRADING_TOPIC = "market.trading"


def _users(ids: Iterable[int | None]) -> list[User]:
    wanted = {pk for pk in ids if pk}
    return list(User.objects.filter(pk__in=wanted, is_active=True)) if wanted else []


def _members(org_ids: Iterable[int | None], *, except_user: int | None = None) -> list[User]:
    wanted = {pk for pk in org_ids if pk}
    if not wanted:
        return []
    members = User.objects.filter(organization_id__in=wanted, is_active=True)
    return list(members.exclude(pk=except_user) if except_user is not None else members)


def _recipients(users: Iterable[User], **context: Any) -> list[Recipient]:
    return [Recipient(user=user, context=context) for user in users]


def _emit(
    received: ReceivedEvent, kind: NotificationKind, recipients: list[Recipient], context: dict[str, Any]
) -> None:
    notifications_create(
        event_id=received.id, event_type=received.type, kind=kind, recipients=recipients, context=context
    )


# ---- listings -------------------------------------------------------------------------------------------


def _new_listing(received: ReceivedEvent, event: ListingFact, context: dict[str, Any]) -> None:
    """A publication (or a public expert profile): its snapshot is public content by definition, so the
    listing's followers, followers of its organization and matching searches hear of it without a further
    visibility check, even when the event is read after the listing was withdrawn again."""
    snapshot = event.snapshot
    linked = (
        Patent.objects.filter(pk__in=snapshot.patent_ids).values_list("ipc_codes", flat=True)
        if isinstance(snapshot, AchievementSnapshot)
        else []
    )
    facts = listing_facts(
        event.aggregate, snapshot.data(), linked_ipc_codes=[code for codes in linked for code in codes]
    )
    owner_org = event.owner_org_id
    followers: list[Recipient] = []
    matched: list[Recipient] = []
    for subscription in matching_subscriptions(facts, existed_at=received.time):
        if subscription.user.organization_id == owner_org and owner_org is not None:
            continue  # nobody needs to hear about their own organization's listing
        name = subscription.name or subscription.params.get("q") or subscription.params.get("ipc") or ""
        recipient = Recipient(
            user=subscription.user, subscription=subscription, context={"subscription_name": name}
        )
        (followers if subscription.kind == SubscriptionKind.LISTING else matched).append(recipient)
    _emit(received, NotificationKind.LISTING_CHANGED, followers, {**context, "fact": "published"})
    _emit(received, NotificationKind.LISTING_MATCHED, matched, context)


def _followers(received: ReceivedEvent, aggregate: str, listing_id: int) -> list[Subscription]:
    """Followers of a listing who followed it before the fact happened."""
    return candidates(
        [f"listing:{aggregate}:{listing_id}"], kinds=[SubscriptionKind.LISTING], existed_at=received.time
    )


def _left_the_public_market(event: ListingFact) -> bool:
    """Closed (only ever from published) or withdrawn while published: every follower saw it as it was."""
    return isinstance(event, ListingClosed) or (
        isinstance(event, ListingWithdrawn) and event.previous_status == "published"
    )


def _listing_followers(received: ReceivedEvent, event: ListingFact, context: dict[str, Any]) -> None:
    """Tell a followed listing's followers of a change, but never more than its detail endpoint shows them.

    A follower is told when the listing, as they can read it right now (the catalog's selector), is at
    exactly the version the event describes: an edit of a draft or of a withdrawn listing reaches its
    owners, never outsiders, and a late event never carries content that has since been hidden or changed.

    The one exception is a listing leaving the public market: closed, or withdrawn while published. It is
    hidden from then on, yet every follower is told, because they followed it while it was public and
    need to know it is gone, and the event's snapshot is exactly what was public (a published listing
    cannot be edited). A withdrawal from review (pending, never seen outside) follows the general rule."""
    kind, listing_id = event.aggregate, event.aggregate_id
    subscriptions = _followers(received, kind, listing_id)
    if not _left_the_public_market(event):
        subscriptions = [
            subscription
            for subscription in subscriptions
            if getattr(
                listing_as_seen_by(user=subscription.user, kind=kind, listing_id=listing_id), "version", None
            )
            == event.version
        ]
    recipients = [
        Recipient(user=subscription.user, subscription=subscription) for subscription in subscriptions
    ]
    _emit(received, NotificationKind.LISTING_CHANGED, recipients, {**context, "fact": event.fact})


def _listing(received: ReceivedEvent, event: ListingFact) -> None:
    context = {
        "listing_kind": event.aggregate,
        "listing_id": event.aggregate_id,
        "title": event.snapshot.heading,
        "link": listing_link(event.aggregate, event.aggregate_id),
    }
    owners = [event.owner_org_id]
    match event:
        case ListingPublished():
            _new_listing(received, event, context)
            _emit(
                received,
                NotificationKind.LISTING_REVIEWED,
                _recipients(_members(owners)),
                {**context, "fact": event.fact},
            )
        case ExpertCreated(snapshot=ExpertSnapshot(is_public=True)):
            _new_listing(received, event, context)
        case ListingSubmitted():
            reviewers = User.objects.filter(is_platform_admin=True, is_active=True)
            _emit(
                received,
                NotificationKind.REVIEW_PENDING,
                _recipients(reviewers),
                {**context, "link": review_link(event.aggregate)},
            )
        case ListingRejected():
            reviewed = {**context, "fact": event.fact, "reason": event.reason}
            _emit(received, NotificationKind.LISTING_REVIEWED, _recipients(_members(owners)), reviewed)
        case ListingUpdated() | ListingWithdrawn() | ListingClosed():
            _listing_followers(received, event, context)


# ---- trading --------------------------------------------------------------------------------------------


def _trading_context(
    event: Event, *, title: str, amount: str = "", listing: tuple[str, int] | None = None, **details: Any
) -> dict[str, Any]:
    """What a trading notification shows: the fact, the thing traded (its listing's link, unless `details`
    bring another) and the event's ids and moments."""
    kind, listing_id = listing or ("", 0)
    link = listing_link(kind, listing_id) if listing else ""
    return {
        "fact": event.fact,
        "listing_kind": kind,
        "title": title,
        "amount": amount,
        "link": link,
        **details,
    }


def _auction(
    received: ReceivedEvent, event: AuctionOpened | AuctionClosed | AuctionFailed | AuctionCancelled
) -> None:
    match event:
        case AuctionOpened():
            # only followers who can still read the listing (it may have been withdrawn since it opened)
            kind, listing_id = event.listing_kind, event.listing_id
            followers = [
                Recipient(user=subscription.user)
                for subscription in _followers(received, kind, listing_id)
                if listing_as_seen_by(user=subscription.user, kind=kind, listing_id=listing_id) is not None
            ]
            opened = _trading_context(
                event,
                title=event.listing_title,
                listing=(kind, listing_id),
                auction_id=event.auction_id,
                ends_at=event.ends_at,
                starting_price=event.starting_price,
            )
            _emit(received, NotificationKind.AUCTION_OPENED, followers, opened)
        case AuctionClosed():
            winner = _recipients(_users([event.winner_user_id]), won=True)
            closed = _trading_context(
                event,
                title=event.listing_title,
                amount=event.amount,
                link=deal_link(event.deal_id),
                auction_id=event.auction_id,
                deal_id=event.deal_id,
            )
            _emit(
                received,
                NotificationKind.AUCTION_RESULT,
                winner + _recipients(_members([event.owner_org_id])),
                closed,
            )
        case AuctionFailed():
            failed = _trading_context(
                event, title=event.listing_title, auction_id=event.auction_id, reason=event.reason
            )
            _emit(
                received, NotificationKind.AUCTION_RESULT, _recipients(_members([event.owner_org_id])), failed
            )
        case AuctionCancelled():
            actor = event.actor_user_id
            users = _users(pk for pk in event.registered_user_ids if pk != actor)
            cancelled = _trading_context(
                event,
                title=event.listing_title,
                listing=(event.listing_kind, event.listing_id),
                auction_id=event.auction_id,
                reason=event.reason,
                deposit_released=bool(event.released_registration_ids),
            )
            owners = _members([event.owner_org_id], except_user=actor)
            _emit(
                received,
                NotificationKind.AUCTION_RESULT,
                _recipients(users) + _recipients(owners),
                cancelled,
            )


def _bid(received: ReceivedEvent, event: BidPlaced | BidOutbid) -> None:
    match event:
        case BidPlaced():
            owners = _members([event.owner_org_id], except_user=event.bidder_user_id)
            placed = _trading_context(
                event,
                title=event.listing_title,
                amount=event.amount,
                listing=(event.listing_kind, event.listing_id),
                auction_id=event.auction_id,
                ends_at=event.ends_at,
            )
            _emit(received, NotificationKind.BID_PLACED, _recipients(owners), placed)
        case BidOutbid():
            outbid = _trading_context(
                event,
                title=event.listing_title,
                amount=event.amount,
                auction_id=event.auction_id,
                ends_at=event.ends_at,
            )
            _emit(received, NotificationKind.OUTBID, _recipients(_users([event.outbid_user_id])), outbid)


def _offer(received: ReceivedEvent, event: OfferFact) -> None:
    """To the other side: the owner organization when the buyer acted, else the buyer."""
    accepted: dict[str, Any] = {}
    if isinstance(event, OfferAccepted):  # from now on the offer is a deal
        accepted = {"link": deal_link(event.deal_id), "deal_id": event.deal_id}
    context = _trading_context(
        event,
        title=event.listing_title,
        amount=event.amount,
        listing=(event.listing_kind, event.listing_id),
        offer_id=event.offer_id,
        **accepted,
        reason_text=event.reason_text if isinstance(event, OfferDeclined) else "",
    )
    actor = event.actor_user_id
    actor_org = User.objects.filter(pk=actor).values_list("organization_id", flat=True).first()
    if actor == event.buyer_user_id or (actor_org is not None and actor_org == event.buyer_org_id):
        users = _members([event.owner_org_id], except_user=actor)
    else:
        users = _users([event.buyer_user_id])
    _emit(received, NotificationKind.OFFER, _recipients(users), context)


def _purchase(received: ReceivedEvent, event: PurchaseMade) -> None:
    """The owner organization hears that a buyer accepted its listed price, and of the deal that opened."""
    context = _trading_context(
        event,
        title=event.listing_title,
        amount=event.amount,
        listing=(event.listing_kind, event.listing_id),
        link=deal_link(event.deal_id),
        purchase_id=event.purchase_id,
        deal_id=event.deal_id,
        notice_ends_at=event.notice_ends_at or "",
    )
    owners = _members([event.owner_org_id], except_user=event.buyer_user_id)
    _emit(received, NotificationKind.PURCHASE, _recipients(owners), context)


def _proposal(received: ReceivedEvent, event: ProposalFact) -> None:
    """Decided proposals link to what the proposer can still open: the demand is closed once one is accepted,
    so the accepted one leads to its deal and the others to the proposal itself."""
    decided: dict[str, Any] = {}
    if isinstance(event, ProposalAccepted):
        decided = {"deal_id": event.deal_id, "link": deal_link(event.deal_id)}
    elif isinstance(event, ProposalNotSelected):
        decided = {"reason": event.reason, "link": proposal_link(event.proposal_id)}
    context = _trading_context(
        event,
        title=event.demand_title,
        amount=event.amount,
        listing=("demand", event.demand_id),
        proposal_id=event.proposal_id,
        **decided,
    )
    if isinstance(event, ProposalSubmitted):
        users = _members([event.enterprise_org_id], except_user=event.proposer_user_id)
    else:
        users = _users([event.proposer_user_id])
    _emit(received, NotificationKind.PROPOSAL, _recipients(users), context)


def _deal_details(event: DealFact) -> dict[str, Any]:
    """What a deal notification says beyond the stage: why (a cancellation, a returned registration, a waived
    milestone), which milestone, the registration number, who confirmed the signing."""
    match event:
        case DealCancelled() | DealRegistrationReturned():
            return {"reason": event.reason}
        case DealMilestoneWaived():
            return {"reason": event.reason, "milestone_title": event.milestone_title}
        case DealContractRegistered():
            return {"registration_number": event.registration_number}
        case DealSigningConfirmed():
            return {"side": event.side, "awaiting_side": event.awaiting_side}
    return {}


def _deal(received: ReceivedEvent, event: DealFact) -> None:
    """The parties and the broker hear of every step (but whoever took it); the registrars over the seller's
    region of a contract submitted for registration; the platform administrators of an objection lodged (they
    rule on it)."""
    actor = event.actor_user_id
    users = _members(event.party_org_ids, except_user=actor) + [
        user for user in _users([event.broker_user_id]) if user.pk != actor
    ]
    context = _trading_context(
        event,
        title=event.title,
        amount=event.amount,
        link=deal_link(event.deal_id),
        deal_id=event.deal_id,
        stage=event.stage,
        **_deal_details(event),
    )
    _emit(received, NotificationKind.DEAL, _recipients(users), context)
    match event:
        case DealRegistrationSubmitted():
            seller = Organization.objects.filter(pk=event.seller_org_id).first()
            registrars = registrars_over(seller) if seller is not None else []
            queue = {**context, "link": registration_queue_link()}
            _emit(received, NotificationKind.REGISTRATION_PENDING, _recipients(registrars), queue)
        case DealUpdated(change="objection_lodged"):
            administrators = User.objects.filter(is_platform_admin=True, is_active=True)
            objections = {**context, "link": objection_queue_link(event.deal_id)}
            _emit(received, NotificationKind.OBJECTION, _recipients(administrators), objections)


def notify_handle(received: ReceivedEvent) -> None:
    """Dispatch on the event's class; registrations, deposits and NDAs are settled in the web views."""
    match received.event:
        case ListingFact() as event:
            _listing(received, event)
        case AuctionOpened() | AuctionClosed() | AuctionFailed() | AuctionCancelled() as event:
            _auction(received, event)
        case BidPlaced() | BidOutbid() as event:
            _bid(received, event)
        case OfferFact() as event:
            _offer(received, event)
        case PurchaseMade() as event:
            _purchase(received, event)
        case ProposalFact() as event:
            _proposal(received, event)
        case DealFact() as event:
            _deal(received, event)


SPEC = ConsumerSpec(
    name="notify",
    topics=tuple(sorted({TOPICS[kind] for kind in LISTING_KINDS} | {TRADING_TOPIC})),
    steps=(decode, deduplicate(notify_handle)),
)
