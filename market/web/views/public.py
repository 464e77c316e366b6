"""Pages everyone may read: the home page, search results, the listing and expert pages, the public notices
(公示); and what a signed-in reader does there: accept an NDA, object to a deal, save a search."""

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_POST
from rest_framework import serializers

from market.accounts.permissions import can_list_supply
from market.catalog import selectors as catalog
from market.catalog import services as catalog_services
from market.catalog.models import Demand, Listing, ListingStatus
from market.trading import selectors as trading
from market.trading.models import Deal, TransactionMode
from market.trading.serializers import ProposalInputSerializer
from market.trading.services import deals, proposals
from market.web.access import login_required, signed_in_user, viewer
from market.web.forms import ApiInputForm, form_attempt
from market.web.models import ViewedKind
from market.web.selectors import most_viewed
from market.web.services import listing_view_record
from market.web.templatetags.web import facet_label
from services.notify import serializers as notify_serializers
from services.notify.models import Channel, Frequency, SubscriptionKind
from services.notify.services.subscriptions import preference_of, subscription_create
from services.search import selectors as search
from services.search.indexes import KINDS
from services.search.serializers import SearchParamsSerializer, cursor_encode, search_params

#: how many listings of each kind the home page shows, latest and most viewed
HOME_LATEST = 6
HOME_MOST_VIEWED = 5
#: how many ended notices the notices page still shows under the running ones
NOTICES_ENDED = 10
#: facets the results page offers as filters, in this order (each name is also the request parameter)
PAGE_FACETS = (
    "type",
    "field",
    "owner_type",
    "patent_type",
    "legal_status",
    "stage",
    "transfer_mode",
    "region",
)
SORT_LABELS = {
    "relevance": _("Relevance"),
    "newest": _("Newest"),
    "price": _("Price, low to high"),
    "-price": _("Price, high to low"),
}


def _published_counts() -> dict[str, int]:
    return {
        "patents": catalog.patent_list(user=None).filter(status=ListingStatus.PUBLISHED).count(),
        "achievements": catalog.achievement_list(user=None).filter(status=ListingStatus.PUBLISHED).count(),
        "demands": catalog.demand_list(user=None).filter(status=ListingStatus.PUBLISHED).count(),
    }


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    latest = {
        "patents": catalog.patent_list(user=None).order_by("-published_sort", "-id")[:HOME_LATEST],
        "achievements": catalog.achievement_list(user=None).order_by("-published_sort", "-id")[:HOME_LATEST],
        "demands": catalog.demand_list(user=None).order_by("-published_sort", "-id")[:HOME_LATEST],
    }
    popular = {
        "patents": most_viewed(kind=ViewedKind.PATENT, limit=HOME_MOST_VIEWED),
        "achievements": most_viewed(kind=ViewedKind.ACHIEVEMENT, limit=HOME_MOST_VIEWED),
        "demands": most_viewed(kind=ViewedKind.DEMAND, limit=HOME_MOST_VIEWED),
    }
    return render(
        request, "web/home.html", {"latest": latest, "popular": popular, "counts": _published_counts()}
    )


@require_GET
def live_counts(request: HttpRequest) -> HttpResponse:
    """The home page's counters, polled by htmx."""
    return render(request, "web/partials/counts.html", {"counts": _published_counts()})


def _highlighted(item: dict[str, Any]) -> dict[str, Any]:
    """The engine's highlight fragments (HTML-escaped by the engine, `<em>` around the hits) marked safe."""
    highlight = item.get("highlight", {})
    item["title_html"] = mark_safe(highlight["title"][0]) if highlight.get("title") else None
    item["snippets_html"] = [mark_safe(fragment) for fragment in highlight.get("body", [])]
    return item


def _facet_choices(request: HttpRequest, facets: dict[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    chosen = {name: set(request.GET.getlist(name)) for name in PAGE_FACETS}
    return [
        {
            "name": name,
            "values": [
                {**bucket, "value": str(bucket["value"]), "checked": str(bucket["value"]) in chosen[name]}
                for bucket in facets.get(name, [])
            ],
        }
        for name in PAGE_FACETS
        if facets.get(name)
    ]


@require_GET
def search_results(request: HttpRequest) -> HttpResponse:
    """The results page: the same parameters, validation and query as `GET /api/v1/search/`."""
    serializer = SearchParamsSerializer(data=request.GET)
    if not serializer.is_valid():
        errors = _error_list(serializer.errors)
        return render(request, "web/search.html", {"errors": errors, "query": request.GET}, status=400)
    params = search_params(dict(serializer.validated_data))
    found = search.search_run(params)
    next_query: QueryDict | None = None
    if found["last_sort"]:
        next_query = request.GET.copy()
        next_query["cursor"] = cursor_encode(found["last_sort"], sort=params.sort_name)
    return render(
        request,
        "web/search.html",
        {
            "query": request.GET,
            "q": params.q,
            "sort": params.sort_name,
            "count": found["count"],
            "results": [_highlighted(item) for item in found["results"]],
            "facets": _facet_choices(request, found["facets"]),
            "next_query": next_query.urlencode() if next_query else None,
            "sort_choices": SORT_LABELS.items(),
            **_save_search_context(request),
        },
    )


def _error_list(errors: Any) -> list[str]:
    return [f"{name}: {' '.join(str(message) for message in messages)}" for name, messages in errors.items()]


class _SuggestParams(serializers.Serializer):
    q = serializers.CharField(max_length=50, allow_blank=True, required=False, default="")


@require_GET
def suggest(request: HttpRequest) -> HttpResponse:
    """Search-as-you-type: the titles that continue what the box holds, as a list the box shows under it."""
    serializer = _SuggestParams(data=request.GET)
    prefix = serializer.validated_data["q"].strip() if serializer.is_valid() else ""
    try:
        suggestions = search.suggest_run(prefix, 8) if prefix else []
    except search.SearchUnavailable:
        suggestions = []  # typing goes on; the search itself says the engine is away
    return render(request, "web/partials/suggestions.html", {"suggestions": suggestions})


def _read(kind: str, listing: Listing) -> None:
    """Count a read of a published listing's page (what "most viewed" ranks); an owner looking at a draft
    is not a reader of the market."""
    if listing.status == ListingStatus.PUBLISHED:
        listing_view_record(kind=kind, listing_id=listing.pk)


@require_GET
def patent_detail(request: HttpRequest, pk: int) -> HttpResponse:
    patent = get_object_or_404(catalog.patent_list(user=viewer(request)), pk=pk)
    _read(ViewedKind.PATENT, patent)
    return render(request, "web/patent.html", {"patent": patent, "similar_kind": "patent"})


@require_GET
def achievement_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """An achievement as the API's detail shows it to this reader: the confidential details only for those
    allowed, the NDA to accept for a signed-in reader who is not yet."""
    user = viewer(request)
    achievement = get_object_or_404(catalog.achievement_list(user=user), pk=pk)
    _read(ViewedKind.ACHIEVEMENT, achievement)
    context = {
        "achievement": achievement,
        "patents": catalog.patent_list(user=user).filter(achievements=achievement).order_by("pk"),
        "confidential_allowed": catalog.achievement_confidential_allowed(achievement=achievement, user=user),
        "nda_offered": catalog.achievement_nda_offered(achievement=achievement, user=user),
    }
    return render(request, "web/public/achievement.html", context)


@require_POST
@login_required
def achievement_accept_nda(request: HttpRequest, pk: int) -> HttpResponse:
    """Accept the owner's NDA (as `POST /api/v1/achievements/<id>/nda/`); the page then shows the details."""
    user = signed_in_user(request)
    achievement = get_object_or_404(catalog.achievement_list(user=user), pk=pk)
    form = forms.Form(request.POST)
    if form_attempt(
        form, lambda: catalog_services.achievement_accept_nda(achievement=achievement, user=user)
    ):
        messages.success(request, gettext("You accepted the NDA: the confidential details are below."))
    else:
        for error in form.non_field_errors():
            messages.error(request, str(error))
    return redirect("web:achievement", pk=achievement.pk)


class ProposalForm(ApiInputForm):
    """A proposal (揭榜) to a demand, validated by the API's own input serializer."""

    serializer_class = ProposalInputSerializer
    summary = forms.CharField(label=_("Proposal summary"), max_length=300)
    approach = forms.CharField(
        label=_("Your approach"),
        max_length=20000,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_("How your team would solve it: method, results so far, schedule."),
    )
    amount = forms.DecimalField(label=_("Quoted amount (yuan)"), max_digits=14, decimal_places=2)
    transaction_mode = forms.ChoiceField(label=_("Transaction mode"), choices=TransactionMode.choices)


def _demand_page(
    request: HttpRequest, demand: Demand, *, form: ProposalForm | None = None, status: int = 200
) -> HttpResponse:
    """The demand, and what this reader may do about it: a university's or institute's member proposes a
    solution (or sees the proposal their organization already made), an anonymous reader is asked to sign
    in; everyone else only reads."""
    user = viewer(request)
    owner_shown = not demand.is_anonymous or catalog.demand_owner_visible(owner_id=demand.owner_id, user=user)
    proposes = user is not None and can_list_supply(user)
    own_proposal = (
        trading.proposal_list(user=user).filter(demand=demand, proposer_id=user.organization_id).first()
        if user is not None and proposes
        else None
    )
    open_to_proposals = proposes and own_proposal is None and demand.status == ListingStatus.PUBLISHED
    if form is not None and not open_to_proposals:
        # a colleague proposed meanwhile, or the demand closed: the form is no longer on the page, so say why
        # up top
        for error in form.non_field_errors():
            messages.error(request, str(error))
        form = None
    elif open_to_proposals and form is None:
        form = ProposalForm(initial={"transaction_mode": TransactionMode.TRANSFER})
    context = {
        "demand": demand,
        "owner_shown": owner_shown,
        "proposal_form": form,
        "own_proposal": own_proposal,
    }
    return render(request, "web/public/demand.html", context, status=status)


@require_GET
def demand_detail(request: HttpRequest, pk: int) -> HttpResponse:
    demand = get_object_or_404(catalog.demand_list(user=viewer(request)), pk=pk)
    _read(ViewedKind.DEMAND, demand)
    return _demand_page(request, demand)


@require_POST
@login_required
def proposal_submit(request: HttpRequest, pk: int) -> HttpResponse:
    """Propose a solution to the demand (揭榜, as `POST /api/v1/demands/<id>/proposals/`): the service says
    who may and when; its refusal shows on the form."""
    user = signed_in_user(request)
    if not can_list_supply(user):
        raise PermissionDenied(
            gettext("Only members of approved universities and institutes propose solutions.")
        )
    demand = get_object_or_404(catalog.demand_list(user=user), pk=pk)
    form = ProposalForm(request.POST)
    if form.is_valid() and (
        form_attempt(form, lambda: proposals.proposal_submit(demand=demand, user=user, **form.cleaned_data))
        is not None
    ):
        messages.success(
            request, gettext("Your proposal was sent: the enterprise will review it and tell you.")
        )
        return redirect("web:demand", pk=demand.pk)
    return _demand_page(request, demand, form=form, status=400)


@require_GET
def expert_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """An expert's profile; the contact details, as in the API, only for signed-in readers."""
    expert = get_object_or_404(catalog.expert_list(user=viewer(request)), pk=pk)
    return render(request, "web/public/expert.html", {"expert": expert})


@require_GET
def similar(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    """ "More like this" for a published listing's page, loaded by htmx after the page itself. A listing the
    index does not hold (yet: indexing follows publication by moments) has nothing similar rather than a 404,
    which the page would report as an error."""
    if kind not in KINDS:
        raise Http404
    results = search.similar_run(kind, pk, within=[], size=6)
    return render(request, "web/partials/similar.html", {"results": results or []})


# ---- public notices (公示) ------------------------------------------------------------------------------


class ObjectionForm(forms.Form):
    """What `POST /api/v1/notices/<id>/objections/` takes."""

    text = forms.CharField(
        label=_("Your objection"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Say what is wrong with this deal; platform administrators rule on it."),
    )


def _notices_page(request: HttpRequest, *, failed: tuple[int, ObjectionForm] | None = None) -> HttpResponse:
    """The running notices, each with its objection form (the one that failed, bound, for its deal)."""
    status = 200 if failed is None else 400
    signed_in = viewer(request) is not None
    running: list[tuple[Deal, ObjectionForm | None]] = []
    for deal in trading.notice_running_list():
        form = ObjectionForm(prefix=f"deal{deal.pk}") if signed_in else None
        if failed and failed[0] == deal.pk:
            form, failed = failed[1], None
        running.append((deal, form))
    if failed:  # the notice ended meanwhile: its form is no longer on the page, so say why up top
        for error in failed[1].non_field_errors():
            messages.error(request, str(error))
    ended = (
        trading.notice_list()
        .exclude(pk__in=[deal.pk for deal, _form in running])
        .order_by("-notice_ends_at", "-id")[:NOTICES_ENDED]
    )
    context = {"running": running, "ended": ended}
    return render(request, "web/public/notices.html", context, status=status)


@require_GET
def notices(request: HttpRequest) -> HttpResponse:
    """Deals in their public notice period, each with the objection form for a signed-in reader, and the
    notices that ended last."""
    return _notices_page(request)


@require_POST
@login_required
def objection_lodge(request: HttpRequest, pk: int) -> HttpResponse:
    deal = get_object_or_404(trading.notice_list(), pk=pk)
    form = ObjectionForm(request.POST, prefix=f"deal{deal.pk}")
    user = signed_in_user(request)
    if form.is_valid() and (
        form_attempt(
            form, lambda: deals.objection_lodge(deal=deal, user=user, text=form.cleaned_data["text"])
        )
        is not None
    ):
        messages.success(
            request, gettext("Your objection was lodged; the platform administrators will rule on it.")
        )
        return redirect("web:notices")
    return _notices_page(request, failed=(deal.pk, form))


# ---- saved searches -------------------------------------------------------------------------------------

#: parameters of the results page that change how results are shown, not which listings match
SHOWING_PARAMETERS = frozenset({"sort", "cursor", "page_size"})


class SaveSearchForm(forms.Form):
    """The part of `POST /api/v1/subscriptions/` (kind `search`) the reader chooses; the parameters are the
    search's own."""

    name = forms.CharField(label=_("Name"), max_length=100, required=False)
    channels = forms.MultipleChoiceField(
        label=_("Tell me by"), choices=Channel.choices, widget=forms.CheckboxSelectMultiple
    )
    frequency = forms.ChoiceField(
        label=_("How often"), choices=Frequency.choices, initial=Frequency.INSTANT, widget=forms.RadioSelect
    )


def saved_search_params(query: QueryDict) -> dict[str, Any]:
    """The search's parameters in the shape the subscription endpoint takes: several kinds comma-separated
    (as `?type=` also reads them), a filter's single value as itself; several values of another filter stay a
    list, which the endpoint's parameters refuse (a saved search keeps one value per filter)."""
    params: dict[str, Any] = {}
    for name in query:
        values = [value for value in query.getlist(name) if value.strip()]
        if name in SHOWING_PARAMETERS or not values:
            continue
        params[name] = ",".join(values) if name == "type" else values[0] if len(values) == 1 else values
    return params


def _param_problems(errors: Any) -> list[str]:
    """The endpoint's refusal of some parameters, one line each, named as the filters are on the page."""
    if not isinstance(errors, dict):
        return [str(message) for message in errors]
    return [
        f"{facet_label(name)}: {' '.join(str(message) for message in messages)}"
        for name, messages in errors.items()
    ]


def saved_search_problems(params: dict[str, Any]) -> list[str]:
    """Why these parameters cannot be kept as a saved search (empty when they can)."""
    serializer = notify_serializers.SearchParamsSerializer(data=params)
    return [] if serializer.is_valid() else _param_problems(serializer.errors)


def _save_search_context(request: HttpRequest, form: SaveSearchForm | None = None) -> dict[str, Any]:
    user = viewer(request)
    params = saved_search_params(request.GET)
    if user is not None and form is None:
        form = SaveSearchForm(
            initial={"name": params.get("q", ""), "channels": preference_of(user).channels},
            auto_id="save-search-%s",
        )
    return {
        "save_form": form,
        "save_problems": saved_search_problems(params),
        "save_action": f"{reverse('web:save-search')}?{request.GET.urlencode()}",
    }


@require_POST
@login_required
def save_search(request: HttpRequest) -> HttpResponse:
    """Keep the search of the query string as a saved search (a subscription of kind `search`), validated by
    the subscription endpoint's own input serializer and created by its service."""
    form = SaveSearchForm(request.POST, auto_id="save-search-%s")
    if form.is_valid():
        serializer = notify_serializers.SubscriptionInputSerializer(
            data={
                "kind": SubscriptionKind.SEARCH,
                **form.cleaned_data,
                "params": saved_search_params(request.GET),
            }
        )
        if not serializer.is_valid():
            for name, errors in serializer.errors.items():
                for problem in _param_problems(errors) if name == "params" else errors:
                    form.add_error(name if name in form.fields else None, str(problem))
        elif form_attempt(
            form, lambda: subscription_create(user=signed_in_user(request), **serializer.validated_data)
        ):
            messages.success(
                request, gettext("Search saved: new listings that match it will be sent to you.")
            )
            return HttpResponseRedirect(f"{reverse('web:search')}?{request.GET.urlencode()}")
    context = {**_save_search_context(request, form), "query": request.GET}
    return render(request, "web/public/save_search.html", context, status=400)
