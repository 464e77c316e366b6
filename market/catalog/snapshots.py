"""The public face of a listing as plain JSON: what events carry and what search indexes.
Confidential fields (achievement details, NDA text, expert contacts, an anonymous demand's owner) never
appear."""

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from market.catalog.models import Achievement, Demand, Expert, Listing, Patent

_COMMON = ("status", "published_at", "created_at", "updated_at", "synthetic_fields")
PUBLIC_FIELDS: dict[type, tuple[str, ...]] = {
    Patent: (
        "application_number",
        "publication_number",
        "patent_type",
        "title",
        "abstract",
        "claims_summary",
        "ipc_codes",
        "applicants",
        "inventors",
        "filing_date",
        "publication_date",
        "grant_date",
        "legal_status",
        "expiry_date",
        "field",
        "price",
        *_COMMON,
    ),
    Achievement: (
        "name",
        "keywords",
        "completing_units",
        "registration_number",
        "field",
        "category",
        "trl",
        "stage",
        "ip_forms",
        "transfer_modes",
        "price",
        "pricing_method",
        "teaser",
        *_COMMON,
    ),
    Demand: (
        "title",
        "description",
        "field",
        "ipc_hints",
        "budget_min",
        "budget_max",
        "deadline",
        "collaboration_mode",
        "urgency",
        "is_anonymous",
        *_COMMON,
    ),
    Expert: (
        "name",
        "title",
        "fields",
        "bio",
        "achievements_summary",
        "is_public",
        "created_at",
        "updated_at",
    ),
}


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def listing_snapshot(listing: Listing | Expert) -> dict[str, Any]:
    snapshot = {name: _json_value(getattr(listing, name)) for name in PUBLIC_FIELDS[type(listing)]}
    snapshot["id"] = listing.pk
    snapshot["version"] = listing.version
    owner = listing.organization if isinstance(listing, Expert) else listing.owner
    snapshot["owner"] = {
        "id": owner.pk,
        "name": owner.name,
        "org_type": owner.org_type,
        "province_code": owner.province_code,
        "city_code": owner.city_code,
        "county_code": owner.county_code,
    }
    if isinstance(listing, Demand) and listing.is_anonymous:
        # the region stays searchable; who is asking does not
        del snapshot["owner"]["id"], snapshot["owner"]["name"]
    if isinstance(listing, Achievement) and listing.pk:
        snapshot["patent_ids"] = sorted(patent.pk for patent in listing.patents.all())
    return snapshot
