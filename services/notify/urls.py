"""API routes of this package, mounted under /api/v1/."""

from django.urls import URLPattern, URLResolver, path
from rest_framework.routers import SimpleRouter

from services.notify import apis

router = SimpleRouter()
router.register("subscriptions", apis.SubscriptionViewSet, basename="subscription")
router.register("notifications/deliveries", apis.DeliveryViewSet, basename="notification-delivery")
router.register("notifications", apis.NotificationViewSet, basename="notification")

urlpatterns: list[URLPattern | URLResolver] = [
    path("notifications/preferences/", apis.PreferenceApi.as_view(), name="notification-preferences"),
    path("notifications/webhook/", apis.WebhookApi.as_view(), name="notification-webhook"),
    path(
        "notifications/unsubscribe/<str:token>/",
        apis.UnsubscribeApi.as_view(),
        name="notification-unsubscribe",
    ),
    *router.urls,
]
