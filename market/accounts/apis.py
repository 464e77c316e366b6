"""Organizations, members, the signed-in user and JWT tokens."""

from typing import Any, cast

from django.contrib.auth.signals import user_logged_in
from django.db import transaction
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.serializers import TokenObtainPairSerializer
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken
from rest_framework_simplejwt.views import TokenObtainPairView, TokenRefreshView

from market.accounts import selectors, serializers, services
from market.accounts.identity import reader, signed_in_user
from market.accounts.lockout import account_locked
from market.accounts.models import Organization, OrganizationStatus, OrganizationType
from market.accounts.permissions import IsReviewer, belongs_to, is_reviewer
from market.common.apis import RejectInputSerializer, validated
from market.common.errors import Forbidden
from market.common.filters import ParameterFilterBackend, RegionFilter
from market.common.ordering import MappedOrderingFilter
from market.common.pagination import ReviewPagination


class OrganizationFilter(filters.FilterSet):
    org_type = filters.ChoiceFilter(choices=OrganizationType.choices)
    status = filters.ChoiceFilter(choices=OrganizationStatus.choices)
    region = RegionFilter(organization_path="")
    q = filters.CharFilter(field_name="name", lookup_expr="icontains", max_length=100)

    class Meta:
        model = Organization
        fields: list[str] = []


@extend_schema_view(
    list=extend_schema(responses=serializers.OrganizationOutputSerializer),
    retrieve=extend_schema(responses=serializers.OrganizationOutputSerializer),
    create=extend_schema(
        request=serializers.OrganizationRegisterInputSerializer,
        responses={201: serializers.OrganizationOutputSerializer},
    ),
)
class OrganizationViewSet(viewsets.GenericViewSet):
    """Organizations. Anyone may register one (with its first administrator); it waits for review."""

    queryset = Organization.objects.none()
    serializer_class = serializers.OrganizationOutputSerializer
    filter_backends = [ParameterFilterBackend, MappedOrderingFilter]
    filterset_class = OrganizationFilter
    ordering_map = {"created_at": "created_at", "name": "name"}
    ordering = ("-created_at",)

    def get_permissions(self) -> list[Any]:
        if self.action == "create":
            return [AllowAny()]
        return list(super().get_permissions())

    def get_throttles(self) -> list[Any]:
        if self.action == "create":
            self.throttle_scope = "auth"
        return super().get_throttles()

    def get_queryset(self) -> QuerySet:
        return selectors.organization_list(user=reader(self.request))

    def list(self, request: Request) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def retrieve(self, request: Request, pk: str) -> Response:
        return Response(self.get_serializer(self.get_object()).data)

    def create(self, request: Request) -> Response:
        data = validated(serializers.OrganizationRegisterInputSerializer, request.data)
        organization = services.organization_register(**data)
        return Response(self.get_serializer(organization).data, status=status.HTTP_201_CREATED)

    @extend_schema(methods=["get"], responses=serializers.MemberOutputSerializer(many=True))
    @extend_schema(
        methods=["post"],
        request=serializers.MemberCreateInputSerializer,
        responses={201: serializers.MemberOutputSerializer},
    )
    # the member list is neither paginated nor filtered (list filters would hide the organization itself)
    @action(
        detail=True,
        methods=["get", "post"],
        permission_classes=[IsAuthenticated],
        pagination_class=None,
        filter_backends=[],
    )
    def members(self, request: Request, pk: str) -> Response:
        """Members of an organization: visible to its members; added by its administrators."""
        organization = self.get_object()
        if request.method == "POST":
            data = validated(serializers.MemberCreateInputSerializer, request.data)
            user = services.user_create_member(
                organization=organization, actor=signed_in_user(request), **data
            )
            return Response(serializers.MemberOutputSerializer(user).data, status=status.HTTP_201_CREATED)
        if not (belongs_to(request.user, organization.pk) or is_reviewer(request.user)):
            raise Forbidden(_("Only members see who else belongs to the organization."))
        members = selectors.organization_members(organization=organization)
        return Response(serializers.MemberOutputSerializer(members, many=True).data)


class MeApi(APIView):
    """The signed-in user, with their organization and role."""

    permission_classes = [IsAuthenticated]

    @extend_schema(responses=serializers.UserOutputSerializer)
    def get(self, request: Request) -> Response:
        return Response(serializers.UserOutputSerializer(request.user).data)

    @extend_schema(request=serializers.UserUpdateInputSerializer, responses=serializers.UserOutputSerializer)
    def patch(self, request: Request) -> Response:
        data = validated(serializers.UserUpdateInputSerializer, request.data, partial=True)
        user = services.user_update_profile(user=signed_in_user(request), **data)
        return Response(serializers.UserOutputSerializer(user).data)


class UserUnlockApi(APIView):
    """Platform administrators lift the sign-in lock of an account (after too many failed sign-ins)."""

    permission_classes = [IsReviewer]

    @extend_schema(
        request=serializers.UserUnlockInputSerializer, responses=serializers.UserUnlockOutputSerializer
    )
    def post(self, request: Request) -> Response:
        username = validated(serializers.UserUnlockInputSerializer, request.data)["username"]
        outcome = {
            "username": username,
            "had_failed_sign_ins": services.user_unlock(actor=signed_in_user(request), username=username),
        }
        return Response(serializers.UserUnlockOutputSerializer(outcome).data)


class OrganizationReviewQueueApi(GenericAPIView):
    """Organizations awaiting review, oldest first."""

    permission_classes = [IsReviewer]
    pagination_class = ReviewPagination
    serializer_class = serializers.OrganizationOutputSerializer
    filter_backends: list[type] = []  # the queue keeps its order: no `?ordering=` over arbitrary fields

    def get_queryset(self) -> QuerySet:
        return selectors.organization_review_queue()

    @extend_schema(responses=serializers.OrganizationOutputSerializer(many=True))
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(self.get_serializer(page, many=True).data)


class OrganizationReviewDecisionApi(APIView):
    permission_classes = [IsReviewer]
    decision = "approve"  # or "reject", set per route

    @extend_schema(request=RejectInputSerializer, responses=serializers.OrganizationOutputSerializer)
    def post(self, request: Request, pk: int) -> Response:
        organization = get_object_or_404(Organization, pk=pk)
        reason = ""
        if self.decision == "reject":
            reason = validated(RejectInputSerializer, request.data)["reason"]
        organization = services.organization_review(
            organization=organization,
            reviewer=signed_in_user(request),
            approve=self.decision == "approve",
            reason=reason,
        )
        return Response(serializers.OrganizationOutputSerializer(organization).data)


class TokenApi(TokenObtainPairView):
    """`username` + `password` → `access` and `refresh` bearer tokens."""

    throttle_scope = "auth"

    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """A sign-in like the admin's: a locked account is told so (django-axes marks the DRF request, which
        its middleware does not see), and a success is announced with `user_logged_in`, which clears the
        account's failed attempts."""
        serializer = cast(TokenObtainPairSerializer, self.get_serializer(data=request.data))
        try:
            serializer.is_valid(raise_exception=True)
        except AuthenticationFailed:
            if getattr(request, "axes_locked_out", False):
                raise account_locked() from None
            raise
        user_logged_in.send(sender=type(serializer.user), request=request, user=serializer.user)
        return Response(serializer.validated_data)


class TokenRefreshApi(TokenRefreshView):
    """`refresh` → a new `access` and a new `refresh` token; the refresh token sent is blacklisted."""

    throttle_scope = "auth"

    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """simplejwt checks the blacklist, then adds the token to it: two refreshes with one token at the same
        moment would both pass the check. Holding the token's outstanding-token row for the whole refresh
        makes the second wait, and then find the token blacklisted."""
        with transaction.atomic():
            _lock_outstanding_token(request.data.get("refresh"))
            return super().post(request, *args, **kwargs)


def _lock_outstanding_token(raw: object) -> None:
    """Row-lock the outstanding-token record of a refresh token, if the token decodes at all (its signature,
    expiry and blacklisting are checked afterwards, by simplejwt, under the lock)."""
    if not isinstance(raw, str):
        return
    try:
        jti = RefreshToken(raw, verify=False).get("jti")  # type: ignore[arg-type]  # simplejwt types it Token
    except TokenError:
        return
    OutstandingToken._default_manager.select_for_update().filter(jti=jti).first()
