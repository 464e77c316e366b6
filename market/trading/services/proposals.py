"""Proposals to a demand (揭榜): submit, shortlist, accept (which opens a deal, closes the demand as solved
and tells the other proposers they were not selected)."""

from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from market.accounts.models import User
from market.accounts.permissions import belongs_to, can_list_supply
from market.catalog.models import (
    Demand,
    ListingStatus,
)
from market.catalog.services import demand_solve
from market.common.errors import Conflict, Forbidden
from market.events.catalogue import (
    ProposalAccepted,
    ProposalNotSelected,
    ProposalShortlisted,
    ProposalSubmitted,
)
from market.events.publishing import publish
from market.trading.models import (
    UNDECIDED_PROPOSALS,
    DealParty,
    Proposal,
    ProposalStatus,
)
from market.trading.services.common import acting_org_id
from market.trading.services.deals import deal_open


def proposal_submit(
    *, demand: Demand, user: User, summary: str, approach: str, amount: Decimal, transaction_mode: str
) -> Proposal:
    if not can_list_supply(user):
        raise Forbidden(_("Only members of approved universities and institutes propose solutions."))
    proposer_id = acting_org_id(user)
    try:
        with transaction.atomic():
            # read under the demand's lock: an acceptance closing the demand right now is waited for, so
            # no proposal is left "submitted" on a demand that was solved meanwhile
            demand = Demand.objects.select_for_update().get(pk=demand.pk)
            if demand.status != ListingStatus.PUBLISHED:
                raise Conflict(_("Only published demands take proposals."), code="not_published")
            proposal = Proposal.objects.create(
                demand=demand,
                proposer_id=proposer_id,
                proposer_user=user,
                summary=summary,
                approach=approach,
                amount=amount,
                transaction_mode=transaction_mode,
            )
            publish(ProposalSubmitted.of(proposal))
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
        publish(ProposalShortlisted.of(proposal))
    return proposal


def proposal_accept(*, proposal: Proposal, user: User, reason: str = "") -> Proposal:
    """The enterprise accepts one shortlisted proposal per demand: a deal opens, the demand closes as solved,
    and every other proposal still in the running is not selected, with `reason` (may be empty) for their
    proposers. The demand row is locked so two acceptances on the same demand serialize and the second sees
    the first (and proposals submitted meanwhile wait, then find the demand closed)."""
    _require_demand_owner(proposal, user)
    with transaction.atomic():
        demand = Demand.objects.select_for_update().get(pk=proposal.demand_id)
        if Proposal.objects.filter(demand=demand, status=ProposalStatus.ACCEPTED).exists():
            raise Conflict(_("This demand has already accepted a proposal."), code="already_accepted")
        if demand.status != ListingStatus.PUBLISHED:
            raise Conflict(_("Only a published demand accepts a proposal."), code="not_published")
        proposal = Proposal.objects.select_for_update(of=("self",)).get(pk=proposal.pk)
        proposal.demand = demand
        if proposal.status != ProposalStatus.SHORTLISTED:
            raise Conflict(_("Shortlist the proposal before accepting it."), code="invalid_transition")
        proposal.status = ProposalStatus.ACCEPTED
        proposal.bump_version()
        proposal.save()
        deal = deal_open(
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
        publish(ProposalAccepted.of(proposal, deal_id=deal.pk))
        demand_solve(demand=demand, user=user, proposal_id=proposal.pk, deal_id=deal.pk)
        others = Proposal.objects.select_for_update().filter(demand=demand, status__in=UNDECIDED_PROPOSALS)
        for other in others.order_by("pk"):
            other.demand = demand
            other.status = ProposalStatus.NOT_SELECTED
            other.not_selected_reason = reason
            other.bump_version()
            other.save()
            publish(ProposalNotSelected.of(other))
    return proposal
