"""Pages everyone may read: the home page, search results and the listing pages."""

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, render
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET
from rest_framework import serializers

from market.catalog import selectors as catalog
from market.catalog.models import ListingStatus
from market.web.access import viewer
from services.search import selectors as search
from services.search.serializers import SearchParamsSerializer, cursor_encode, search_params

#: how many listings of each kind the home page shows
HOME_LATEST = 6
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
    return render(request, "web/home.html", {"latest": latest, "counts": _published_counts()})


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
    suggestions = search.suggest_run(prefix, 8) if prefix else []
    return render(request, "web/partials/suggestions.html", {"suggestions": suggestions})


@require_GET
def patent_detail(request: HttpRequest, pk: int) -> HttpResponse:
    patent = get_object_or_404(catalog.patent_list(user=viewer(request)), pk=pk)
    return render(request, "web/patent.html", {"patent": patent, "similar_kind": "patent"})


@require_GET
def similar(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    """ "More like this" for a published listing's page, loaded by htmx after the page itself."""
    results = search.similar_run(kind, pk, within=[], size=6)
    if results is None:
        raise Http404
    return render(request, "web/partials/similar.html", {"results": results})
