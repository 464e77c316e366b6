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
    path("sign-in/", account.SignInView.as_view(), name="sign-in"),
    path("sign-out/", account.SignOutView.as_view(), name="sign-out"),
]
