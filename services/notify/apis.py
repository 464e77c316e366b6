"""Subscription and notification endpoints. Each view parses input, calls one service or selector, and
serializes the result."""

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view, inline_serializer
from rest_framework import serializers as drf_serializers
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from market.accounts.identity import signed_in_user
from market.common.apis import validated
from services.notify import selectors, serializers
from services.notify.models import WebhookEndpoint
from services.notify.rendering import render_text
from services.notify.services import deliveries, inbox, subscriptions


@extend_schema_view(
    list=extend_schema(responses=serializers.SubscriptionOutputSerializer),
    retrieve=extend_schema(responses=serializers.SubscriptionOutputSerializer),
    create=extend_schema(
        request=serializers.SubscriptionInputSerializer,
        responses={201: serializers.SubscriptionOutputSerializer},
    ),
    partial_update=extend_schema(
        request=serializers.SubscriptionUpdateSerializer, responses=serializers.SubscriptionOutputSerializer
    ),
)
class SubscriptionViewSet(viewsets.GenericViewSet):
    """Saved searches (the parameters of /api/v1/search/); followed listings, organizations, IPC classes."""

    permission_classes = [IsAuthenticated]
    serializer_class = serializers.SubscriptionOutputSerializer
    lookup_value_regex = "[0-9]+"
    filter_backends: list = []

    def get_queryset(self) -> QuerySet:
        return selectors.subscriptions_of(signed_in_user(self.request))

    def list(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def retrieve(self, request: Request, pk: str) -> Response:
        return Response(self.get_serializer(self.get_object()).data)

    def create(self, request: Request) -> Response:
        data = validated(serializers.SubscriptionInputSerializer, request.data)
        subscription = subscriptions.subscription_create(user=signed_in_user(request), **data)
        return Response(self.get_serializer(subscription).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request: Request, pk: str) -> Response:
        subscription = self.get_object()
        data = validated(
            serializers.SubscriptionUpdateSerializer, request.data, context={"subscription": subscription}
        )
        subscription = subscriptions.subscription_update(subscription=subscription, **data)
        return Response(self.get_serializer(subscription).data)

    def destroy(self, request: Request, pk: str) -> Response:
        subscriptions.subscription_delete(subscription=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema_view(
    list=extend_schema(
        parameters=[OpenApiParameter("unread", bool, description="only unread notifications")],
        responses=serializers.NotificationOutputSerializer,
    ),
    unread_count=extend_schema(
        responses=inline_serializer("UnreadCount", {"unread": drf_serializers.IntegerField()})
    ),
    read=extend_schema(request=None, responses=serializers.NotificationOutputSerializer),
    read_all=extend_schema(
        request=serializers.MarkReadSerializer,
        responses=inline_serializer("MarkedRead", {"marked": drf_serializers.IntegerField()}),
    ),
)
class NotificationViewSet(viewsets.GenericViewSet):
    """The in-app inbox: newest first, unread count, mark one or all read."""

    permission_classes = [IsAuthenticated]
    serializer_class = serializers.NotificationOutputSerializer
    lookup_value_regex = "[0-9]+"
    filter_backends: list = []

    def get_queryset(self) -> QuerySet:
        unread = self.request.query_params.get("unread", "").lower() in ("1", "true", "yes")
        return selectors.inbox_of(signed_in_user(self.request), unread_only=unread and self.action == "list")

    def list(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @action(detail=False, methods=["get"], pagination_class=None)
    def unread_count(self, request: Request) -> Response:
        return Response({"unread": selectors.unread_count(signed_in_user(request))})

    @action(detail=True, methods=["post"])
    def read(self, request: Request, pk: str) -> Response:
        notification = self.get_object()
        inbox.notifications_mark_read(user=signed_in_user(request), ids=[notification.pk])
        notification.refresh_from_db()
        return Response(self.get_serializer(notification).data)

    @action(detail=False, methods=["post"], pagination_class=None)
    def read_all(self, request: Request) -> Response:
        data = validated(serializers.MarkReadSerializer, request.data)
        marked = inbox.notifications_mark_read(user=signed_in_user(request), ids=data.get("ids"))
        return Response({"marked": marked})


@extend_schema_view(
    list=extend_schema(responses=serializers.DeliveryOutputSerializer),
    retrieve=extend_schema(responses=serializers.DeliveryOutputSerializer),
    resend=extend_schema(request=None, responses=serializers.DeliveryOutputSerializer),
)
class DeliveryViewSet(viewsets.GenericViewSet):
    """E-mail and webhook notifications with every delivery attempt; failed ones can be sent again."""

    permission_classes = [IsAuthenticated]
    serializer_class = serializers.DeliveryOutputSerializer
    lookup_value_regex = "[0-9]+"
    filter_backends: list = []

    def get_queryset(self) -> QuerySet:
        return selectors.deliveries_of(signed_in_user(self.request))

    def list(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def retrieve(self, request: Request, pk: str) -> Response:
        return Response(self.get_serializer(self.get_object()).data)

    @action(detail=True, methods=["post"])
    def resend(self, request: Request, pk: str) -> Response:
        notification = deliveries.notification_resend(notification=self.get_object())
        return Response(self.get_serializer(notification).data, status=status.HTTP_202_ACCEPTED)


class PreferenceApi(APIView):
    """Channels for notifications no subscription chose, language, muted kinds and quiet hours."""

    permission_classes = [IsAuthenticated]

    @extend_schema(responses=serializers.PreferenceSerializer)
    def get(self, request: Request) -> Response:
        return Response(
            serializers.PreferenceSerializer(subscriptions.preference_of(signed_in_user(request))).data
        )

    @extend_schema(request=serializers.PreferenceSerializer, responses=serializers.PreferenceSerializer)
    def patch(self, request: Request) -> Response:
        data = validated(serializers.PreferenceSerializer, request.data, partial=True)
        preference = subscriptions.preference_update(user=signed_in_user(request), **data)
        return Response(serializers.PreferenceSerializer(preference).data)


class WebhookApi(APIView):
    """The user's webhook endpoint: PUT sets it (and re-enables it), the secret signs every request."""

    permission_classes = [IsAuthenticated]

    @extend_schema(responses=serializers.WebhookOutputSerializer)
    def get(self, request: Request) -> Response:
        endpoint = get_object_or_404(WebhookEndpoint, user=request.user)
        return Response(serializers.WebhookOutputSerializer(endpoint).data)

    @extend_schema(request=serializers.WebhookInputSerializer, responses=serializers.WebhookOutputSerializer)
    def put(self, request: Request) -> Response:
        data = validated(serializers.WebhookInputSerializer, request.data)
        endpoint = subscriptions.webhook_endpoint_set(user=signed_in_user(request), **data)
        return Response(serializers.WebhookOutputSerializer(endpoint).data)

    @extend_schema(responses={204: None})
    def delete(self, request: Request) -> Response:
        subscriptions.webhook_endpoint_delete(user=signed_in_user(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


UNSUBSCRIBED = inline_serializer("Unsubscribed", {"detail": drf_serializers.CharField()})


class UnsubscribeApi(APIView):
    """The one-click link of every e-mail (GET from the mail body; POST as RFC 8058 one-click asks)."""

    permission_classes = [AllowAny]
    authentication_classes: list = []

    @extend_schema(request=None, responses=UNSUBSCRIBED)
    def get(self, request: Request, token: str) -> Response:
        user = subscriptions.unsubscribe_apply(token=token)
        language = subscriptions.preference_of(user).language
        return Response({"detail": render_text("unsubscribed", language, {}).strip()})

    @extend_schema(request=None, responses=UNSUBSCRIBED)
    def post(self, request: Request, token: str) -> Response:
        return self.get(request, token)
