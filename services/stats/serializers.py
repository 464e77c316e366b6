"""Input and output of the stats endpoints."""

from datetime import date
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from market.common.validators import normalize_region_code
from services.stats.models import Indicator, PlanTarget
from services.stats.rollups import DIMENSIONS
from services.stats.selectors import GROUPINGS, PERIODS, REGION_DIMENSIONS, StatsQuery


class StatsParamsSerializer(serializers.Serializer):
    """`period`, `from`, `to` (inclusive; the current year by default), `group_by` (one or two of the
    dimensions, comma-separated) and a filter per dimension."""

    period = serializers.ChoiceField(choices=PERIODS, default="month")
    group_by = serializers.CharField(required=False, allow_blank=True, default="")

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        # `from` is a Python keyword: declared here rather than as class attributes
        fields["from"] = serializers.DateField(required=False)
        fields["to"] = serializers.DateField(required=False)
        for name in DIMENSIONS:
            fields[name] = serializers.CharField(required=False, max_length=100)
        return fields

    def validate_group_by(self, value: str) -> tuple[str, ...]:
        names = tuple(name.strip() for name in value.split(",") if name.strip())
        unknown = [name for name in names if name not in GROUPINGS]
        if unknown:
            raise serializers.ValidationError(
                _("Unknown dimension: %(names)s. One or two of: %(known)s.")
                % {"names": ", ".join(unknown), "known": ", ".join(GROUPINGS)}
            )
        if len(names) > 2 or len(set(names)) != len(names):
            raise serializers.ValidationError(_("One or two different dimensions."))
        return names

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        for name in REGION_DIMENSIONS:
            if name in attrs:
                try:
                    attrs[name] = normalize_region_code(attrs[name])
                except DjangoValidationError as error:
                    raise serializers.ValidationError({name: list(error.messages)}) from error
        if "broker" in attrs and not attrs["broker"].isdigit():
            raise serializers.ValidationError({"broker": [_("An organization id (a number).")]})
        return attrs


def stats_query(data: dict[str, Any]) -> StatsQuery:
    today = timezone.localdate()
    return StatsQuery(
        period=data["period"],
        start=data.get("from") or date(today.year, 1, 1),
        end=data.get("to") or today,
        group_by=data["group_by"],
        filters={name: data[name] for name in DIMENSIONS if name in data},
    )


class PlanTargetInputSerializer(serializers.Serializer):
    indicator = serializers.ChoiceField(choices=Indicator.choices)
    starts_on = serializers.DateField()
    ends_on = serializers.DateField()
    target = serializers.DecimalField(max_digits=18, decimal_places=2, min_value=Decimal("0.01"))
    note = serializers.CharField(required=False, allow_blank=True, max_length=200, default="")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        starts_on, ends_on = attrs.get("starts_on"), attrs.get("ends_on")
        if starts_on and ends_on and ends_on < starts_on:
            raise serializers.ValidationError({"ends_on": [_("Must not be before the start.")]})
        return attrs


class PlanTargetOutputSerializer(serializers.ModelSerializer[PlanTarget]):
    indicator_label = serializers.CharField(source="get_indicator_display")
    achieved = serializers.SerializerMethodField()
    progress = serializers.SerializerMethodField()

    class Meta:
        model = PlanTarget
        fields = (
            "id",
            "indicator",
            "indicator_label",
            "starts_on",
            "ends_on",
            "target",
            "achieved",
            "progress",
            "note",
            "updated_at",
        )

    def get_achieved(self, target: PlanTarget) -> str:
        return f"{self.context['achieved'][target.pk]:.2f}"

    def get_progress(self, target: PlanTarget) -> float:
        """Achieved over target (1.0 = met)."""
        return round(float(self.context["achieved"][target.pk] / target.target), 4)
