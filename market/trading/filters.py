"""Query parameters of the trading lists."""

from django_filters import rest_framework as filters

from market.common.filters import DateTimeRangeFilter
from market.trading.models import (
    Auction,
    AuctionStatus,
    Deal,
    DealStage,
    ListingKind,
    Offer,
    OfferStatus,
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
    stage = filters.ChoiceFilter(choices=DealStage.choices)
    transaction_mode = filters.ChoiceFilter(choices=TransactionMode.choices)

    class Meta:
        model = Deal
        fields = ("stage", "transaction_mode")
