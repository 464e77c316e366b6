"""The monthly figures worked out a third way: plain Python over the deal rows, written from the metrics the
stats API promises (not from `figures_of` nor from the SQL of `stats_recompute`), to check both."""

from collections import defaultdict
from datetime import date
from decimal import Decimal

from django.utils import timezone

from market.trading.models import Deal
from services.stats.models import Rollup
from services.stats.rollups import METRICS

#: what a deal is classified by, read off its row and its parties
CLASSIFIERS = {
    "contract_type": lambda deal: deal.contract_type,
    "seller_type": lambda deal: deal.seller.org_type,
    "seller_region": lambda deal: deal.seller.county_code,
    "buyer_region": lambda deal: deal.buyer.county_code,
}


def _month(day: date) -> date:
    return date(day.year, day.month, 1)


def brute_monthly(dimension: str | None = None) -> dict[tuple[date, str], list[int | Decimal]]:
    """(month, value of `dimension` or "") -> the metrics (METRICS order), only months where one is not 0."""
    classify = CLASSIFIERS[dimension] if dimension else lambda _deal: ""
    sums: dict[tuple[date, str], list[int | Decimal]] = defaultdict(lambda: [0] * len(METRICS))
    for deal in Deal.objects.select_related("seller", "buyer", "patent"):
        value = classify(deal)
        opened = sums[_month(timezone.localdate(deal.created_at)), value]
        opened[0] += 1
        opened[1] += deal.amount
        if deal.registration_status == "registered" and deal.registered_on and deal.stage != "cancelled":
            registered = sums[_month(deal.registered_on), value]
            registered[2] += 1
            registered[3] += deal.contract_value or 0
            registered[4] += deal.technology_transaction_value or 0
        if deal.stage in ("completed", "cancelled"):
            closed = sums[_month(timezone.localdate(deal.closed_at)), value]
            if deal.stage == "cancelled":
                closed[7] += 1
            else:
                closed[5] += 1
                closed[6] += int(deal.patent is not None and deal.patent.patent_type == "invention")
    return {key: vector for key, vector in sums.items() if any(vector)}


def kept_monthly(dimension: str | None = None) -> dict[tuple[date, str], list[int | Decimal]]:
    """The same from the rollups the consumer kept."""
    rows = Rollup.objects.filter(grain="m", dim_a=dimension or "", dim_b="").values_list(
        "period", "value_a", *METRICS
    )
    return {(row[0], row[1]): list(row[2:]) for row in rows if any(row[2:])}
