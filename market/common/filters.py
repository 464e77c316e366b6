"""Filters every catalog list shares: region by administrative code, IPC prefix, date and number ranges."""

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters

IPC_PREFIX_PATTERN = r"^[A-Ha-h]([0-9]{1,2}([A-Za-z]( *[0-9]{1,4}(/[0-9]{0,6})?)?)?)?$"


class RegionFilter(filters.CharFilter):
    """`region=330000` (province), `330100` (city) or `330106` (county), applied to an organization relation
    (`organization_path`, empty when the filtered model is the organization itself)."""

    field_class = forms.RegexField

    def __init__(self, *, organization_path: str, **kwargs):
        kwargs.setdefault("help_text", _("6-digit administrative code of a province, city or county"))
        super().__init__(regex=r"^[1-8][0-9]{5}$", **kwargs)
        self.organization_path = organization_path

    def filter(self, queryset: QuerySet, value: str) -> QuerySet:
        if not value:
            return queryset
        if value.endswith("0000"):
            level = "province_code"
        elif value.endswith("00"):
            level = "city_code"
        else:
            level = "county_code"
        prefix = f"{self.organization_path}__" if self.organization_path else ""
        return queryset.filter(**{f"{prefix}{level}": value})


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


def money_filter(field_name: str, lookup_expr: str, **kwargs) -> filters.NumberFilter:
    """An amount in yuan, bounded like the model fields (14 digits, 2 decimals) so no value reaches the
    database that it cannot compare."""
    return filters.NumberFilter(
        field_name=field_name, lookup_expr=lookup_expr, min_value=0, max_digits=14, decimal_places=2, **kwargs
    )
