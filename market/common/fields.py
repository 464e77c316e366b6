"""Serializer fields every API shares: dates and instants bounded to the market's calendar, so no input
reaches date arithmetic or the database that either cannot represent."""

from rest_framework import serializers

from market.common.validators import validate_calendar_date


class CalendarDateField(serializers.DateField):
    default_validators = [validate_calendar_date]


class CalendarDateTimeField(serializers.DateTimeField):
    default_validators = [validate_calendar_date]
