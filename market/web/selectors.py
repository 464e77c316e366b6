"""Reads of the web site's own data: the most viewed listings of the last days."""

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.db.models import Sum
from django.utils import timezone

from market.catalog import selectors as catalog
from market.catalog.models import ListingStatus
from market.web.models import ListingDailyViews, ViewedKind

#: how far back "most viewed" looks
MOST_VIEWED_DAYS = 30

_PUBLIC_LISTS = {
    ViewedKind.PATENT: catalog.patent_list,
    ViewedKind.ACHIEVEMENT: catalog.achievement_list,
    ViewedKind.DEMAND: catalog.demand_list,
}


@dataclass(frozen=True)
class Viewed:
    listing: Any
    views: int


def most_viewed(*, kind: str, limit: int, today: date | None = None) -> list[Viewed]:
    """The published listings of `kind` read most often in the last `MOST_VIEWED_DAYS` days (today
    included), most read first; a listing that left the market since is not among them. Published only, as
    anyone may see them: the home page shows the same list to everybody."""
    since = (today or timezone.localdate()) - timedelta(days=MOST_VIEWED_DAYS - 1)
    public = _PUBLIC_LISTS[ViewedKind(kind)](user=None).filter(status=ListingStatus.PUBLISHED)
    ranked = list(
        ListingDailyViews.objects.filter(kind=kind, day__gte=since, listing_id__in=public.values("pk"))
        .values("listing_id")
        .annotate(total=Sum("views"))
        .order_by("-total", "-listing_id")
        .values_list("listing_id", "total")[:limit]
    )
    listings = public.in_bulk([listing_id for listing_id, _total in ranked])
    return [Viewed(listings[listing_id], total) for listing_id, total in ranked]
