"""An enterprise's own demands (技术需求): post one (公开 or anonymous), edit, submit for review, withdraw,
and decide on the proposals (揭榜) universities and institutes sent for it: shortlist, then accept one."""

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, QuerySet
from django.forms.models import fields_for_model
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from market.accounts.models import User
from market.accounts.permissions import can_post_demand
from market.catalog import selectors as catalog
from market.catalog import services as catalog_services
from market.catalog.models import EDITABLE_STATUSES, Demand, ListingStatus
from market.trading import selectors as trading
from market.trading.services import proposals
from market.web.access import login_required, signed_in_user
from market.web.forms import form_attempt

#: the demand's own fields, in the order the form asks for them
DEMAND_FIELDS = (
    "title",
    "description",
    "field",
    "ipc_hints",
    "budget_min",
    "budget_max",
    "deadline",
    "collaboration_mode",
    "urgency",
    "is_anonymous",
)


class DemandForm(forms.Form):
    """What `demand_create` / `demand_update` take, with the model's own labels, choices and validators."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields.update(fields_for_model(Demand, fields=DEMAND_FIELDS))
        self.fields["ipc_hints"].help_text = _("IPC codes separated by commas, e.g. H01M 10/42")
        self.fields["deadline"].widget = forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"})
        self.fields["is_anonymous"].help_text = _(
            "Universities and the public see the demand without your enterprise's name."
        )

    @classmethod
    def of(cls, demand: Demand) -> "DemandForm":
        return cls(initial={name: getattr(demand, name) for name in DEMAND_FIELDS})


class ProposalAcceptForm(forms.Form):
    reason = forms.CharField(
        label=_("Message to the proposers not selected (optional)"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


def _enterprise_member(request: HttpRequest) -> User:
    """The signed-in member of an approved enterprise: only they post demands (the services' own rule)."""
    user = signed_in_user(request)
    if not can_post_demand(user):
        raise PermissionDenied(gettext("Only members of approved enterprises post demands."))
    return user


def _my_demands(user: User) -> QuerySet[Demand]:
    """The demands of the user's own enterprise, whatever their status (the selector shows the owner all)."""
    return catalog.demand_list(user=user).filter(owner_id=user.organization_id)


def _notify_refusal(request: HttpRequest, form: forms.Form) -> None:
    for error in form.non_field_errors():
        messages.error(request, str(error))


@login_required
def my_demands(request: HttpRequest) -> HttpResponse:
    user = _enterprise_member(request)
    demands = _my_demands(user).annotate(proposal_count=Count("proposals")).order_by("-created_at", "-id")
    return render(request, "web/demand/my_demands.html", {"demands": demands})


@login_required
def demand_create(request: HttpRequest) -> HttpResponse:
    user = _enterprise_member(request)
    form = DemandForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        demand = form_attempt(form, lambda: catalog_services.demand_create(user=user, **form.cleaned_data))
        if demand is not None:
            if request.POST.get("then") == "submit":
                submitted = form_attempt(
                    form, lambda: catalog_services.listing_submit(listing=demand, user=user)
                )
                if submitted is None:
                    _notify_refusal(request, form)
                else:
                    messages.success(request, gettext("Your demand was submitted for review."))
            else:
                messages.success(request, gettext("Your demand was saved as a draft."))
            return redirect("web:my-demand", pk=demand.pk)
    return render(request, "web/demand/form.html", {"form": form, "demand": None})


@login_required
def demand_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user = _enterprise_member(request)
    demand = get_object_or_404(_my_demands(user), pk=pk)
    form = DemandForm(request.POST) if request.method == "POST" else DemandForm.of(demand)
    if request.method == "POST" and form.is_valid():
        changes = {name: value for name, value in form.cleaned_data.items() if value != getattr(demand, name)}
        if form_attempt(form, lambda: catalog_services.demand_update(demand=demand, user=user, **changes)):
            messages.success(request, gettext("Your changes were saved."))
            return redirect("web:my-demand", pk=demand.pk)
    return render(request, "web/demand/form.html", {"form": form, "demand": demand})


@login_required
def my_demand(request: HttpRequest, pk: int) -> HttpResponse:
    """One of the enterprise's demands with the proposals received for it."""
    user = _enterprise_member(request)
    demand = get_object_or_404(_my_demands(user), pk=pk)
    received = (
        trading.proposal_list(user=user)
        .filter(demand=demand)
        .select_related("deal")
        .order_by("created_at", "id")
    )
    return render(
        request,
        "web/demand/detail.html",
        {
            "demand": demand,
            "proposals": received,
            "editable": demand.status in EDITABLE_STATUSES,
            "withdrawable": demand.status in (ListingStatus.PENDING, ListingStatus.PUBLISHED),
            "accept_form": ProposalAcceptForm(),
        },
    )


def _demand_step(request: HttpRequest, pk: int, step: Any, done: str) -> HttpResponse:
    user = _enterprise_member(request)
    demand = get_object_or_404(_my_demands(user), pk=pk)
    form = forms.Form()
    if form_attempt(form, lambda: step(listing=demand, user=user)) is None:
        _notify_refusal(request, form)
    else:
        messages.success(request, done)
    return redirect("web:my-demand", pk=demand.pk)


@require_POST
@login_required
def demand_submit(request: HttpRequest, pk: int) -> HttpResponse:
    return _demand_step(
        request, pk, catalog_services.listing_submit, gettext("Your demand was submitted for review.")
    )


@require_POST
@login_required
def demand_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    return _demand_step(request, pk, catalog_services.listing_withdraw, gettext("Your demand was withdrawn."))


def _received_proposal(request: HttpRequest, pk: int) -> tuple[User, Any]:
    """A proposal the user's enterprise may decide on: 403 for a role that posts no demands (the proposer
    included, as the API answers), 404 for a proposal the selector does not show the user."""
    user = _enterprise_member(request)
    return user, get_object_or_404(trading.proposal_list(user=user), pk=pk)


@require_POST
@login_required
def proposal_shortlist(request: HttpRequest, pk: int) -> HttpResponse:
    user, proposal = _received_proposal(request, pk)
    form = forms.Form()
    if form_attempt(form, lambda: proposals.proposal_shortlist(proposal=proposal, user=user)) is None:
        _notify_refusal(request, form)
    else:
        messages.success(request, gettext("The proposal is on your shortlist."))
    return redirect("web:my-demand", pk=proposal.demand_id)


@require_POST
@login_required
def proposal_accept(request: HttpRequest, pk: int) -> HttpResponse:
    user, proposal = _received_proposal(request, pk)
    form = ProposalAcceptForm(request.POST)
    if form.is_valid():
        accepted = form_attempt(
            form,
            lambda: proposals.proposal_accept(
                proposal=proposal, user=user, reason=form.cleaned_data["reason"]
            ),
        )
        if accepted is not None:
            messages.success(request, gettext("You accepted the proposal: a deal is open."))
            return redirect("web:my-demand", pk=proposal.demand_id)
    for errors in form.errors.values():
        for error in errors:
            messages.error(request, str(error))
    return redirect("web:my-demand", pk=proposal.demand_id)
