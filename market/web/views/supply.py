"""The pages of a university's or institute's members: their organization's patents and achievements (create,
edit, submit, withdraw, resubmit after a rejection), who accepted their NDAs, the offers and proposals of
their organization, and opening an auction. Every write is a catalog or trading service; these views parse
forms and show what the services decided."""

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from market.accounts.models import User
from market.accounts.permissions import belongs_to, can_list_supply
from market.catalog import selectors as catalog
from market.catalog import services as catalog_services
from market.catalog.models import EDITABLE_STATUSES, TRADEABLE, Achievement, ListingStatus, Patent
from market.common.errors import ApplicationError, Forbidden
from market.trading import selectors as trading
from market.trading.services.auctions import auction_open
from market.web.access import login_required, signed_in_user
from market.web.forms import form_attempt
from market.web.paging import page_of, query_without
from market.web.supply_forms import AchievementForm, AuctionForm, PatentForm

#: URL segment -> the listing kind's name in the trading services and its catalog selector
KINDS: dict[str, tuple[str, Callable[..., QuerySet]]] = {
    "patents": ("patent", catalog.patent_list),
    "achievements": ("achievement", catalog.achievement_list),
}
#: what the status of a listing lets its owner do on these pages
WITHDRAWABLE = frozenset({ListingStatus.PENDING, ListingStatus.PUBLISHED})
#: rows of each list on the organization's listings page
LISTINGS_PAGE_SIZE = 50


def _supplier(request: HttpRequest) -> User:
    """The signed-in member of an approved university or institute; anyone else may not use these pages
    (the services refuse them the same way: 403)."""
    user = signed_in_user(request)
    if not can_list_supply(user):
        raise PermissionDenied
    return user


def _own(queryset: QuerySet, user: User) -> QuerySet:
    return queryset.filter(owner_id=user.organization_id)


def _listing(user: User, kind: str, pk: int) -> Patent | Achievement:
    """A listing this user may change: 404 when the catalog does not show it to them (as the API answers),
    403 when they see it but it belongs to another organization."""
    if kind not in KINDS:
        raise Http404
    listing = get_object_or_404(KINDS[kind][1](user=user), pk=pk)
    if not belongs_to(user, listing.owner_id):
        raise PermissionDenied
    return listing


def _actions(listing: Patent | Achievement) -> dict[str, bool]:
    return {
        "edit": listing.status in EDITABLE_STATUSES,
        "submit": listing.status in EDITABLE_STATUSES,
        "resubmit": listing.status == ListingStatus.REJECTED,
        "withdraw": listing.status in WITHDRAWABLE,
        "auction": listing.status == ListingStatus.PUBLISHED and listing.availability in TRADEABLE,
    }


@login_required
def my_listings(request: HttpRequest) -> HttpResponse:
    """The organization's patents and achievements, newest change first, a page of each at a time and
    optionally of one status (a university lists thousands: the office works on the rejected or pending
    ones), with the offers, proposals and NDA signers of the organization."""
    user = _supplier(request)
    status = request.GET.get("status", "")
    patents = _own(catalog.patent_list(user=user), user).order_by("-updated_at", "-id")
    achievements = _own(catalog.achievement_list(user=user), user).order_by("-updated_at", "-id")
    if status in ListingStatus.values:
        patents, achievements = patents.filter(status=status), achievements.filter(status=status)
    patent_page = page_of(request, patents, size=LISTINGS_PAGE_SIZE, param="patents_page")
    achievement_page = page_of(request, achievements, size=LISTINGS_PAGE_SIZE, param="achievements_page")
    offers = (
        trading.offer_list(user=user)
        .filter(owner_id=user.organization_id)
        .select_related("patent", "achievement")
        .order_by("-updated_at", "-id")
    )
    proposals = trading.proposal_list(user=user).order_by("-updated_at", "-id")
    return render(
        request,
        "web/supply/my_listings.html",
        {
            "status": status,
            "statuses": ListingStatus.choices,
            "patent_page": patent_page,
            "achievement_page": achievement_page,
            "patents_query": query_without(request, "patents_page"),
            "achievements_query": query_without(request, "achievements_page"),
            "patents": [(patent, _actions(patent)) for patent in patent_page],
            "achievements": [(achievement, _actions(achievement)) for achievement in achievement_page],
            "offers": offers[:LISTINGS_PAGE_SIZE],
            "proposals": proposals[:LISTINGS_PAGE_SIZE],
            "nda_acceptances": catalog.nda_acceptance_list(user=user)[:50],
        },
    )


def _patent_changes(form: PatentForm) -> dict[str, Any]:
    return dict(form.cleaned_data)


@login_required
@require_http_methods(["GET", "POST"])
def patent_new(request: HttpRequest) -> HttpResponse:
    user = _supplier(request)
    form = PatentForm(request.POST or None, initial={"legal_status": "pending"})
    if request.method == "POST" and form.is_valid():
        patent = form_attempt(
            form, lambda: catalog_services.patent_create(user=user, **_patent_changes(form))
        )
        if patent is not None:
            messages.success(request, _("The patent is saved as a draft. Submit it for review when ready."))
            return redirect("web:my-listing", kind="patents", pk=patent.pk)
    return _form_page(request, form, title=_("New patent"))


def _own_patents(user: User) -> list[Patent]:
    return list(_own(catalog.patent_list(user=user), user).order_by("application_number"))


@login_required
@require_http_methods(["GET", "POST"])
def achievement_new(request: HttpRequest) -> HttpResponse:
    user = _supplier(request)
    form = AchievementForm(request.POST or None, patents=_own_patents(user))
    if request.method == "POST" and form.is_valid():
        achievement = form_attempt(
            form, lambda: catalog_services.achievement_create(user=user, **form.cleaned_changes())
        )
        if achievement is not None:
            messages.success(
                request, _("The achievement is saved as a draft. Submit it for review when ready.")
            )
            return redirect("web:my-listing", kind="achievements", pk=achievement.pk)
    return _form_page(request, form, title=_("New achievement"))


def _form_page(
    request: HttpRequest,
    form: Any,
    *,
    title: str,
    listing: Patent | Achievement | None = None,
    kind: str | None = None,
) -> HttpResponse:
    return render(
        request,
        "web/supply/listing_form.html",
        {"form": form, "title": title, "listing": listing, "kind": kind},
    )


@login_required
def listing_detail(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    user = signed_in_user(request)
    listing = _listing(user, kind, pk)
    kind_name = KINDS[kind][0]
    auctions = trading.auction_list().filter(**{kind_name: listing}).order_by("-starts_at")
    offers = trading.offer_list(user=user).filter(**{kind_name: listing}).order_by("-updated_at")
    acceptances = (
        catalog.nda_acceptance_list(user=user).filter(achievement_id=listing.pk)
        if kind == "achievements"
        else None
    )
    return render(
        request,
        "web/supply/listing_detail.html",
        {
            "listing": listing,
            "kind": kind,
            "kind_name": kind_name,
            "actions": _actions(listing),
            "auctions": auctions,
            "offers": offers,
            "nda_acceptances": acceptances,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def listing_edit(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    user = signed_in_user(request)
    listing = _listing(user, kind, pk)
    form: PatentForm | AchievementForm
    call: Callable[[], Any]
    if isinstance(listing, Patent):
        form = PatentForm(request.POST or None, initial=PatentForm.initial_of(listing))
        patent_form = form

        def call() -> Patent:
            return catalog_services.patent_update(patent=listing, user=user, **_patent_changes(patent_form))
    else:
        form = AchievementForm(
            request.POST or None, initial=AchievementForm.initial_of(listing), patents=_own_patents(user)
        )
        achievement_form = form

        def call() -> Achievement:
            changes = achievement_form.cleaned_changes()
            changes.setdefault("patent_ids", [])
            return catalog_services.achievement_update(achievement=listing, user=user, **changes)

    if request.method == "POST" and form.is_valid() and form_attempt(form, call) is not None:
        messages.success(request, _("Your changes are saved."))
        return redirect("web:my-listing", kind=kind, pk=pk)
    title = _("Edit “%(name)s”") % {"name": _title(listing)}
    return _form_page(request, form, title=title, listing=listing, kind=kind)


def _title(listing: Patent | Achievement) -> str:
    return listing.title if isinstance(listing, Patent) else listing.name


#: the status changes the owner asks for with a button, and what they say when done
TRANSITIONS: dict[str, tuple[Callable[..., Any], Any]] = {
    "submit": (catalog_services.listing_submit, gettext_lazy("Submitted for review.")),
    "withdraw": (
        catalog_services.listing_withdraw,
        gettext_lazy("Withdrawn. You can edit it and submit it again."),
    ),
}


@login_required
@require_POST
def listing_transition(request: HttpRequest, kind: str, pk: int, action: str) -> HttpResponse:
    user = signed_in_user(request)
    listing = _listing(user, kind, pk)
    if action not in TRANSITIONS:
        raise Http404
    service, done = TRANSITIONS[action]
    try:
        service(listing=listing, user=user)
    except Forbidden as error:
        raise PermissionDenied(error.message) from error
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, done)
    return redirect(request.POST.get("next") or reverse("web:my-listing", kwargs={"kind": kind, "pk": pk}))


@login_required
@require_http_methods(["GET", "POST"])
def auction_new(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    user = signed_in_user(request)
    listing = _listing(user, kind, pk)
    form = AuctionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        auction = form_attempt(
            form,
            lambda: auction_open(
                user=user, listing_kind=KINDS[kind][0], listing_id=listing.pk, **form.cleaned_terms()
            ),
        )
        if auction is not None:
            messages.success(request, _("The auction is open."))
            return redirect("web:my-listing", kind=kind, pk=pk)
    return render(
        request,
        "web/supply/auction_form.html",
        {"form": form, "listing": listing, "kind": kind},
    )
