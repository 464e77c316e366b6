"""Writes of the web site's own data: counting a read of a listing page."""

from datetime import date

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from market.web.models import ListingDailyViews


def listing_view_record(*, kind: str, listing_id: int, day: date | None = None) -> None:
    """One more read of a listing's page today (the local day). The row is incremented in place; the first
    read of a day creates it, and should another reader create it first, the unique constraint refuses the
    second insert (inside its own savepoint) and the increment runs again."""
    day = day or timezone.localdate()
    rows = ListingDailyViews.objects.filter(kind=kind, listing_id=listing_id, day=day)
    if rows.update(views=F("views") + 1):
        return
    try:
        with transaction.atomic():
            ListingDailyViews.objects.create(kind=kind, listing_id=listing_id, day=day, views=1)
    except IntegrityError:
        rows.update(views=F("views") + 1)
