"""Catalog endpoints. Each view parses input, calls one service or selector, and serializes the result."""

from collections.abc import Callable
from typing import Any

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import (
    OpenApiParameter,
    PolymorphicProxySerializer,
    extend_schema,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import serializers as drf_serializers
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import Serializer
from rest_framework.views import APIView

from market.accounts.identity import reader, signed_in_user
from market.accounts.permissions import IsReviewer
from market.catalog import filters, selectors, serializers, services
from market.catalog.models import Achievement, Demand, Expert, Listing, Patent
from market.common.apis import RejectInputSerializer, validated
from market.common.filters import ParameterFilterBackend
from market.common.ordering import MappedOrderingFilter
from market.common.pagination import ReviewPagination

LISTING_ORDERING = {
    "published_at": "published_sort",
    "created_at": "created_at",
    "updated_at": "updated_at",
    "price": "price_sort",
}


def _listing_schema(
    input_class: type[Serializer],
    output_class: type[Serializer],
    detail_class: type[Serializer] | None = None,
) -> Callable:
    detail = detail_class or output_class
    return extend_schema_view(
        list=extend_schema(responses=output_class),
        retrieve=extend_schema(responses=detail),
        create=extend_schema(request=input_class, responses={201: detail}),
        partial_update=extend_schema(request=input_class, responses=detail),
        submit=extend_schema(request=None, responses=detail),
        withdraw=extend_schema(request=None, responses=detail),
        close=extend_schema(request=None, responses=detail),
    )


class CatalogViewSet(viewsets.GenericViewSet):
    """List, read, create and edit catalog records. No deletion: listings are withdrawn, profiles hidden."""

    filter_backends = [ParameterFilterBackend, MappedOrderingFilter]
    ordering_map = LISTING_ORDERING
    ordering = ("-published_sort",)
    selector: Callable[..., QuerySet]
    input_serializer_class: type[Serializer]
    output_serializer_class: type[Serializer]
    detail_serializer_class: type[Serializer] | None = None

    def get_queryset(self) -> QuerySet:
        return type(self).selector(user=reader(self.request))

    def get_serializer_class(self) -> type[Serializer]:
        return self.output_serializer_class

    def _detail(self, instance: Any, *, status_code: int = status.HTTP_200_OK) -> Response:
        serializer_class = self.detail_serializer_class or self.output_serializer_class
        context = {**self.get_serializer_context(), **self.detail_context(instance)}
        return Response(serializer_class(instance, context=context).data, status=status_code)

    def detail_context(self, instance: Any) -> dict[str, Any]:
        return {}

    def list(self, request: Request) -> Response:
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def retrieve(self, request: Request, pk: str) -> Response:
        return self._detail(self.get_object())

    def create(self, request: Request) -> Response:
        data = validated(self.input_serializer_class, request.data)
        return self._detail(self.perform_create(data), status_code=status.HTTP_201_CREATED)

    def partial_update(self, request: Request, pk: str) -> Response:
        data = validated(self.input_serializer_class, request.data, partial=True)
        return self._detail(self.perform_update(self.get_object(), data))

    def perform_create(self, data: dict[str, Any]) -> Any:
        raise NotImplementedError

    def perform_update(self, instance: Any, data: dict[str, Any]) -> Any:
        raise NotImplementedError


class ListingViewSet(CatalogViewSet):
    """A catalog record that moves through review: draft → pending → published → closed/withdrawn."""

    @action(detail=True, methods=["post"])
    def submit(self, request: Request, pk: str) -> Response:
        """Send a draft, rejected or withdrawn listing to review."""
        return self._detail(services.listing_submit(listing=self.get_object(), user=signed_in_user(request)))

    @action(detail=True, methods=["post"])
    def withdraw(self, request: Request, pk: str) -> Response:
        """Take a pending or published listing off the market (it can be edited and resubmitted)."""
        return self._detail(
            services.listing_withdraw(listing=self.get_object(), user=signed_in_user(request))
        )

    @action(detail=True, methods=["post"])
    def close(self, request: Request, pk: str) -> Response:
        """Mark a published listing as done."""
        return self._detail(services.listing_close(listing=self.get_object(), user=signed_in_user(request)))


@_listing_schema(serializers.PatentInputSerializer, serializers.PatentOutputSerializer)
class PatentViewSet(ListingViewSet):
    queryset = Patent.objects.none()
    selector = selectors.patent_list
    filterset_class = filters.PatentFilter
    input_serializer_class = serializers.PatentInputSerializer
    output_serializer_class = serializers.PatentOutputSerializer

    def perform_create(self, data: dict[str, Any]) -> Patent:
        return services.patent_create(user=signed_in_user(self.request), **data)

    def perform_update(self, instance: Patent, data: dict[str, Any]) -> Patent:
        return services.patent_update(patent=instance, user=signed_in_user(self.request), **data)


@_listing_schema(
    serializers.AchievementInputSerializer,
    serializers.AchievementOutputSerializer,
    serializers.AchievementDetailSerializer,
)
class AchievementViewSet(ListingViewSet):
    queryset = Achievement.objects.none()
    selector = selectors.achievement_list
    filterset_class = filters.AchievementFilter
    input_serializer_class = serializers.AchievementInputSerializer
    output_serializer_class = serializers.AchievementOutputSerializer
    detail_serializer_class = serializers.AchievementDetailSerializer
    ordering_map = {**LISTING_ORDERING, "trl": "trl"}

    def detail_context(self, instance: Achievement) -> dict[str, Any]:
        allowed = selectors.achievement_confidential_allowed(achievement=instance, user=reader(self.request))
        return {"confidential_allowed": allowed}

    def perform_create(self, data: dict[str, Any]) -> Achievement:
        return services.achievement_create(user=signed_in_user(self.request), **data)

    def perform_update(self, instance: Achievement, data: dict[str, Any]) -> Achievement:
        return services.achievement_update(achievement=instance, user=signed_in_user(self.request), **data)

    @extend_schema(request=None, responses=serializers.AchievementDetailSerializer)
    @action(detail=True, methods=["post"])
    def nda(self, request: Request, pk: str) -> Response:
        """Accept the owner's NDA; the response then carries the confidential details."""
        achievement = self.get_object()
        services.achievement_accept_nda(achievement=achievement, user=signed_in_user(request))
        return self._detail(achievement)


@_listing_schema(serializers.DemandInputSerializer, serializers.DemandOutputSerializer)
class DemandViewSet(ListingViewSet):
    queryset = Demand.objects.none()
    selector = selectors.demand_list
    filterset_class = filters.DemandFilter
    input_serializer_class = serializers.DemandInputSerializer
    output_serializer_class = serializers.DemandOutputSerializer
    ordering_map = {**LISTING_ORDERING, "deadline": "deadline_sort"}

    def perform_create(self, data: dict[str, Any]) -> Demand:
        return services.demand_create(user=signed_in_user(self.request), **data)

    def perform_update(self, instance: Demand, data: dict[str, Any]) -> Demand:
        return services.demand_update(demand=instance, user=signed_in_user(self.request), **data)


@extend_schema_view(
    list=extend_schema(responses=serializers.ExpertOutputSerializer),
    retrieve=extend_schema(responses=serializers.ExpertOutputSerializer),
    create=extend_schema(
        request=serializers.ExpertCreateInputSerializer, responses={201: serializers.ExpertOutputSerializer}
    ),
    partial_update=extend_schema(
        request=serializers.ExpertInputSerializer, responses=serializers.ExpertOutputSerializer
    ),
)
class ExpertViewSet(CatalogViewSet):
    queryset = Expert.objects.none()
    selector = selectors.expert_list
    filterset_class = filters.ExpertFilter
    input_serializer_class = serializers.ExpertInputSerializer
    output_serializer_class = serializers.ExpertOutputSerializer
    ordering_map = {"created_at": "created_at", "updated_at": "updated_at", "name": "name"}
    ordering = ("-created_at",)

    def create(self, request: Request) -> Response:
        data = validated(serializers.ExpertCreateInputSerializer, request.data)
        expert = services.expert_create(user=signed_in_user(request), **data)
        return self._detail(expert, status_code=status.HTTP_201_CREATED)

    def perform_update(self, instance: Expert, data: dict[str, Any]) -> Expert:
        return services.expert_update(expert=instance, user=signed_in_user(self.request), **data)


#: URL segment -> (model, output serializer) of the listings administrators review
REVIEWABLE: dict[str, tuple[type[Listing], type[Serializer]]] = {
    "patents": (Patent, serializers.PatentOutputSerializer),
    "achievements": (Achievement, serializers.AchievementOutputSerializer),
    "demands": (Demand, serializers.DemandOutputSerializer),
}
KIND_PARAMETER = OpenApiParameter("kind", str, OpenApiParameter.PATH, enum=list(REVIEWABLE))


def _reviewed_listing(*, many: bool = False) -> PolymorphicProxySerializer:
    """Review responses take the shape of their `kind`: a patent, an achievement or a demand."""
    return PolymorphicProxySerializer(
        component_name="ReviewedListing",
        serializers=[output for _, output in REVIEWABLE.values()],
        resource_type_field_name=None,
        many=many,
    )


class ReviewSummaryApi(APIView):
    """How many listings of each kind, and organizations, await review."""

    permission_classes = [IsReviewer]

    @extend_schema(
        responses=inline_serializer(
            "ReviewSummary", {name: drf_serializers.IntegerField() for name in [*REVIEWABLE, "orgs"]}
        )
    )
    def get(self, request: Request) -> Response:
        return Response(selectors.review_counts())


class ReviewQueueApi(GenericAPIView):
    """Pending listings of one kind, oldest first."""

    permission_classes = [IsReviewer]
    pagination_class = ReviewPagination
    filter_backends: list[type] = []  # the queue keeps its order: no `?ordering=` over arbitrary fields

    def get_queryset(self) -> QuerySet:
        if getattr(self, "swagger_fake_view", False):  # schema generation has no URL kwargs
            return Patent.objects.none()
        return selectors.review_queue(model=REVIEWABLE[self.kwargs["kind"]][0])

    @extend_schema(parameters=[KIND_PARAMETER], responses=_reviewed_listing(many=True))
    def get(self, request: Request, kind: str) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        output = REVIEWABLE[kind][1](page, many=True, context=self.get_serializer_context())
        return self.get_paginated_response(output.data)


class ReviewDecisionApi(APIView):
    """Approve (publish) or reject (with a reason) one pending listing."""

    permission_classes = [IsReviewer]
    decision = "approve"  # or "reject", set per route

    @extend_schema(
        parameters=[KIND_PARAMETER],
        request=RejectInputSerializer,
        responses=_reviewed_listing(),
    )
    def post(self, request: Request, kind: str, pk: int) -> Response:
        model, output_class = REVIEWABLE[kind]
        listing = get_object_or_404(model._default_manager.select_related("owner"), pk=pk)
        if self.decision == "approve":
            listing = services.listing_approve(listing=listing, reviewer=signed_in_user(request))
        else:
            reason = validated(RejectInputSerializer, request.data)["reason"]
            listing = services.listing_reject(
                listing=listing, reviewer=signed_in_user(request), reason=reason
            )
        return Response(output_class(listing, context={"request": request}).data)
