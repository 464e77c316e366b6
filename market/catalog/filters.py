"""Query parameters of the catalog lists (documented in the OpenAPI schema by django-filter)."""

from decimal import Decimal

from django.db.models import Exists, OuterRef, QuerySet
from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters

from market.accounts.identity import reader
from market.accounts.models import OrganizationType
from market.catalog.models import (
    Achievement,
    AchievementStage,
    CollaborationMode,
    Demand,
    Expert,
    LegalStatus,
    ListingStatus,
    Patent,
    PatentType,
    PricingMethod,
    TransferMode,
    Urgency,
)
from market.catalog.selectors import demand_owner_visible
from market.common.filters import (
    DateRangeFilter,
    DateTimeRangeFilter,
    IpcPrefixFilter,
    RegionFilter,
    money_filter,
    text_filter,
)


class TextFilterSet(filters.FilterSet):
    """A list with a free-text `q` over its `text_fields` (see `text_filter`)."""

    q = filters.CharFilter(method="filter_text", max_length=100)

    #: model fields the free-text `q` looks in (full-text search is the search service's job)
    text_fields: tuple[str, ...] = ()

    def filter_text(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return text_filter(queryset, self.text_fields, value)


class ListingFilter(TextFilterSet):
    status = filters.ChoiceFilter(choices=ListingStatus.choices)
    field = filters.CharFilter()
    region = RegionFilter(organization_path="owner")
    owner = filters.NumberFilter(field_name="owner_id", decimal_places=0)
    owner_type = filters.ChoiceFilter(field_name="owner__org_type", choices=OrganizationType.choices)
    published = DateTimeRangeFilter(field_name="published_at")


class PatentFilter(ListingFilter):
    type = filters.ChoiceFilter(field_name="patent_type", choices=PatentType.choices)
    legal_status = filters.ChoiceFilter(choices=LegalStatus.choices)
    ipc = IpcPrefixFilter(array_path="ipc_codes")
    filing_date = DateRangeFilter()
    expiry_date = DateRangeFilter()
    price_min = money_filter("price", "gte")
    price_max = money_filter("price", "lte")
    text_fields = ("title", "abstract")

    class Meta:
        model = Patent
        fields: list[str] = []


class AchievementFilter(ListingFilter):
    category = filters.CharFilter()
    stage = filters.ChoiceFilter(choices=AchievementStage.choices)
    pricing_method = filters.ChoiceFilter(choices=PricingMethod.choices)
    transfer_mode = filters.ChoiceFilter(choices=TransferMode.choices, method="filter_transfer_mode")
    trl_min = filters.NumberFilter(
        field_name="trl", lookup_expr="gte", min_value=1, max_value=9, decimal_places=0
    )
    trl_max = filters.NumberFilter(
        field_name="trl", lookup_expr="lte", min_value=1, max_value=9, decimal_places=0
    )
    price_min = money_filter("price", "gte")
    price_max = money_filter("price", "lte")
    ipc = IpcPrefixFilter(array_path="ipc_codes", method="filter_ipc")
    keyword = filters.CharFilter(field_name="keywords", method="filter_keyword", max_length=60)
    text_fields = ("name", "teaser")

    class Meta:
        model = Achievement
        fields: list[str] = []

    def filter_transfer_mode(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(transfer_modes__contains=[value])

    def filter_keyword(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(keywords__contains=[value])

    def filter_ipc(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        """Achievements are classified through the patents they link."""
        linked = IpcPrefixFilter(array_path="ipc_codes").filter(
            Patent.objects.filter(achievements=OuterRef("pk")), value
        )
        return queryset.filter(Exists(linked))


class DemandFilter(ListingFilter):
    collaboration_mode = filters.ChoiceFilter(choices=CollaborationMode.choices)
    urgency = filters.ChoiceFilter(choices=Urgency.choices)
    ipc = IpcPrefixFilter(array_path="ipc_hints")
    deadline = DateRangeFilter()
    budget_min = money_filter("budget_max", "gte", help_text=_("Budget reaching at least this amount (yuan)"))
    budget_max = money_filter(
        "budget_min", "lte", help_text=_("Budget starting at most at this amount (yuan)")
    )
    owner = filters.NumberFilter(method="filter_owner", decimal_places=0)
    text_fields = ("title", "description")

    class Meta:
        model = Demand
        fields: list[str] = []

    def filter_owner(self, queryset: QuerySet, name: str, value: Decimal) -> QuerySet:
        """An anonymous demand answers an owner search only for its enterprise and reviewers; otherwise the
        filter would name the enterprise that the serializer hides."""
        queryset = queryset.filter(owner_id=value)
        user = reader(self.request) if self.request is not None else None
        if demand_owner_visible(owner_id=int(value), user=user):
            return queryset
        return queryset.filter(is_anonymous=False)


class ExpertFilter(TextFilterSet):
    field = filters.CharFilter(method="filter_field", max_length=100)
    organization = filters.NumberFilter(field_name="organization_id", decimal_places=0)
    region = RegionFilter(organization_path="organization")
    owner_type = filters.ChoiceFilter(field_name="organization__org_type", choices=OrganizationType.choices)
    #: what someone looking for an expert on a subject types: the subject is in the fields and the profile
    #: more often than in the name (contacts are never searched: they are not public)
    text_fields = ("name", "title", "fields", "bio", "achievements_summary")

    class Meta:
        model = Expert
        fields: list[str] = []

    def filter_field(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(fields__contains=[value])
