"""Deals: opened by an auction, an offer, a proposal or a purchase, then taken step by step to completion
(signed by both parties, registered by a registrar, paid, completed with every milestone settled) or
cancelled. Who may take each step, and from which stages, is `DEAL_STEPS` (models): every service here checks
its step through `_take`, none has rules of its own about who acts."""

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from market.accounts.models import User
from market.accounts.permissions import is_reviewer
from market.accounts.selectors import broker_list
from market.catalog.models import Achievement, Patent
from market.common.errors import Conflict, Forbidden, Invalid
from market.events.catalogue import (
    DealAdvanced,
    DealCancelled,
    DealCompleted,
    DealContractRegistered,
    DealMilestoneWaived,
    DealOpened,
    DealRegistrationReturned,
    DealRegistrationSubmitted,
    DealSigningConfirmed,
    DealUpdated,
)
from market.events.publishing import publish
from market.trading.models import (
    ADVANCE_STEPS,
    DEAL_PROFILE_RELATED,
    DEAL_STEPS,
    OPEN_MILESTONES,
    TERMINAL_STAGES,
    ContractType,
    Deal,
    DealAudit,
    DealDocument,
    DealMilestone,
    DealObjection,
    DealParty,
    DealStage,
    DealStep,
    ListingKind,
    ObjectionStatus,
    RegistrationStatus,
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


def _who(step: DealStep) -> str:
    names = [str(DealParty(side).label) for side in sorted(step.sides)]
    if step.brokers:
        names.append(_("their broker"))
    if step.registrar:
        names.append(_("a registrar over the seller's region or a platform administrator"))
    return " / ".join(names)


def _acting_as(deal: Deal, user: User, step_name: str) -> str:
    """What the user takes the step as (`Deal.step_role`); 403 when they may not take it."""
    acting_as = deal.step_role(user, step_name)
    if acting_as is None:
        raise Forbidden(_("Only %(who)s may take this step.") % {"who": _who(DEAL_STEPS[step_name])})
    return acting_as


def _lock_deal(deal: Deal) -> Deal:
    """The deal, locked, with what its facts' profile reads (those rows are read, not locked)."""
    return Deal.objects.select_related(*DEAL_PROFILE_RELATED).select_for_update(of=("self",)).get(pk=deal.pk)


def _check_stage(deal: Deal, step_name: str) -> None:
    step = DEAL_STEPS[step_name]
    if deal.stage in step.from_stages:
        return
    if deal.stage in TERMINAL_STAGES:
        raise Conflict(_("This deal is finished."), code="deal_finished")
    raise Conflict(
        _("This step is taken when the deal is %(from)s; it is %(stage)s.")
        % {"from": " / ".join(sorted(step.from_stages)), "stage": deal.stage},
        code="invalid_transition",
    )


def _take(deal: Deal, step_name: str, *, user: User) -> tuple[str, str]:
    """Check a step on the locked deal: who takes it (403) and whether the deal is at a stage it is taken
    from (409). Returns what the user acts as and the stage the deal is at."""
    acting_as = _acting_as(deal, user, step_name)
    _check_stage(deal, step_name)
    return acting_as, deal.stage


def _check_notice(deal: Deal) -> None:
    """A deal under public notice (公示) is signed only after the notice and with no objection open."""
    hold = deal.notice_hold()
    if hold == "notice_period" and deal.notice_ends_at is not None:
        raise Conflict(
            _("The public notice period runs until %(end)s.") % {"end": deal.notice_ends_at.isoformat()},
            code="notice_period",
        )
    if hold == "objection_open":
        raise Conflict(_("An objection to this deal awaits a ruling."), code="objection_open")


def _save_step(
    deal: Deal, *, action: str, from_stage: str, user: User, acting_as: str, note: str = ""
) -> None:
    deal.bump_version()
    deal.save()
    _audit(deal, action=action, from_stage=from_stage, actor=user, acting_as=acting_as, note=note)


def deal_sign(*, deal: Deal, user: User) -> Deal:
    """A party (its own members, not a broker) confirms the contract is signed, after any public notice. The
    deal is `contract_signed` once both parties have confirmed; until then the other party is asked to."""
    with transaction.atomic():
        deal = _lock_deal(deal)
        side, from_stage = _take(deal, "sign", user=user)
        _check_notice(deal)
        if deal.signed_at(side) is not None:
            raise Conflict(_("Your side has already confirmed the signing."), code="already_confirmed")
        setattr(deal, f"{side}_signed_at", timezone.now())
        awaiting = [other for other in sorted(DEAL_STEPS["sign"].sides) if deal.signed_at(other) is None]
        if not awaiting:
            deal.stage = DealStage.CONTRACT_SIGNED
        _save_step(deal, action="sign", from_stage=from_stage, user=user, acting_as=side)
        if awaiting:
            publish(DealSigningConfirmed.of(deal, actor=user, side=side, awaiting_side=awaiting[0]))
        else:
            publish(DealAdvanced.of(deal, actor=user, from_stage=from_stage))
    return deal


def deal_advance(*, deal: Deal, user: User, to: str) -> Deal:
    """Paid (the seller confirms the money arrived) or completed (the buyer accepts the delivery, once every
    milestone is done or waived). Signing, registration and cancellation have their own services."""
    step_name = ADVANCE_STEPS.get(to)
    if step_name is None:
        raise Invalid(
            {"to": [_("One of paid, completed.")]},
            message=_("Not a stage this step reaches."),
        )
    with transaction.atomic():
        deal = _lock_deal(deal)
        acting_as, from_stage = _take(deal, step_name, user=user)
        if to == DealStage.COMPLETED:
            still_open = list(deal.milestones.filter(OPEN_MILESTONES).values_list("title", flat=True))
            if still_open:
                raise Conflict(
                    _("Milestones are still open (mark them done or waive them with a reason): %(titles)s")
                    % {"titles": "、".join(still_open)},
                    code="milestones_open",
                )
        deal.stage = to
        if to == DealStage.COMPLETED:
            deal.closed_at = timezone.now()
        _save_step(deal, action="advance", from_stage=from_stage, user=user, acting_as=acting_as)
        if to == DealStage.COMPLETED:
            _listing_refresh(deal)
            publish(DealCompleted.of(deal, actor=user))
        else:
            publish(DealAdvanced.of(deal, actor=user, from_stage=from_stage))
    return deal


def deal_registration_submit(
    *,
    deal: Deal,
    user: User,
    contract_type: str,
    contract_value: Decimal,
    technology_transaction_value: Decimal,
) -> Deal:
    """A party (or its broker) submits the signed contract for technology-contract registration (技术合同认定
    登记): its type, its value and the technology-transaction value within it (the part that counts as
    technology income). After a return for correction, the corrected submission goes the same way."""
    if technology_transaction_value > contract_value:
        raise Invalid({"technology_transaction_value": [_("Cannot exceed the contract value.")]})
    if contract_type not in ContractType.values:
        raise Invalid({"contract_type": [contract_type]}, message=_("Unknown contract type."))
    with transaction.atomic():
        deal = _lock_deal(deal)
        acting_as, from_stage = _take(deal, "submit_registration", user=user)
        if deal.registration_awaits_decision:
            raise Conflict(_("The registration awaits the registrar."), code="registration_pending")
        resubmission = deal.registration_status == RegistrationStatus.RETURNED
        deal.contract_type = contract_type
        deal.contract_value = contract_value
        deal.technology_transaction_value = technology_transaction_value
        deal.registration_status = RegistrationStatus.SUBMITTED
        deal.registration_submitted_at = timezone.now()
        deal.registration_return_reason = ""
        _save_step(deal, action="submit_registration", from_stage=from_stage, user=user, acting_as=acting_as)
        publish(DealRegistrationSubmitted.of(deal, actor=user, resubmission=resubmission))
    return deal


def _submitted(deal: Deal, step_name: str, *, user: User) -> tuple[str, str]:
    acting_as, from_stage = _take(deal, step_name, user=user)
    if not deal.registration_awaits_decision:
        raise Conflict(
            _("No registration of this contract awaits a decision."), code="registration_not_submitted"
        )
    return acting_as, from_stage


def deal_registration_approve(*, deal: Deal, user: User, registration_number: str) -> Deal:
    """The registrar approves the registration and assigns its number: the contract is registered today and
    the deal moves to `contract_registered` (from here on it counts in the statistics)."""
    registration_number = registration_number.strip()
    if not registration_number:
        raise Invalid({"registration_number": [_("This field is required.")]})
    with transaction.atomic():
        deal = _lock_deal(deal)
        acting_as, from_stage = _submitted(deal, "approve_registration", user=user)
        deal.stage = DealStage.CONTRACT_REGISTERED
        deal.registration_status = RegistrationStatus.REGISTERED
        deal.registration_number = registration_number
        deal.registered_on = timezone.localdate()
        deal.registered_by = user
        deal.bump_version()
        try:
            with transaction.atomic():
                deal.save()
        except IntegrityError as error:
            taken = _("Another contract has this registration number.")
            raise Conflict(
                taken, code="registration_number_taken", fields={"registration_number": [taken]}
            ) from error
        _audit(
            deal,
            action="approve_registration",
            from_stage=from_stage,
            actor=user,
            acting_as=acting_as,
            note=registration_number,
        )
        publish(DealContractRegistered.of(deal, actor=user))
    return deal


def deal_registration_return(*, deal: Deal, user: User, reason: str) -> Deal:
    """The registrar returns the submission for correction, saying why; a party corrects and resubmits."""
    reason = reason.strip()
    if not reason:
        raise Invalid({"reason": [_("This field is required.")]}, message=_("Give a reason."))
    with transaction.atomic():
        deal = _lock_deal(deal)
        acting_as, from_stage = _submitted(deal, "return_registration", user=user)
        deal.registration_status = RegistrationStatus.RETURNED
        deal.registration_return_reason = reason
        _save_step(
            deal,
            action="return_registration",
            from_stage=from_stage,
            user=user,
            acting_as=acting_as,
            note=reason,
        )
        publish(DealRegistrationReturned.of(deal, actor=user))
    return deal


def _cancel(deal: Deal, *, actor: User, acting_as: str, reason: str) -> Deal:
    from_stage = deal.stage
    deal.stage = DealStage.CANCELLED
    deal.cancel_reason = reason
    deal.closed_at = timezone.now()
    _save_step(deal, action="cancel", from_stage=from_stage, user=actor, acting_as=acting_as, note=reason)
    _listing_refresh(deal)
    publish(DealCancelled.of(deal, actor=actor, reason=reason))
    return deal


def deal_cancel(*, deal: Deal, user: User, reason: str) -> Deal:
    """Either party walks away, with a reason, before the contract is registered."""
    if not reason.strip():
        raise Invalid({"reason": [_("This field is required.")]}, message=_("Give a reason."))
    with transaction.atomic():
        deal = _lock_deal(deal)
        acting_as, _from_stage = _take(deal, "cancel", user=user)
        return _cancel(deal, actor=user, acting_as=acting_as, reason=reason.strip())


def _deal_change(deal: Deal, *, user: User, acting_as: str, change: str, note: str = "") -> None:
    _save_step(deal, action=change, from_stage=deal.stage, user=user, acting_as=acting_as, note=note)
    publish(DealUpdated.of(deal, actor=user, change=change))


def deal_broker_assign(*, deal: Deal, user: User, broker_id: int, commission: Decimal | None = None) -> Deal:
    """A party mandates a technology broker (a member of an approved intermediary) for its side."""
    broker = broker_list().filter(pk=broker_id).first()
    if broker is None:
        raise Invalid(
            {"broker_id": [_("Not a broker.")]},
            message=_("The broker must be a member of an approved intermediary organization."),
        )
    with transaction.atomic():
        deal = _lock_deal(deal)
        side, _from_stage = _take(deal, "mandate_broker", user=user)
        if deal.broker_id is not None and deal.broker_mandate not in deal.own_sides(user):
            raise Conflict(_("The other party's broker is already on this deal."), code="broker_exists")
        deal.broker = broker
        deal.broker_mandate = side
        deal.broker_commission = commission
        _deal_change(deal, user=user, acting_as=side, change="broker_assigned", note=str(broker.pk))
    return deal


def deal_milestone_add(
    *, deal: Deal, user: User, title: str, due_on: date | None = None, amount: Decimal | None = None
) -> DealMilestone:
    with transaction.atomic():
        deal = _lock_deal(deal)
        acting_as, _from_stage = _take(deal, "add_milestone", user=user)
        milestone = DealMilestone.objects.create(deal=deal, title=title, due_on=due_on, amount=amount)
        _deal_change(deal, user=user, acting_as=acting_as, change="milestone_added", note=title)
    return milestone


def _open_milestone(milestone: DealMilestone) -> DealMilestone:
    milestone = DealMilestone.objects.select_for_update().get(pk=milestone.pk)
    if milestone.done_at is not None:
        raise Conflict(_("This milestone is already done."), code="milestone_done")
    if milestone.waived_at is not None:
        raise Conflict(_("This milestone was waived."), code="milestone_waived")
    return milestone


def deal_milestone_done(*, milestone: DealMilestone, user: User) -> DealMilestone:
    with transaction.atomic():
        deal = _lock_deal(milestone.deal)
        acting_as, _from_stage = _take(deal, "milestone_done", user=user)
        milestone = _open_milestone(milestone)
        milestone.done_at = timezone.now()
        milestone.save(update_fields=["done_at", "updated_at"])
        _deal_change(deal, user=user, acting_as=acting_as, change="milestone_done", note=milestone.title)
    return milestone


def deal_milestone_waive(*, milestone: DealMilestone, user: User, reason: str) -> DealMilestone:
    """A party gives up on an open milestone, saying why (the other party is told); a deal completes only
    when every milestone is done or waived."""
    reason = reason.strip()
    if not reason:
        raise Invalid({"reason": [_("This field is required.")]}, message=_("Give a reason."))
    with transaction.atomic():
        deal = _lock_deal(milestone.deal)
        acting_as, from_stage = _take(deal, "waive_milestone", user=user)
        milestone = _open_milestone(milestone)
        milestone.waived_at = timezone.now()
        milestone.waive_reason = reason
        milestone.waived_by = user
        milestone.save(update_fields=["waived_at", "waive_reason", "waived_by", "updated_at"])
        _save_step(
            deal,
            action="waive_milestone",
            from_stage=from_stage,
            user=user,
            acting_as=acting_as,
            note=f"{milestone.title}: {reason}",
        )
        publish(
            DealMilestoneWaived.of(
                deal,
                actor=user,
                milestone_id=milestone.pk,
                milestone_title=milestone.title,
                reason=reason,
            )
        )
    return milestone


def deal_document_add(*, deal: Deal, user: User, title: str, url: str) -> DealDocument:
    with transaction.atomic():
        deal = _lock_deal(deal)
        acting_as, _from_stage = _take(deal, "add_document", user=user)
        document = DealDocument.objects.create(deal=deal, title=title, url=url, uploaded_by=user)
        _deal_change(deal, user=user, acting_as=acting_as, change="document_added", note=title)
    return document


def objection_lodge(*, deal: Deal, user: User, text: str) -> DealObjection:
    """Anyone signed in may object while a deal's public notice runs."""
    if not (user and user.is_authenticated):
        raise Forbidden(_("Sign in to lodge an objection."))
    with transaction.atomic():
        deal = _lock_deal(deal)
        if not deal.notice_running(timezone.now()):
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
