"""The deal room: the parties, their broker, oversight and the registrar work on a deal here, through the same
selectors (who sees a deal: `deal_detail`, 404 otherwise) and services (who takes which step: `DEAL_STEPS`)
as the API. The page offers only the steps `deal_steps_open` allows; the services still decide."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_POST

from market.accounts.models import User
from market.accounts.permissions import is_registrar, is_reviewer
from market.accounts.selectors import broker_list
from market.trading import selectors
from market.trading import serializers as api
from market.trading.filters import DealFilter, RegistrationFilter
from market.trading.models import (
    ContractType,
    Deal,
    DealAudit,
    DealMilestone,
    DealObjection,
    DealStage,
    ObjectionStatus,
    RegistrationStatus,
)
from market.trading.services import deals
from market.web.access import login_required, signed_in_user
from market.web.forms import ApiInputForm, form_attempt, refusal_status
from market.web.paging import page_of, query_without

#: deals per page of the list and of the registration queue
PAGE_SIZE = 20
#: the stages a deal goes through, in order (cancelled is a way out, not a step)
STAGE_PATH = (
    DealStage.NEGOTIATING,
    DealStage.CONTRACT_SIGNED,
    DealStage.CONTRACT_REGISTERED,
    DealStage.PAID,
    DealStage.COMPLETED,
)
#: the step history's actions (the audit's `action`) as the page names them
ACTION_LABELS = {
    "opened": _("Deal opened"),
    "sign": _("Signing confirmed"),
    "submit_registration": _("Contract submitted for registration"),
    "approve_registration": _("Contract registered"),
    "return_registration": _("Registration returned for correction"),
    "advance": _("Stage advanced"),
    "cancel": _("Deal cancelled"),
    "broker_assigned": _("Broker mandated"),
    "milestone_added": _("Milestone added"),
    "milestone_done": _("Milestone done"),
    "waive_milestone": _("Milestone waived"),
    "document_added": _("Document added"),
    "objection_lodged": _("Objection lodged"),
    "objection_ruled": _("Objection ruled on"),
}
ACTING_AS_LABELS = {
    "seller": _("Seller"),
    "buyer": _("Buyer"),
    "broker:seller": _("Seller's broker"),
    "broker:buyer": _("Buyer's broker"),
    "registrar": _("Registrar"),
    "administrator": _("Platform administrator"),
    "reviewer": _("Platform administrator"),
    "system": _("The market"),
    "public": _("The public"),
}
SOURCE_LABELS = {
    "auction": _("Auction"),
    "offer": _("Offer"),
    "purchase": _("Purchase at the listed price"),
    "proposal": _("Proposal to a demand"),
}


# ---- forms: rendered by Django, validated by the API's own input serializers ----------------------------


def _money_field(label: Any, *, required: bool = True) -> forms.DecimalField:
    return forms.DecimalField(label=label, required=required, max_digits=14, decimal_places=2, min_value=0)


class StepForm(ApiInputForm):
    """A step that takes no input (signing): only the service's refusal shows on it."""


class ReasonForm(ApiInputForm):
    serializer_class = api.ReasonInputSerializer
    reason = forms.CharField(label=_("Reason"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))


class BrokerForm(ApiInputForm):
    serializer_class = api.BrokerInputSerializer
    broker_id = forms.TypedChoiceField(label=_("Broker"), coerce=int)
    commission = _money_field(_("Commission (yuan)"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        brokers = broker_list().order_by("organization__name", "username")
        field = self.fields["broker_id"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [("", "—")] + [
            (broker.pk, f"{broker.display_name or broker.username}（{broker.organization}）")
            for broker in brokers
        ]


class MilestoneForm(ApiInputForm):
    serializer_class = api.MilestoneInputSerializer
    title = forms.CharField(label=_("Title"), max_length=200)
    due_on = forms.DateField(
        label=_("Due on"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    amount = _money_field(_("Amount due (yuan)"), required=False)


class DocumentForm(ApiInputForm):
    serializer_class = api.DocumentInputSerializer
    title = forms.CharField(label=_("Title"), max_length=200)
    url = forms.URLField(label=_("Link"), max_length=500, assume_scheme="https")


class RegistrationForm(ApiInputForm):
    serializer_class = api.RegistrationSubmitInputSerializer
    contract_type = forms.ChoiceField(label=_("Contract type"), choices=ContractType.choices)
    contract_value = _money_field(_("Contract value (yuan)"))
    technology_transaction_value = _money_field(
        _("Technology-transaction value (yuan)"),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["technology_transaction_value"].help_text = _(
            "The part of the contract value that counts as technology income; at most the contract value."
        )


class RulingForm(ApiInputForm):
    serializer_class = api.RulingInputSerializer
    upheld = forms.TypedChoiceField(
        label=_("Ruling"),
        choices=[("false", _("Dismiss: the deal goes on")), ("true", _("Uphold: the deal is cancelled"))],
        coerce=lambda value: value == "true",
        widget=forms.RadioSelect,
    )
    ruling = forms.CharField(
        label=_("Reasons"), max_length=5000, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )


class ApproveForm(ApiInputForm):
    serializer_class = api.RegistrationApproveInputSerializer
    registration_number = forms.CharField(label=_("Registration number"), max_length=40)


# ---- the steps a page posts --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Action:
    """One step the deal room posts: its form, its prefix on the page, the service it calls and what the
    page says when it is done."""

    form: type[ApiInputForm]
    prefix: Callable[[Deal, DealMilestone | None], str]
    run: Callable[[Deal, User, dict[str, Any], DealMilestone | None], object]
    done: Any


def _fixed(name: str) -> Callable[[Deal, DealMilestone | None], str]:
    return lambda deal, milestone: name


def _per_deal(name: str) -> Callable[[Deal, DealMilestone | None], str]:
    return lambda deal, milestone: f"{name}-{deal.pk}"


def _per_milestone(name: str) -> Callable[[Deal, DealMilestone | None], str]:
    return lambda deal, milestone: f"{name}-{milestone.pk if milestone else ''}"


def _milestone_of(milestone: DealMilestone | None) -> DealMilestone:
    if milestone is None:
        raise LookupError("a milestone step without its milestone")
    return milestone


ACTIONS: dict[str, Action] = {
    "sign": Action(
        StepForm,
        _fixed("sign"),
        lambda deal, user, data, _m: deals.deal_sign(deal=deal, user=user),
        _("Your side's signing is confirmed."),
    ),
    "paid": Action(
        StepForm,
        _fixed("paid"),
        lambda deal, user, data, _m: deals.deal_advance(deal=deal, user=user, to=DealStage.PAID),
        _("The payment is confirmed."),
    ),
    "complete": Action(
        StepForm,
        _fixed("complete"),
        lambda deal, user, data, _m: deals.deal_advance(deal=deal, user=user, to=DealStage.COMPLETED),
        _("The deal is completed."),
    ),
    "cancel": Action(
        ReasonForm,
        _fixed("cancel"),
        lambda deal, user, data, _m: deals.deal_cancel(deal=deal, user=user, **data),
        _("The deal is cancelled."),
    ),
    "registration": Action(
        RegistrationForm,
        _fixed("registration"),
        lambda deal, user, data, _m: deals.deal_registration_submit(deal=deal, user=user, **data),
        _("The contract is submitted for registration."),
    ),
    "approve": Action(
        ApproveForm,
        _per_deal("approve"),
        lambda deal, user, data, _m: deals.deal_registration_approve(deal=deal, user=user, **data),
        _("The contract is registered."),
    ),
    "return": Action(
        ReasonForm,
        _per_deal("return"),
        lambda deal, user, data, _m: deals.deal_registration_return(deal=deal, user=user, **data),
        _("The registration is returned for correction."),
    ),
    "broker": Action(
        BrokerForm,
        _fixed("broker"),
        lambda deal, user, data, _m: deals.deal_broker_assign(deal=deal, user=user, **data),
        _("The broker is mandated."),
    ),
    "milestone": Action(
        MilestoneForm,
        _fixed("milestone"),
        lambda deal, user, data, _m: deals.deal_milestone_add(deal=deal, user=user, **data),
        _("The milestone is added."),
    ),
    "milestone-done": Action(
        StepForm,
        _per_milestone("done"),
        lambda deal, user, data, m: deals.deal_milestone_done(milestone=_milestone_of(m), user=user),
        _("The milestone is done."),
    ),
    "milestone-waive": Action(
        ReasonForm,
        _per_milestone("waive"),
        lambda deal, user, data, m: deals.deal_milestone_waive(milestone=_milestone_of(m), user=user, **data),
        _("The milestone is waived."),
    ),
    "document": Action(
        DocumentForm,
        _fixed("document"),
        lambda deal, user, data, _m: deals.deal_document_add(deal=deal, user=user, **data),
        _("The document is added."),
    ),
}


# ---- pages -------------------------------------------------------------------------------------------------


@login_required
@require_GET
def deal_list(request: HttpRequest) -> HttpResponse:
    """The deals the user sees (`deal_list`, as `GET /api/v1/deals/`), newest first, filtered by stage."""
    user = signed_in_user(request)
    chosen = DealFilter(request.GET, queryset=selectors.deal_list(user=user).order_by("-created_at", "-id"))
    return render(
        request,
        "web/deals/list.html",
        {
            "page": page_of(request, chosen.qs, size=PAGE_SIZE),
            "filter_form": chosen.form,
            "other_query": query_without(request),
            "decides_registrations": is_reviewer(user) or is_registrar(user),
            "stages": DealStage.choices,
            "stage": request.GET.get("stage", ""),
        },
    )


@login_required
@require_GET
def registration_queue(request: HttpRequest) -> HttpResponse:
    """The registrar's queue (`GET /api/v1/registrations/`): contracts awaiting a decision, oldest first, each
    with its approve and return forms; `status=` shows the returned or registered ones."""
    user = signed_in_user(request)
    if not (is_reviewer(user) or is_registrar(user)):
        raise PermissionDenied
    chosen = RegistrationFilter(
        request.GET,
        queryset=selectors.registration_queue(user=user).order_by("registration_submitted_at", "id"),
    )
    page = page_of(request, chosen.qs, size=PAGE_SIZE)
    rows = [
        {
            "deal": deal,
            "approve": ApproveForm(prefix=ACTIONS["approve"].prefix(deal, None)),
            "return": ReasonForm(prefix=ACTIONS["return"].prefix(deal, None)),
        }
        for deal in page
    ]
    return render(
        request,
        "web/deals/registrations.html",
        {
            "page": page,
            "rows": rows,
            "status": request.GET.get("status", ""),
            "statuses": [
                (value, label)
                for value, label in RegistrationStatus.choices
                if value != RegistrationStatus.NOT_SUBMITTED
            ],
            "other_query": query_without(request),
        },
    )


def _visible_deal(request: HttpRequest, pk: int) -> tuple[Deal, User]:
    user = signed_in_user(request)
    queryset = selectors.deal_detail(user=user).prefetch_related("audit__actor", "documents__uploaded_by")
    return get_object_or_404(queryset, pk=pk), user


def _history_note(entry: DealAudit) -> Any:
    """An opening's note is its source (named as the page names it); a mandate's is the broker's user id,
    which the broker section shows by name."""
    if entry.action == "opened":
        return SOURCE_LABELS.get(entry.note, entry.note)
    return "" if entry.action == "broker_assigned" else entry.note


def _room(
    request: HttpRequest,
    deal: Deal,
    user: User,
    bound: dict[str, ApiInputForm] | None = None,
    status: int = 200,
) -> HttpResponse:
    """The deal room, with the forms of the steps the user may take (a failed one bound, with its errors)."""
    bound = bound or {}
    open_steps = selectors.deal_steps_open(deal=deal, user=user)

    def form(action: str, milestone: DealMilestone | None = None) -> ApiInputForm:
        prefix = ACTIONS[action].prefix(deal, milestone)
        return bound.get(prefix) or ACTIONS[action].form(prefix=prefix)

    milestones = [
        {
            "milestone": milestone,
            "open": milestone.done_at is None and milestone.waived_at is None,
            "done_form": form("milestone-done", milestone),
            "waive_form": form("milestone-waive", milestone),
        }
        for milestone in deal.milestones.all()
    ]
    registration_initial = {
        "contract_type": deal.contract_type or ContractType.TRANSFER,
        "contract_value": deal.contract_value or deal.amount,
        "technology_transaction_value": deal.technology_transaction_value or deal.amount,
    }
    registration = bound.get("registration") or RegistrationForm(
        prefix="registration", initial=registration_initial
    )
    reached = STAGE_PATH.index(deal.stage) if deal.stage in STAGE_PATH else -1
    return render(
        request,
        "web/deals/room.html",
        {
            "deal": deal,
            "open": open_steps,
            "stages": [
                {"value": stage, "label": stage.label, "done": index < reached, "current": index == reached}
                for index, stage in enumerate(STAGE_PATH)
            ],
            "history": [
                {
                    "entry": entry,
                    "action": ACTION_LABELS.get(entry.action, entry.action),
                    "acting_as": ACTING_AS_LABELS.get(entry.acting_as, entry.acting_as),
                    "note": _history_note(entry),
                }
                for entry in deal.audit.all()
            ],
            "source": SOURCE_LABELS.get(deal.source, deal.source),
            "mandate_label": ACTING_AS_LABELS.get(deal.broker_mandate, ""),
            "milestones": milestones,
            "milestones_open": any(row["open"] for row in milestones),
            "objections": [
                {
                    "objection": objection,
                    "ruling_form": (
                        bound.get(f"ruling-{objection.pk}") or RulingForm(prefix=f"ruling-{objection.pk}")
                    )
                    if is_reviewer(user) and objection.status == ObjectionStatus.OPEN
                    else None,
                }
                for objection in deal.objections.order_by("created_at")
            ],
            "sign_form": form("sign"),
            "paid_form": form("paid"),
            "complete_form": form("complete"),
            "cancel_form": form("cancel"),
            "registration_form": registration,
            "approve_form": form("approve"),
            "return_form": form("return"),
            "broker_form": form("broker"),
            "milestone_form": form("milestone"),
            "document_form": form("document"),
        },
        status=status,
    )


@login_required
@require_GET
def deal_room(request: HttpRequest, pk: int) -> HttpResponse:
    deal, user = _visible_deal(request, pk)
    return _room(request, deal, user)


@login_required
@require_POST
def deal_act(request: HttpRequest, pk: int, action: str, milestone_id: int | None = None) -> HttpResponse:
    """Take one step: the form's input validated as the API validates it, then the step's service; on success
    back to the deal room (or the registration queue it came from), else the room with the errors."""
    deal, user = _visible_deal(request, pk)
    step = ACTIONS[action]
    milestone = get_object_or_404(DealMilestone, pk=milestone_id, deal=deal) if milestone_id else None
    form = step.form(request.POST, prefix=step.prefix(deal, milestone))
    done = (
        form_attempt(form, lambda: step.run(deal, user, form.cleaned_data, milestone))
        if form.is_valid()
        else None
    )
    if done is not None:
        messages.success(request, step.done)
        if request.POST.get("back") == "registrations":
            return redirect("web:registrations")
        return redirect("web:deal", pk=deal.pk)
    fresh, user = _visible_deal(request, pk)
    return _room(request, fresh, user, bound={form.prefix or "": form}, status=refusal_status(form))


@login_required
@require_POST
def objection_rule(request: HttpRequest, pk: int, objection_id: int) -> HttpResponse:
    """A platform administrator rules on an objection from the deal room (upholding it cancels the deal);
    the service refuses anyone else."""
    deal, user = _visible_deal(request, pk)
    objection = get_object_or_404(DealObjection, pk=objection_id, deal=deal)
    form = RulingForm(request.POST, prefix=f"ruling-{objection.pk}")
    ruled = (
        form_attempt(
            form, lambda: deals.objection_rule(objection=objection, reviewer=user, **form.cleaned_data)
        )
        if form.is_valid()
        else None
    )
    if ruled is not None:
        messages.success(request, _("The objection is ruled on."))
        return redirect("web:deal", pk=deal.pk)
    fresh, user = _visible_deal(request, pk)
    return _room(request, fresh, user, bound={form.prefix or "": form}, status=refusal_status(form))
