"""API routes of this package, mounted under /api/v1/."""

from django.urls import URLPattern, URLResolver, path, re_path

from services.stats import apis

urlpatterns: list[URLPattern | URLResolver] = [
    path("stats/", apis.StatsApi.as_view(), name="stats"),
    re_path(r"^stats/export\.(?P<extension>csv|xlsx)$", apis.StatsExportApi.as_view(), name="stats-export"),
    re_path(
        r"^stats/deals\.(?P<extension>csv|xlsx)$",
        apis.DealRegisterExportApi.as_view(),
        name="stats-deal-register",
    ),
    path("stats/targets/", apis.PlanTargetListApi.as_view(), name="stats-targets"),
    path("stats/targets/<int:pk>/", apis.PlanTargetDetailApi.as_view(), name="stats-target"),
]
