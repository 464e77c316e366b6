"""Reads for trading: who sees what. Auctions and their bid history are public (bidders masked); offers,
purchases and proposals are seen only by those taking part, deals also by oversight (platform administrators,
and government members for their region), so everyone else gets a 404 rather than a hint."""

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from market.accounts.models import User
from market.accounts.permissions import is_registrar, is_reviewer, jurisdiction
from market.common.filters import region_condition
from market.trading.models import (
    DEAL_STEPS,
    OPEN_MILESTONES,
    Auction,
    AuctionStatus,
    Bid,
    Deal,
    DealObjection,
    Offer,
    Proposal,
    Purchase,
    RegistrationStatus,
    notice_running_at,
)


def _org_id(user: User | None) -> int | None:
    return user.organization_id if user is not None and user.is_authenticated else None


def auction_list() -> QuerySet[Auction]:
    return Auction.objects.select_related("owner", "leading_bid__registration")


def auction_due_ids(*, limit: int = 500) -> list[int]:
    """Open auctions whose end has passed, oldest first: what the closing timer works on."""
    due = Auction.objects.filter(status=AuctionStatus.OPEN, ends_at__lte=timezone.now()).order_by("ends_at")
    return list(due.values_list("id", flat=True)[:limit])


def bid_history(*, auction: Auction) -> QuerySet[Bid]:
    return auction.bids.select_related("registration", "organization").order_by("-sequence")


def mask_name(name: str) -> str:
    """Bid history is public, bidders are not: keep the first and last character (某***司)."""
    if len(name) <= 2:
        return name[:1] + "*"
    return f"{name[0]}***{name[-1]}"


def registration_list(*, auction: Auction, user: User | None) -> QuerySet:
    """The owner sees every sign-up; a bidder sees its own."""
    queryset = auction.registrations.select_related("organization").order_by("paddle_number")
    org_id = _org_id(user)
    if org_id == auction.owner_id or is_reviewer(user):
        return queryset
    return queryset.filter(organization_id=org_id) if org_id else queryset.none()


def offer_list(*, user: User | None) -> QuerySet[Offer]:
    org_id = _org_id(user)
    if org_id is None:
        return Offer.objects.none()
    return (
        Offer.objects.filter(Q(buyer_id=org_id) | Q(owner_id=org_id))
        .select_related("owner", "buyer")
        .prefetch_related("rounds")
    )


def purchase_list(*, user: User | None) -> QuerySet[Purchase]:
    """Purchases the user's organization made, or received on its listings."""
    org_id = _org_id(user)
    if org_id is None:
        return Purchase.objects.none()
    return Purchase.objects.filter(Q(buyer_id=org_id) | Q(owner_id=org_id)).select_related(
        "owner", "buyer", "deal"
    )


def offer_decline_summary(*, user: User | None) -> dict[str, int]:
    """Why buyers passed on the user's organization's listings: declines by reason."""
    org_id = _org_id(user)
    if org_id is None:
        return {}
    rows = (
        Offer.objects.filter(owner_id=org_id, status="declined", declined_by="buyer")
        .values("decline_reason")
        .annotate(count=Count("id"))
    )
    return {row["decline_reason"]: row["count"] for row in rows}


def proposal_list(*, user: User | None) -> QuerySet[Proposal]:
    """Proposals the user's organization made, or received on its demands."""
    org_id = _org_id(user)
    if org_id is None:
        return Proposal.objects.none()
    return Proposal.objects.filter(Q(proposer_id=org_id) | Q(demand__owner_id=org_id)).select_related(
        "demand", "proposer"
    )


def _overseen(user: User, *organization_paths: str) -> Q | None:
    """The rows a government member oversees (those whose organization at any of `organization_paths` lies in
    its jurisdiction); None for everyone else. Platform administrators, who oversee everything, are the
    callers' first case: an empty Q would not mean "all" once combined with others."""
    region = jurisdiction(user)
    return None if region is None else region_condition(region, *organization_paths)


def deal_list(*, user: User | None) -> QuerySet[Deal]:
    """The parties and their broker see a deal; oversight reads it too: platform administrators every deal,
    government members the deals where a party (seller or buyer) is in their jurisdiction."""
    if user is None or not user.is_authenticated:
        return Deal.objects.none()
    deals = Deal.objects.select_related("seller", "buyer", "broker")
    if is_reviewer(user):
        return deals
    visible = Q(broker_id=user.pk)
    if user.organization_id:
        visible |= Q(seller_id=user.organization_id) | Q(buyer_id=user.organization_id)
    overseen = _overseen(user, "seller", "buyer")
    return deals.filter(visible if overseen is None else visible | overseen)


def deal_detail(*, user: User | None) -> QuerySet[Deal]:
    return deal_list(user=user).prefetch_related("milestones", "documents", "audit", "objections")


def deal_steps_open(*, deal: Deal, user: User | None) -> frozenset[str]:
    """The steps (`DEAL_STEPS` names) the user may take on the deal now: those `Deal.step_role` lets them take
    from the deal's stage, less those the deal's state refuses (a side that already confirmed the signing, a
    signing held by the public notice, a registration with the registrar or not submitted, a completion with
    milestones open, a broker mandate when the other party's broker is on the deal). What the deal room
    offers; the services check the same and say why."""
    if user is None or not user.is_authenticated:
        return frozenset()
    roles = {
        name: role
        for name, step in DEAL_STEPS.items()
        if deal.stage in step.from_stages and (role := deal.step_role(user, name)) is not None
    }
    refused: set[str] = set()
    if "sign" in roles and (deal.signed_at(roles["sign"]) is not None or deal.notice_hold() is not None):
        refused.add("sign")
    if deal.registration_awaits_decision:
        refused.add("submit_registration")
    else:
        refused |= {"approve_registration", "return_registration"}
    if "complete" in roles and deal.milestones.filter(OPEN_MILESTONES).exists():
        refused.add("complete")
    if deal.broker_id is not None and deal.broker_mandate not in deal.own_sides(user):
        refused.add("mandate_broker")
    return frozenset(roles) - refused


def notice_list() -> QuerySet[Deal]:
    """Deals under or after public notice (公示): title, parties and amount are public by design."""
    return Deal.objects.filter(notice_ends_at__isnull=False).select_related("seller", "buyer")


def notice_running_list() -> QuerySet[Deal]:
    """The public notices running now, the one ending first at the top: the deals anyone signed in may
    still object to (`objection_lodge` takes objections by the same rule)."""
    return notice_list().filter(notice_running_at(timezone.now())).order_by("notice_ends_at", "id")


def registration_queue(*, user: User | None) -> QuerySet[Deal]:
    """The contracts submitted for registration (in any later state too) that the user decides: a registrar
    those whose seller is in their jurisdiction (contracts are registered where the seller is), a platform
    administrator all."""
    submitted = Deal.objects.exclude(registration_status=RegistrationStatus.NOT_SUBMITTED).select_related(
        "seller", "buyer", "broker"
    )
    if is_reviewer(user):
        return submitted
    overseen = _overseen(user, "seller") if user is not None and is_registrar(user) else None
    return submitted.none() if overseen is None else submitted.filter(overseen)


def objection_list(*, user: User | None) -> QuerySet[DealObjection]:
    """Platform administrators (who rule) see every objection, government members those on the deals they
    oversee; anyone else the objections they lodged."""
    objections = DealObjection.objects.select_related("deal")
    if user is None or not user.is_authenticated:
        return objections.none()
    if is_reviewer(user):
        return objections
    overseen = _overseen(user, "deal__seller", "deal__buyer")
    mine = Q(user_id=user.pk)
    return objections.filter(mine if overseen is None else mine | overseen)
