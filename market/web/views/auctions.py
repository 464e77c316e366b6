"""The auction room (竞价): the list of open and upcoming auctions, and an auction's page with the live price,
the next minimum bid, the masked bid history and a countdown that follows anti-sniping extensions; enterprises
sign up and bid there, the owner confirms deposits, and after the close the parties find the deal it opened.

The live part is a partial that htmx polls: the price, the minimum and the end are read afresh from the
auction row each time, so a bid placed in another browser, or an end moved by a late bid, shows without a
reload. Every rule (who may sign up or bid, the minimum, the extension) is the services' and the model's."""

from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_POST

from market.accounts.permissions import belongs_to, can_post_demand
from market.trading import selectors as trading
from market.trading.models import MONEY, Auction, AuctionRegistration, AuctionStatus, Bid
from market.trading.services import auctions
from market.web.access import login_required, signed_in_user, viewer
from market.web.forms import form_attempt
from market.web.templatetags.web import money

#: how many bids the auction page lists, newest first
HISTORY_SIZE = 20


class BidForm(forms.Form):
    amount = forms.DecimalField(label=_("Your bid (yuan)"), min_value=Decimal("0.01"), **MONEY)


def _auction(pk: int) -> Auction:
    return get_object_or_404(trading.auction_list().select_related("patent", "achievement"), pk=pk)


@require_GET
def auction_list(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    open_auctions = trading.auction_list().filter(status=AuctionStatus.OPEN)
    return render(
        request,
        "web/auctions/list.html",
        {
            "running": open_auctions.filter(starts_at__lte=now).order_by("ends_at", "id"),
            "upcoming": open_auctions.filter(starts_at__gt=now).order_by("starts_at", "id"),
            "finished": trading.auction_list().exclude(status=AuctionStatus.OPEN).order_by("-closed_at")[:10],
        },
    )


def _history(auction: Auction) -> list[dict[str, Any]]:
    """The public history: bidder numbers and masked organization names, never a bidder's identity."""
    bids: QuerySet[Bid] = trading.bid_history(auction=auction)[:HISTORY_SIZE]
    return [
        {
            "sequence": bid.sequence,
            "amount": bid.amount,
            "bidder_number": bid.registration.paddle_number,
            "bidder": trading.mask_name(bid.organization.name),
            "placed_at": bid.placed_at,
        }
        for bid in bids
    ]


def _live_context(request: HttpRequest, auction: Auction) -> dict[str, Any]:
    """What the polled partial shows; the deal only to those who may see it (the parties, oversight)."""
    user = viewer(request)
    deal = None
    if auction.status == AuctionStatus.CLOSED and user is not None:
        deal = trading.deal_list(user=user).filter(auction=auction).first()
    return {
        "auction": auction,
        "now": timezone.now(),
        "history": _history(auction),
        "deal": deal,
        "extended": auction.ends_at > auction.scheduled_end,
        "leading_mine": bool(auction.leading_bid and belongs_to(user, auction.leading_bid.organization_id)),
    }


def _render_page(request: HttpRequest, auction: Auction, **forms_given: Any) -> HttpResponse:
    user = viewer(request)
    registrations = trading.registration_list(auction=auction, user=user)
    own: AuctionRegistration | None = None
    if user is not None and user.organization_id:
        own = next((r for r in registrations if r.organization_id == user.organization_id), None)
    context = {
        **_live_context(request, auction),
        "registrations": registrations,
        "is_owner": belongs_to(user, auction.owner_id),
        "may_take_part": can_post_demand(user),
        "own_registration": own,
        "bid_form": forms_given.get("bid_form") or BidForm(initial={"amount": auction.minimum_next_bid}),
        # a sign-up or a deposit confirmation the service refused: its reasons above the section
        "refusals": [form for name, form in forms_given.items() if name != "bid_form"],
    }
    return render(request, "web/auctions/detail.html", context)


@require_GET
def auction_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _render_page(request, _auction(pk))


@require_GET
def auction_live(request: HttpRequest, pk: int) -> HttpResponse:
    """The partial the page polls every 2 s: price, minimum, end (with any extension), history, deal."""
    return render(request, "web/auctions/partials/live.html", _live_context(request, _auction(pk)))


@require_POST
@login_required
def auction_register(request: HttpRequest, pk: int) -> HttpResponse:
    auction = _auction(pk)
    form = forms.Form(request.POST)
    done = form_attempt(
        form, lambda: auctions.auction_register(auction=auction, user=signed_in_user(request))
    )
    if done is None:
        return _render_page(request, auction, register_form=form)
    registration, _created = done
    if registration.may_bid:
        messages.success(request, gettext("You are signed up: you may bid."))
    else:
        messages.success(
            request, gettext("You are signed up. You may bid once the owner has confirmed your deposit.")
        )
    return redirect("web:auction", pk=auction.pk)


@require_POST
@login_required
def registration_confirm_deposit(request: HttpRequest, pk: int, registration_id: int) -> HttpResponse:
    """The owner confirms a bidder's deposit arrived (the API's `confirm-deposit`)."""
    auction = _auction(pk)
    user = signed_in_user(request)
    registration = get_object_or_404(
        trading.registration_list(auction=auction, user=user), pk=registration_id
    )
    form = forms.Form(request.POST)
    if form_attempt(
        form, lambda: auctions.registration_confirm_deposit(registration=registration, user=user)
    ):
        messages.success(
            request,
            gettext("The deposit of bidder %(number)s is confirmed.")
            % {"number": registration.paddle_number},
        )
        return redirect("web:auction", pk=auction.pk)
    return _render_page(request, auction, deposit_form=form)


@require_POST
@login_required
def bid_place(request: HttpRequest, pk: int) -> HttpResponse:
    auction = _auction(pk)
    form = BidForm(request.POST)
    if form.is_valid():
        bid = form_attempt(
            form,
            lambda: auctions.bid_place(
                auction_id=auction.pk, user=signed_in_user(request), amount=form.cleaned_data["amount"]
            ),
        )
        if bid is not None:
            messages.success(
                request, gettext("Your bid of %(amount)s is the highest.") % {"amount": money(bid.amount)}
            )
            return redirect("web:auction", pk=auction.pk)
    return _render_page(request, _auction(pk), bid_form=form)
