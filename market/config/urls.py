"""URL map: the v1 API, its OpenAPI schema and docs, the event stream's AsyncAPI document, the admin, a
language switch, and the web site at the root."""

from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter

from market.accounts import apis as accounts_apis
from market.catalog import apis as catalog_apis
from market.events import apis as events_apis

router = DefaultRouter()
router.register("orgs", accounts_apis.OrganizationViewSet, basename="organization")
router.register("patents", catalog_apis.PatentViewSet, basename="patent")
router.register("achievements", catalog_apis.AchievementViewSet, basename="achievement")
router.register("demands", catalog_apis.DemandViewSet, basename="demand")
router.register("experts", catalog_apis.ExpertViewSet, basename="expert")

review_kinds = "|".join(catalog_apis.REVIEWABLE)

api_v1: list[URLPattern | URLResolver] = [
    path("auth/token/", accounts_apis.TokenApi.as_view(), name="token"),
    path("auth/token/refresh/", accounts_apis.TokenRefreshApi.as_view(), name="token-refresh"),
    path("users/me/", accounts_apis.MeApi.as_view(), name="me"),
    path("users/unlock/", accounts_apis.UserUnlockApi.as_view(), name="user-unlock"),
    path("review/", catalog_apis.ReviewSummaryApi.as_view(), name="review-summary"),
    path("review/orgs/", accounts_apis.OrganizationReviewQueueApi.as_view(), name="review-orgs"),
    path(
        "review/orgs/<int:pk>/approve/",
        accounts_apis.OrganizationReviewDecisionApi.as_view(decision="approve"),
        name="review-org-approve",
    ),
    path(
        "review/orgs/<int:pk>/reject/",
        accounts_apis.OrganizationReviewDecisionApi.as_view(decision="reject"),
        name="review-org-reject",
    ),
    re_path(
        rf"^review/(?P<kind>{review_kinds})/$", catalog_apis.ReviewQueueApi.as_view(), name="review-queue"
    ),
    re_path(
        rf"^review/(?P<kind>{review_kinds})/(?P<pk>[0-9]+)/approve/$",
        catalog_apis.ReviewDecisionApi.as_view(decision="approve"),
        name="review-approve",
    ),
    re_path(
        rf"^review/(?P<kind>{review_kinds})/(?P<pk>[0-9]+)/reject/$",
        catalog_apis.ReviewDecisionApi.as_view(decision="reject"),
        name="review-reject",
    ),
    path("", include("market.trading.urls")),
    path("", include("services.search.urls")),
    path("", include("services.notify.urls")),
    path("", include("services.stats.urls")),
    path("", include(router.urls)),
]

urlpatterns = [
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    re_path(r"^api/asyncapi\.(?P<fmt>json|yaml)$", events_apis.asyncapi_api, name="asyncapi"),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("market.web.urls")),
]
