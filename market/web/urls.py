"""The web site's pages under the site root; the API stays under /api/."""

from django.urls import path

from market.web.views import account, public

app_name = "web"

urlpatterns = [
    path("", public.home, name="home"),
    path("counts/", public.live_counts, name="counts"),
    path("search/", public.search_results, name="search"),
    path("search/suggest/", public.suggest, name="suggest"),
    path("patents/<int:pk>/", public.patent_detail, name="patent"),
    path("similar/<str:kind>/<int:pk>/", public.similar, name="similar"),
    # public pages: achievements, demands, experts, public notices (公示), saved searches
    path("achievements/<int:pk>/", public.achievement_detail, name="achievement"),
    path("achievements/<int:pk>/nda/", public.achievement_accept_nda, name="achievement-nda"),
    path("demands/<int:pk>/", public.demand_detail, name="demand"),
    path("experts/<int:pk>/", public.expert_detail, name="expert"),
    path("notices/", public.notices, name="notices"),
    path("notices/<int:pk>/objection/", public.objection_lodge, name="objection"),
    path("search/save/", public.save_search, name="save-search"),
    path("sign-in/", account.SignInView.as_view(), name="sign-in"),
    path("sign-out/", account.SignOutView.as_view(), name="sign-out"),
]
