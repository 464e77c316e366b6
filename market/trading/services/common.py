"""Helpers every trading aggregate shares: the listing being traded, the acting organization (amounts as
event strings are the events' own `money`)."""

from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _

from market.accounts.models import User
from market.catalog.models import Achievement, ListingStatus, Patent
from market.common.errors import ApplicationError, Forbidden
from market.trading.models import ListingKind


def notice_days() -> int:
    return int(getattr(settings, "TRADING_NOTICE_DAYS", 15))


def listing_title(listing: Patent | Achievement) -> str:
    return listing.title if isinstance(listing, Patent) else listing.name


def listing_columns(listing: Patent | Achievement) -> dict[str, Any]:
    """The columns an auction or an offer copies from the listing it trades: link, owner and title."""
    return {
        "patent": listing if isinstance(listing, Patent) else None,
        "achievement": listing if isinstance(listing, Achievement) else None,
        "owner_id": listing.owner_id,
        "title": listing_title(listing),
    }


def published_listing(kind: str, listing_id: int) -> Patent | Achievement:
    model = Patent if kind == ListingKind.PATENT else Achievement
    listing = model.objects.select_related("owner").filter(pk=listing_id).first()
    if listing is None or listing.status != ListingStatus.PUBLISHED:
        raise ApplicationError(
            _("Choose a published patent or achievement."),
            code="not_published",
            fields={"listing_id": [_("No published listing of this kind has this id.")]},
        )
    return listing


def acting_org_id(user: User) -> int:
    """The organization a member acts for; the permission predicates (`can_post_demand`, `can_list_supply`)
    the callers check first already require one."""
    if user.organization_id is None:
        raise Forbidden(_("Join an approved organization first."))
    return user.organization_id
