"""The web site's pages under the site root; the API stays under /api/."""

from django.urls import path

from market.web.views import account, inbox, public

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
