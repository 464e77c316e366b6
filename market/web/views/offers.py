"""Negotiated offers (协议定价): an enterprise makes an offer on a published patent or achievement, and both
sides negotiate on "My offers": counter, accept (a deal opens) or decline with a structured reason."""

from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_POST

from market.accounts.models import User
from market.accounts.permissions import belongs_to, can_post_demand
from market.catalog import selectors as catalog
from market.catalog.models import Achievement, ListingStatus, Patent
from market.trading import selectors as trading
from market.trading.models import (
    MONEY,
    DeclineReason,
    ListingKind,
    Offer,
    OfferSide,
    OfferStatus,
    TransactionMode,
)
from market.trading.services import offers
from market.web.access import login_required, signed_in_user
from market.web.forms import form_attempt

POSITIVE = {**MONEY, "min_value": Decimal("0.01")}


class OfferForm(forms.Form):
    amount = forms.DecimalField(label=_("Amount offered (yuan)"), **POSITIVE)
    transaction_mode = forms.ChoiceField(label=_("Transaction mode"), choices=TransactionMode.choices)
    message = forms.CharField(
        label=_("Message to the owner"),
        max_length=5000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class CounterForm(forms.Form):
    amount = forms.DecimalField(label=_("Your counter-offer (yuan)"), **POSITIVE)
    message = forms.CharField(
        label=_("Message"), max_length=5000, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class DeclineForm(forms.Form):
    reason_code = forms.ChoiceField(label=_("Reason"), choices=DeclineReason.choices)
    reason_text = forms.CharField(
        label=_("Explanation"),
        max_length=2000,
        required=False,
        help_text=_("Required when the reason is “Other”."),
        widget=forms.Textarea(attrs={"rows": 2}),
    )


def _listing(kind: str, pk: int, user: User) -> Patent | Achievement:
    """A published listing the user can see, of the kind the form names (404 for anything else)."""
    if kind == ListingKind.PATENT:
        return get_object_or_404(catalog.patent_list(user=user), pk=pk, status=ListingStatus.PUBLISHED)
    if kind == ListingKind.ACHIEVEMENT:
        return get_object_or_404(catalog.achievement_list(user=user), pk=pk, status=ListingStatus.PUBLISHED)
    raise PermissionDenied


@login_required
def offer_make(request: HttpRequest) -> HttpResponse:
    """`?listing_kind=patent&listing_id=…`: the offer form for one listing (the listing page embeds it)."""
    user = signed_in_user(request)
    if not can_post_demand(user):
        raise PermissionDenied(gettext("Only members of approved enterprises make offers."))
    source = request.POST if request.method == "POST" else request.GET
    try:
        kind, listing_id = str(source.get("listing_kind", "")), int(source.get("listing_id", ""))
    except ValueError:
        raise PermissionDenied from None
    listing = _listing(kind, listing_id, user)
    form = OfferForm(request.POST or None, initial={"transaction_mode": TransactionMode.TRANSFER})
    if request.method == "POST" and form.is_valid():
        offer = form_attempt(
            form,
            lambda: offers.offer_make(
                user=user, listing_kind=kind, listing_id=listing_id, **form.cleaned_data
            ),
        )
        if offer is not None:
            messages.success(request, gettext("Your offer was sent to the owner."))
            return redirect("web:offer", pk=offer.pk)
    return render(request, "web/offers/make.html", {"form": form, "listing": listing, "listing_kind": kind})


@require_GET
@login_required
def my_offers(request: HttpRequest) -> HttpResponse:
    user = signed_in_user(request)
    mine = trading.offer_list(user=user).order_by("-updated_at", "-id")
    return render(
        request,
        "web/offers/my_offers.html",
        {
            "made": [offer for offer in mine if offer.buyer_id == user.organization_id],
            "received": [offer for offer in mine if offer.owner_id == user.organization_id],
        },
    )


def _offer(request: HttpRequest, pk: int) -> tuple[User, Offer]:
    user = signed_in_user(request)
    return user, get_object_or_404(trading.offer_list(user=user).select_related("deal"), pk=pk)


def _render_offer(request: HttpRequest, user: User, offer: Offer, **forms_given: Any) -> HttpResponse:
    side = OfferSide.BUYER if belongs_to(user, offer.buyer_id) else OfferSide.OWNER
    return render(
        request,
        "web/offers/detail.html",
        {
            "offer": offer,
            "side": side,
            "open": offer.status == OfferStatus.OPEN,
            "my_turn": offer.status == OfferStatus.OPEN and offer.awaiting == side,
            "deal": getattr(offer, "deal", None),
            "counter_form": forms_given.get("counter_form") or CounterForm(),
            "accept_form": forms_given.get("accept_form"),
            "decline_form": forms_given.get("decline_form") or DeclineForm(),
        },
    )


@require_GET
@login_required
def offer_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user, offer = _offer(request, pk)
    return _render_offer(request, user, offer)


@require_POST
@login_required
def offer_counter(request: HttpRequest, pk: int) -> HttpResponse:
    user, offer = _offer(request, pk)
    form = CounterForm(request.POST)
    if form.is_valid() and (
        form_attempt(form, lambda: offers.offer_counter(offer=offer, user=user, **form.cleaned_data))
        is not None
    ):
        messages.success(request, gettext("Your counter-offer was sent."))
        return redirect("web:offer", pk=offer.pk)
    return _render_offer(request, user, offer, counter_form=form)


@require_POST
@login_required
def offer_accept(request: HttpRequest, pk: int) -> HttpResponse:
    user, offer = _offer(request, pk)
    form = forms.Form(request.POST)
    if form_attempt(form, lambda: offers.offer_accept(offer=offer, user=user)):
        messages.success(request, gettext("You accepted the offer: a deal is open."))
        return redirect("web:offer", pk=offer.pk)
    return _render_offer(request, user, offer, accept_form=form)


@require_POST
@login_required
def offer_decline(request: HttpRequest, pk: int) -> HttpResponse:
    user, offer = _offer(request, pk)
    form = DeclineForm(request.POST)
    if form.is_valid() and (
        form_attempt(form, lambda: offers.offer_decline(offer=offer, user=user, **form.cleaned_data))
        is not None
    ):
        messages.success(request, gettext("You declined the offer."))
        return redirect("web:offer", pk=offer.pk)
    return _render_offer(request, user, offer, decline_form=form)
