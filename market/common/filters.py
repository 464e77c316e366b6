"""Filters every catalog list shares: region by administrative code, IPC prefix, date and number ranges; and
the filter backend that names the query parameter at fault in its errors."""

from collections.abc import Iterable
from datetime import UTC, datetime
from functools import reduce
from operator import or_
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.forms.utils import ErrorDict, ErrorList
from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters
from django_filters import utils
from django_filters.fields import DateRangeField, IsoDateTimeField, RangeField
from django_filters.filterset import BaseFilterSet
from django_filters.widgets import DateRangeWidget, SuffixedMultiWidget

from market.common.chinese import words
from market.common.validators import region_level, validate_calendar_date

IPC_PREFIX_PATTERN = r"^[A-Ha-h]([0-9]{1,2}([A-Za-z]( *[0-9]{1,4}(/[0-9]{0,6})?)?)?)?$"


class RegionFilter(filters.CharFilter):
    """`region=330000` (province), `330100` (city) or `330106` (county), applied to an organization relation
    (`organization_path`, empty when the filtered model is the organization itself), or to any of several
    (a tuple of paths: a deal is in a region when either party is)."""

    field_class = forms.RegexField

    def __init__(self, *, organization_path: str | tuple[str, ...], **kwargs):
        kwargs.setdefault("help_text", _("6-digit administrative code of a province, city or county"))
        super().__init__(regex=r"^[1-8][0-9]{5}$", **kwargs)
        self.organization_path = organization_path

    def filter(self, queryset: QuerySet, value: str) -> QuerySet:
        if not value:
            return queryset
        paths = self.organization_path
        return queryset.filter(region_condition(value, *((paths,) if isinstance(paths, str) else paths)))


def region_condition(code: str, *organization_paths: str) -> Q:
    """Rows whose organization at any of `organization_paths` (empty: the row is the organization) lies in
    the region `code`, compared at the code's level (`region_level`)."""
    level = region_level(code)
    return reduce(or_, (Q(**{f"{path}__{level}" if path else level: code}) for path in organization_paths))


class IpcPrefixFilter(filters.CharFilter):
    """`ipc=H01M` or `ipc=H01M 4/52`: any IPC symbol of the record starts with the prefix."""

    field_class = forms.RegexField

    def __init__(self, *, array_path: str, **kwargs):
        kwargs.setdefault(
            "help_text", _("IPC section, class, subclass or group prefix, e.g. H01M or H01M 4/")
        )
        super().__init__(regex=IPC_PREFIX_PATTERN, **kwargs)
        self.array_path = array_path

    def filter(self, queryset: QuerySet, value: str) -> QuerySet:
        if not value:
            return queryset
        prefix = " ".join(value.upper().split())
        if len(prefix) > 4 and prefix[4] != " ":
            prefix = f"{prefix[:4]} {prefix[4:]}"
        return queryset.filter(**{f"{self.array_path}__any_startswith": prefix})


def text_filter(queryset: QuerySet, fields: Iterable[str], value: str) -> QuerySet:
    """A list's free-text `q`: each word of `value` (jieba's precise mode, punctuation dropped; Chinese has no
    spaces to split on) appears in at least one of `fields`, case-insensitively (an array field as its text).
    So 锂离子电池 finds a biography about 锂离子电池正极材料, and 正极 锂电池 a title with both words apart.
    Ranked full-text search is the search service's job; this is the lists' plain filter."""
    fields = tuple(fields)
    condition = Q()
    for word in dict.fromkeys(words(value)):
        condition &= reduce(or_, (Q(**{f"{name}__icontains": word}) for name in fields))
    return queryset.filter(condition)


def money_filter(field_name: str, lookup_expr: str, **kwargs) -> filters.NumberFilter:
    """An amount in yuan, bounded like the model fields (14 digits, 2 decimals) so no value reaches the
    database that it cannot compare."""
    return filters.NumberFilter(
        field_name=field_name, lookup_expr=lookup_expr, min_value=0, max_digits=14, decimal_places=2, **kwargs
    )


class UtcIsoDateTimeField(IsoDateTimeField):
    """An ISO 8601 instant, passed on in UTC: PostgreSQL rejects offsets beyond ±15:59 that ISO 8601 allows,
    and an instant that leaves the calendar once in UTC (year 1 at +14:00) is no timestamp at all."""

    default_validators = [validate_calendar_date]

    def to_python(self, value: object) -> datetime | None:
        instant = super().to_python(value)
        if instant is None:
            return None
        try:
            return instant.astimezone(UTC)
        except OverflowError as error:
            raise ValidationError(self.error_messages["invalid"], code="invalid") from error


class UtcIsoDateTimeRangeField(RangeField):
    widget = DateRangeWidget

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__((UtcIsoDateTimeField(), UtcIsoDateTimeField()), *args, **kwargs)


class CalendarDateRangeField(DateRangeField):
    """`<name>_after=` / `<name>_before=` dates within the market's calendar."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for part in self.fields:
            part.validators.append(validate_calendar_date)


class DateRangeFilter(filters.DateFromToRangeFilter):
    field_class = CalendarDateRangeField


class DateTimeRangeFilter(filters.IsoDateTimeFromToRangeFilter):
    """`<name>_after=` / `<name>_before=` ISO 8601 instants, any offset."""

    field_class = UtcIsoDateTimeRangeField


def parameter_errors(filterset: BaseFilterSet) -> ErrorDict:
    """The filterset's errors keyed by query parameter: a range filter `published` reads `published_after` and
    `published_before`, so each of those is checked on its own; an error of the pair as a whole (or of any
    other filter) keeps the filter's name."""
    errors = ErrorDict()
    for name, messages in filterset.errors.items():
        field = filterset.form.fields.get(name)
        widget = getattr(field, "widget", None)
        found = False
        if isinstance(field, forms.MultiValueField) and isinstance(widget, SuffixedMultiWidget):
            for suffix, part in zip(widget.suffixes, field.fields, strict=True):
                parameter = widget.suffixed(name, suffix)
                try:
                    part.clean(filterset.data.get(parameter))
                except ValidationError as error:
                    errors[parameter] = ErrorList(error.error_list)
                    found = True
        if not found:
            errors[name] = messages
    return errors


class ParameterFilterBackend(filters.DjangoFilterBackend):
    """django-filter's backend, with errors that name the query parameter a client sent (see
    `parameter_errors`) rather than the filter behind it."""

    def filter_queryset(self, request: Any, queryset: QuerySet, view: Any) -> QuerySet:
        filterset = self.get_filterset(request, queryset, view)
        if filterset is None:
            return queryset
        if not filterset.is_valid() and self.raise_exception:
            raise utils.translate_validation(parameter_errors(filterset))
        return filterset.qs
