"""The web site's pages under the site root; the API stays under /api/."""

from django.urls import path

from market.web.views import (
    account,
    auctions,
    dashboard,
    deals,
    demand,
    inbox,
    offers,
    public,
    review,
    supply,
)

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
    path("demands/<int:pk>/proposals/", public.proposal_submit, name="demand-propose"),
    path("experts/<int:pk>/", public.expert_detail, name="expert"),
    path("notices/", public.notices, name="notices"),
    path("notices/<int:pk>/objection/", public.objection_lodge, name="objection"),
    path("search/save/", public.save_search, name="save-search"),
    path("sign-in/", account.SignInView.as_view(), name="sign-in"),
    path("sign-out/", account.SignOutView.as_view(), name="sign-out"),
    # supply (universities and institutes: their listings, NDAs, offers, auctions) and review (administrators)
    path("my/listings/", supply.my_listings, name="my-listings"),
    path("my/listings/patents/new/", supply.patent_new, name="my-patent-new"),
    path("my/listings/achievements/new/", supply.achievement_new, name="my-achievement-new"),
    path("my/listings/<str:kind>/<int:pk>/", supply.listing_detail, name="my-listing"),
    path("my/listings/<str:kind>/<int:pk>/edit/", supply.listing_edit, name="my-listing-edit"),
    path("my/listings/<str:kind>/<int:pk>/auction/", supply.auction_new, name="my-listing-auction"),
    path(
        "my/listings/<str:kind>/<int:pk>/<str:action>/", supply.listing_transition, name="my-listing-action"
    ),
    path("review/", review.queue, name="review"),
    path("review/<str:kind>/<int:pk>/", review.item, name="review-item"),
    path("review/<str:kind>/<int:pk>/approve/", review.approve, name="review-approve"),
    path("review/<str:kind>/<int:pk>/reject/", review.reject, name="review-reject"),
    # deal room (parties, broker, registrar) and the bureau's dashboard
    path("deals/", deals.deal_list, name="deals"),
    path("deals/registrations/", deals.registration_queue, name="registrations"),
    path("deals/<int:pk>/", deals.deal_room, name="deal"),
    path("deals/<int:pk>/sign/", deals.deal_act, {"action": "sign"}, name="deal-sign"),
    path("deals/<int:pk>/paid/", deals.deal_act, {"action": "paid"}, name="deal-paid"),
    path("deals/<int:pk>/complete/", deals.deal_act, {"action": "complete"}, name="deal-complete"),
    path("deals/<int:pk>/cancel/", deals.deal_act, {"action": "cancel"}, name="deal-cancel"),
    path(
        "deals/<int:pk>/registration/", deals.deal_act, {"action": "registration"}, name="deal-registration"
    ),
    path("deals/<int:pk>/registration/approve/", deals.deal_act, {"action": "approve"}, name="deal-approve"),
    path("deals/<int:pk>/registration/return/", deals.deal_act, {"action": "return"}, name="deal-return"),
    path("deals/<int:pk>/broker/", deals.deal_act, {"action": "broker"}, name="deal-broker"),
    path("deals/<int:pk>/milestones/", deals.deal_act, {"action": "milestone"}, name="deal-milestone"),
    path(
        "deals/<int:pk>/milestones/<int:milestone_id>/done/",
        deals.deal_act,
        {"action": "milestone-done"},
        name="deal-milestone-done",
    ),
    path(
        "deals/<int:pk>/milestones/<int:milestone_id>/waive/",
        deals.deal_act,
        {"action": "milestone-waive"},
        name="deal-milestone-waive",
    ),
    path("deals/<int:pk>/documents/", deals.deal_act, {"action": "document"}, name="deal-document"),
    path(
        "deals/<int:pk>/objections/<int:objection_id>/rule/", deals.objection_rule, name="deal-objection-rule"
    ),
    path("stats/", dashboard.dashboard, name="dashboard"),
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
    # the signed-in user's notifications: inbox, subscriptions and saved searches, delivery settings
    path("notifications/", inbox.inbox, name="inbox"),
    path("notifications/unread/", inbox.unread_link, name="inbox-unread"),
    path("notifications/<int:pk>/read/", inbox.notification_read, name="notification-read"),
    path("notifications/read-all/", inbox.notifications_read_all, name="notifications-read-all"),
    path("notifications/subscriptions/", inbox.subscriptions, name="subscriptions"),
    path("notifications/subscriptions/<int:pk>/", inbox.subscription_change, name="subscription-change"),
    path(
        "notifications/subscriptions/<int:pk>/active/",
        inbox.subscription_activate,
        name="subscription-active",
    ),
    path(
        "notifications/subscriptions/<int:pk>/delete/", inbox.subscription_delete, name="subscription-delete"
    ),
    path("notifications/settings/", inbox.delivery_settings, name="notification-settings"),
    path("notifications/settings/preference/", inbox.preference_change, name="notification-preference"),
    path("notifications/settings/webhook/", inbox.webhook_change, name="notification-webhook"),
    path("notifications/settings/webhook/delete/", inbox.webhook_delete, name="notification-webhook-delete"),
]
