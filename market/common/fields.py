"""Serializer fields every API shares: dates and instants bounded to the market's calendar, so no input
reaches date arithmetic or the database that either cannot represent."""

from datetime import UTC, date, datetime
from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from market.common.validators import validate_calendar_date


class CalendarDateField(serializers.DateField):
    default_validators = [validate_calendar_date]


class CalendarDateTimeField(serializers.DateTimeField):
    default_validators = [validate_calendar_date]


DAY_OR_INSTANT_SCHEMA = {
    "oneOf": [{"type": "string", "format": "date"}, {"type": "string", "format": "date-time"}]
}


@extend_schema_field(DAY_OR_INSTANT_SCHEMA)
class CalendarDayOrInstantField(serializers.Field):
    """A bound of a time range: a day (`2026-11-30`, which a range takes whole) or an ISO 8601 instant with
    its offset (`2026-11-30T09:15:00+08:00`), passed on in UTC (PostgreSQL and the search engine refuse some
    offsets ISO 8601 allows)."""

    default_error_messages = {"invalid": _("Give a date (YYYY-MM-DD) or an ISO 8601 date and time.")}

    def to_internal_value(self, data: Any) -> date | datetime:
        for field in (CalendarDateField(), CalendarDateTimeField()):
            try:
                value = field.run_validation(data)
            except serializers.ValidationError:
                continue
            return value.astimezone(UTC) if isinstance(value, datetime) else value
        self.fail("invalid")

    def to_representation(self, value: date) -> str:
        return value.isoformat()
