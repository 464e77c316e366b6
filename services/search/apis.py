"""Search endpoints: full-text search with facets, search-as-you-type, and "more like this". Everyone may
read them; the index only ever holds published listings and public profiles."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework.exceptions import NotFound
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param
from rest_framework.views import APIView

from market.common.apis import validated
from services.search import selectors
from services.search.serializers import (
    SearchParamsSerializer,
    SimilarParamsSerializer,
    SuggestParamsSerializer,
    cursor_encode,
    search_params,
)


class SearchApi(APIView):
    """One query across patents, achievements, demands and experts (or some of them via `type`)."""

    permission_classes = [AllowAny]

    @extend_schema(parameters=[SearchParamsSerializer], responses=dict)
    def get(self, request: Request) -> Response:
        params = search_params(validated(SearchParamsSerializer, request.query_params))
        found = selectors.search_run(params)
        last_sort = found.pop("last_sort")
        url = request.build_absolute_uri()
        cursor = cursor_encode(last_sort, sort=params.sort_name) if last_sort else None
        found["next"] = replace_query_param(url, "cursor", cursor) if cursor else None
        return Response(
            {
                "count": found["count"],
                "next": found["next"],
                "results": found["results"],
                "facets": found["facets"],
            }
        )


class SuggestApi(APIView):
    """Search-as-you-type: titles (and keywords) that continue what was typed so far."""

    permission_classes = [AllowAny]

    @extend_schema(parameters=[SuggestParamsSerializer], responses=dict)
    def get(self, request: Request) -> Response:
        data = validated(SuggestParamsSerializer, request.query_params)
        return Response({"q": data["q"], "suggestions": selectors.suggest_run(data["q"], data["size"])})


class SimilarApi(APIView):
    """Listings like a given published one, for its detail page."""

    permission_classes = [AllowAny]

    @extend_schema(parameters=[SimilarParamsSerializer], responses=dict)
    def get(self, request: Request) -> Response:
        data = validated(SimilarParamsSerializer, request.query_params)
        results = selectors.similar_run(
            data["type"], data["id"], within=data.get("within", []), size=data["size"]
        )
        if results is None:
            raise NotFound(_("No published listing with this type and id."))
        return Response({"type": data["type"], "id": data["id"], "results": results})
