"""Query parameters of the trading lists."""

from django_filters import rest_framework as filters

from market.common.filters import DateRangeFilter, DateTimeRangeFilter, RegionFilter
from market.trading.models import (
    Auction,
    AuctionStatus,
    Deal,
    DealObjection,
    DealStage,
    ListingKind,
    ObjectionStatus,
    Offer,
    OfferStatus,
    RegistrationStatus,
    TransactionMode,
)


class AuctionFilter(filters.FilterSet):
    status = filters.ChoiceFilter(choices=AuctionStatus.choices)
    listing_kind = filters.ChoiceFilter(choices=ListingKind.choices)
    owner = filters.NumberFilter(field_name="owner_id", decimal_places=0)
    ends = DateTimeRangeFilter(field_name="ends_at")

    class Meta:
        model = Auction
        fields = ("status", "listing_kind", "owner")


class OfferFilter(filters.FilterSet):
    status = filters.ChoiceFilter(choices=OfferStatus.choices)
    listing_kind = filters.ChoiceFilter(choices=ListingKind.choices)

    class Meta:
        model = Offer
        fields = ("status", "listing_kind")


class DealFilter(filters.FilterSet):
    """`region` matches a deal when either party is in it (the rule of the government members' view)."""

    stage = filters.ChoiceFilter(choices=DealStage.choices)
    transaction_mode = filters.ChoiceFilter(choices=TransactionMode.choices)
    registration_status = filters.ChoiceFilter(choices=RegistrationStatus.choices)
    region = RegionFilter(organization_path=("seller", "buyer"))
    created = DateTimeRangeFilter(field_name="created_at")
    registered_on = DateRangeFilter()

    class Meta:
        model = Deal
        fields = ("stage", "transaction_mode", "registration_status")


class RegistrationFilter(filters.FilterSet):
    """The registrar's queue: what awaits a decision unless `status` asks for returned or registered ones."""

    status = filters.ChoiceFilter(field_name="registration_status", choices=RegistrationStatus.choices)

    class Meta:
        model = Deal
        fields = ("status",)

    def filter_queryset(self, queryset):
        if not self.form.cleaned_data.get("status"):
            queryset = queryset.filter(registration_status=RegistrationStatus.SUBMITTED)
        return super().filter_queryset(queryset)


class ObjectionFilter(filters.FilterSet):
    status = filters.ChoiceFilter(choices=ObjectionStatus.choices)
    deal = filters.NumberFilter(field_name="deal_id", decimal_places=0)

    class Meta:
        model = DealObjection
        fields = ("status", "deal")
