"""The stats endpoints: figures, plan targets and exports, for platform administrators and members of
government organizations (others 403). Setting targets is the platform administrators' business."""

from typing import Any

from django.db import IntegrityError, transaction
from django.http import FileResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.permissions import SAFE_METHODS, BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from market.accounts.identity import signed_in_user
from market.accounts.permissions import is_government_member, is_reviewer
from market.common.apis import validated
from market.common.errors import Conflict
from services.stats import exports, selectors
from services.stats.models import PlanTarget
from services.stats.serializers import (
    PlanTargetInputSerializer,
    PlanTargetOutputSerializer,
    StatsParamsSerializer,
    stats_query,
)


def can_read_statistics(user: Any) -> bool:
    return is_reviewer(user) or is_government_member(user)


class CanReadStatistics(BasePermission):
    """Platform administrators and members of government organizations; only administrators write."""

    def has_permission(self, request: Request, view: Any) -> bool:
        if request.method in SAFE_METHODS:
            return can_read_statistics(request.user)
        return is_reviewer(request.user)


class StatsApi(APIView):
    """Transaction volume over a period, grouped and filtered by up to two dimensions, as of `current_to`."""

    permission_classes = [IsAuthenticated, CanReadStatistics]

    @extend_schema(parameters=[StatsParamsSerializer], responses=dict)
    def get(self, request: Request) -> Response:
        query = stats_query(validated(StatsParamsSerializer, request.query_params))
        return Response(selectors.stats_figures(query))


def _attachment_name(stem: str, extension: str) -> str:
    return f"{stem}-{timezone.localdate():%Y%m%d}.{extension}"


def _file_response(heading: list[str], rows: Any, *, stem: str, extension: str, sheet: str) -> Any:
    if extension == "csv":
        response = StreamingHttpResponse(
            exports.csv_stream(heading, rows), content_type="text/csv; charset=utf-8"
        )
        response["Content-Disposition"] = f'attachment; filename="{_attachment_name(stem, "csv")}"'
        return response
    return FileResponse(
        exports.xlsx_file(heading, rows, sheet=sheet),
        as_attachment=True,
        filename=_attachment_name(stem, "xlsx"),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )


class StatsExportApi(APIView):
    """The rows of any stats view (same parameters as `/stats/`) as CSV or XLSX."""

    permission_classes = [IsAuthenticated, CanReadStatistics]

    @extend_schema(parameters=[StatsParamsSerializer], responses={200: OpenApiResponse(description="a file")})
    def get(self, request: Request, extension: str) -> Any:
        query = stats_query(validated(StatsParamsSerializer, request.query_params))
        heading, rows = exports.stats_table(query, selectors.stats_rows(query))
        return _file_response(heading, rows, stem="stats", extension=extension, sheet=_("Statistics"))


class DealRegisterExportApi(APIView):
    """The deal register with its contract-registration fields, as CSV or XLSX: deals opened in the range,
    or with `registered=true` the contracts registered in it; the stats filters apply."""

    permission_classes = [IsAuthenticated, CanReadStatistics]

    @extend_schema(parameters=[StatsParamsSerializer], responses={200: OpenApiResponse(description="a file")})
    def get(self, request: Request, extension: str) -> Any:
        query = stats_query(validated(StatsParamsSerializer, request.query_params))
        registered = request.query_params.get("registered", "").lower() in ("1", "true", "yes")
        heading, rows = exports.register_table(exports.register_deals(query, registered=registered))
        return _file_response(heading, rows, stem="deals", extension=extension, sheet=_("Deal register"))


def _targets_answer(targets: list[PlanTarget]) -> list[dict[str, Any]]:
    achieved = selectors.targets_achieved(targets)
    return list(PlanTargetOutputSerializer(targets, many=True, context={"achieved": achieved}).data)


def _target_save(target: PlanTarget) -> None:
    try:
        with transaction.atomic():
            target.save()
    except IntegrityError as error:
        raise Conflict(
            _("This indicator already has a target for this period."),
            code="target_exists",
            fields={"indicator": [_("This indicator already has a target for this period.")]},
        ) from error


class PlanTargetListApi(APIView):
    """The plan's indicators with their targets and progress; administrators add targets."""

    permission_classes = [IsAuthenticated, CanReadStatistics]

    @extend_schema(responses=PlanTargetOutputSerializer(many=True))
    def get(self, request: Request) -> Response:
        targets = list(selectors.plan_target_list())
        return Response({"current_to": selectors.current_to(), "results": _targets_answer(targets)})

    @extend_schema(request=PlanTargetInputSerializer, responses={201: PlanTargetOutputSerializer})
    def post(self, request: Request) -> Response:
        data = validated(PlanTargetInputSerializer, request.data)
        target = PlanTarget(**data, set_by=signed_in_user(request))
        _target_save(target)
        return Response(_targets_answer([target])[0], status=status.HTTP_201_CREATED)


class PlanTargetDetailApi(APIView):
    permission_classes = [IsAuthenticated, CanReadStatistics]

    @extend_schema(responses=PlanTargetOutputSerializer)
    def get(self, request: Request, pk: int) -> Response:
        return Response(_targets_answer([get_object_or_404(PlanTarget, pk=pk)])[0])

    @extend_schema(request=PlanTargetInputSerializer, responses=PlanTargetOutputSerializer)
    def patch(self, request: Request, pk: int) -> Response:
        target = get_object_or_404(PlanTarget, pk=pk)
        current = {
            name: getattr(target, name) for name in ("indicator", "starts_on", "ends_on", "target", "note")
        }
        data = validated(PlanTargetInputSerializer, {**current, **request.data})
        for name, value in data.items():
            setattr(target, name, value)
        target.set_by = signed_in_user(request)
        _target_save(target)
        return Response(_targets_answer([target])[0])

    @extend_schema(responses={204: None})
    def delete(self, request: Request, pk: int) -> Response:
        get_object_or_404(PlanTarget, pk=pk).delete()
        return Response(status=status.HTTP_204_NO_CONTENT)
