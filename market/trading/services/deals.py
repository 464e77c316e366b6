"""Deals: opened by an auction, an offer or a proposal, then advanced step by step to completion or
cancelled."""

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from market.accounts.models import OrganizationType, User
from market.accounts.permissions import belongs_to, is_reviewer
from market.catalog.models import Achievement, Patent
from market.common.errors import Conflict, Forbidden, Invalid
from market.events.catalogue import (
    DealAdvanced,
    DealCancelled,
    DealCompleted,
    DealContractRegistered,
    DealOpened,
    DealUpdated,
)
from market.events.publishing import publish
from market.trading.models import (
    ADVANCE_STAGES,
    DEAL_STEPS,
    TERMINAL_STAGES,
    ContractType,
    Deal,
    DealAudit,
    DealDocument,
    DealMilestone,
    DealObjection,
    DealParty,
    DealStage,
    ListingKind,
    ObjectionStatus,
)
from market.trading.services.availability import availability_refresh, listing_claim
from market.trading.services.common import notice_days


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


def deal_open(*, source: str, actor: User, acting_as: str, with_notice: bool = False, **fields: Any) -> Deal:
    """Create a deal in `negotiating`, audit and announce it. Call inside the caller's transaction; the
    one-to-one link to its source (auction, offer, proposal, purchase) makes a second deal for it impossible.
    A deal on a patent or an achievement first claims it (409 unless it can be traded) and reserves it."""
    now = timezone.now()
    if with_notice:
        fields.update(notice_starts_at=now, notice_ends_at=now + timedelta(days=notice_days()))
    listing = _claimed_listing(fields)
    try:
        with transaction.atomic():
            deal = Deal.objects.create(**fields)
    except IntegrityError as error:
        raise Conflict(_("A deal was already opened for this."), code="deal_exists") from error
    if listing is not None:
        availability_refresh(listing)
    _audit(
        deal,
        action="opened",
        from_stage="",
        actor=None if acting_as == "system" else actor,
        acting_as=acting_as,
        note=source,
    )
    publish(DealOpened.of(deal, actor=actor, source=source))
    return deal


def _claimed_listing(fields: dict[str, Any]) -> Patent | Achievement | None:
    if fields.get("patent_id") is not None:
        return listing_claim(ListingKind.PATENT, fields["patent_id"])
    if fields.get("achievement_id") is not None:
        return listing_claim(ListingKind.ACHIEVEMENT, fields["achievement_id"])
    return None


def _listing_refresh(deal: Deal) -> None:
    """A deal that completes or is cancelled changes what its listing is: sold, licensed, or free again."""
    listing = deal.patent or deal.achievement
    if listing is not None:
        availability_refresh(listing)


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
    expected, _sides = DEAL_STEPS[to]
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
    if to not in ADVANCE_STAGES:
        raise Invalid(
            {"to": [_("One of contract_signed, paid, completed.")]},
            message=_("Not a stage this step reaches."),
        )
    with transaction.atomic():
        deal = _lock_deal(deal)
        acting_as = _acting_as(deal, user, DEAL_STEPS[to][1])
        _check_step(deal, to)
        from_stage = deal.stage
        deal.stage = to
        deal.bump_version()
        deal.save()
        _audit(deal, action="advance", from_stage=from_stage, actor=user, acting_as=acting_as)
        if to == DealStage.COMPLETED:
            _listing_refresh(deal)
            publish(DealCompleted.of(deal, actor=user))
        else:
            publish(DealAdvanced.of(deal, actor=user, from_stage=from_stage))
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
        raise Invalid({"technology_transaction_value": [_("Cannot exceed the contract value.")]})
    if registered_on > timezone.localdate():
        raise Invalid({"registered_on": [_("The registration date is in the future.")]})
    if contract_type not in ContractType.values:
        raise Invalid({"contract_type": [contract_type]}, message=_("Unknown contract type."))
    with transaction.atomic():
        deal = _lock_deal(deal)
        acting_as = _acting_as(deal, user, DEAL_STEPS[DealStage.CONTRACT_REGISTERED][1])
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
        publish(DealContractRegistered.of(deal, actor=user))
    return deal


def _cancel(deal: Deal, *, actor: User, acting_as: str, reason: str) -> Deal:
    from_stage = deal.stage
    deal.stage = DealStage.CANCELLED
    deal.cancel_reason = reason
    deal.bump_version()
    deal.save()
    _audit(deal, action="cancel", from_stage=from_stage, actor=actor, acting_as=acting_as, note=reason)
    _listing_refresh(deal)
    publish(DealCancelled.of(deal, actor=actor, reason=reason))
    return deal


def deal_cancel(*, deal: Deal, user: User, reason: str) -> Deal:
    if not reason.strip():
        raise Invalid({"reason": [_("This field is required.")]}, message=_("Give a reason."))
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
    publish(DealUpdated.of(deal, actor=user, change=change))


def _require_active(deal: Deal) -> None:
    if deal.stage in TERMINAL_STAGES:
        raise Conflict(_("This deal is finished."), code="deal_finished")


def deal_broker_assign(*, deal: Deal, user: User, broker_id: int, commission: Decimal | None = None) -> Deal:
    """A party mandates a technology broker (a member of an approved intermediary) for its side."""
    broker = User.objects.select_related("organization").filter(pk=broker_id).first()
    if not (
        broker is not None
        and broker.is_active
        and broker.organization is not None
        and broker.organization.org_type == OrganizationType.INTERMEDIARY
        and broker.organization.is_approved
    ):
        raise Invalid(
            {"broker_id": [_("Not a broker.")]},
            message=_("The broker must be a member of an approved intermediary organization."),
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
    *, deal: Deal, user: User, title: str, due_on: date | None = None, amount: Decimal | None = None
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
