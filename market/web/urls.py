"""The web site's pages under the site root; the API stays under /api/."""

from django.urls import path

from market.web.views import account, auctions, demand, offers, public

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
    # enterprise: demands and the proposals received, auctions, offers (web-demand)
    path("my/demands/", demand.my_demands, name="my-demands"),
    path("my/demands/new/", demand.demand_create, name="demand-create"),
    path("my/demands/<int:pk>/", demand.my_demand, name="my-demand"),
    path("my/demands/<int:pk>/edit/", demand.demand_edit, name="demand-edit"),
    path("my/demands/<int:pk>/submit/", demand.demand_submit, name="demand-submit"),
    path("my/demands/<int:pk>/withdraw/", demand.demand_withdraw, name="demand-withdraw"),
    path("proposals/<int:pk>/shortlist/", demand.proposal_shortlist, name="proposal-shortlist"),
    path("proposals/<int:pk>/accept/", demand.proposal_accept, name="proposal-accept"),
    path("auctions/", auctions.auction_list, name="auctions"),
    path("auctions/<int:pk>/", auctions.auction_detail, name="auction"),
    path("auctions/<int:pk>/live/", auctions.auction_live, name="auction-live"),
    path("auctions/<int:pk>/register/", auctions.auction_register, name="auction-register"),
    path("auctions/<int:pk>/bid/", auctions.bid_place, name="auction-bid"),
    path(
        "auctions/<int:pk>/registrations/<int:registration_id>/confirm-deposit/",
        auctions.registration_confirm_deposit,
        name="auction-confirm-deposit",
    ),
    path("offers/new/", offers.offer_make, name="offer-make"),
    path("my/offers/", offers.my_offers, name="my-offers"),
    path("my/offers/<int:pk>/", offers.offer_detail, name="offer"),
    path("my/offers/<int:pk>/counter/", offers.offer_counter, name="offer-counter"),
    path("my/offers/<int:pk>/accept/", offers.offer_accept, name="offer-accept"),
    path("my/offers/<int:pk>/decline/", offers.offer_decline, name="offer-decline"),
]
