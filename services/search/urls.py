"""API routes of this package, mounted under /api/v1/."""

from django.urls import URLPattern, URLResolver, path

from services.search import apis

urlpatterns: list[URLPattern | URLResolver] = [
    path("search/", apis.SearchApi.as_view(), name="search"),
    path("search/suggest/", apis.SuggestApi.as_view(), name="search-suggest"),
    path("search/similar/", apis.SimilarApi.as_view(), name="search-similar"),
]
