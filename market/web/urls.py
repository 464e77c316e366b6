"""The web site's pages under the site root; the API stays under /api/."""

from django.urls import path

from market.web.views import account, dashboard, deals, public

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
    path("stats/", dashboard.dashboard, name="dashboard"),
]
