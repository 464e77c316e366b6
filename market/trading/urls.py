"""API routes of trading, mounted under /api/v1/."""

from django.urls import URLPattern, URLResolver, path
from rest_framework.routers import SimpleRouter

from market.trading import apis

router = SimpleRouter()
router.register("auctions", apis.AuctionViewSet, basename="auction")
router.register("offers", apis.OfferViewSet, basename="offer")
router.register("purchases", apis.PurchaseViewSet, basename="purchase")
router.register("proposals", apis.ProposalViewSet, basename="proposal")
router.register("deals", apis.DealViewSet, basename="deal")
router.register("registrations", apis.RegistrationQueueViewSet, basename="registration")
router.register("notices", apis.NoticeViewSet, basename="notice")
router.register("objections", apis.ObjectionViewSet, basename="objection")

urlpatterns: list[URLPattern | URLResolver] = [
    path("demands/<int:demand_id>/proposals/", apis.DemandProposalsApi.as_view(), name="demand-proposals"),
    *router.urls,
]
