"""Builders for test data: real-looking organizations, users and listings, created through the models so each
test states only what it cares about."""

import dataclasses
import itertools
import typing
from datetime import date
from decimal import Decimal
from typing import Any

from django.utils import timezone
from stdnum.cn import uscc

from market.accounts.models import Organization, OrganizationStatus, OrgRole, User
from market.catalog.models import (
    PATENT_TERM_YEARS,
    Achievement,
    Demand,
    Expert,
    ListingStatus,
    Patent,
)
from market.catalog.services import _add_years
from market.common.validators import application_number_check_char
from market.events.catalogue import DealProfile
from market.events.snapshots import (
    ListingSnapshot,
    Snapshot,
    field_types,
    listing_snapshot_class,
    nested_snapshot,
)

_sequence = itertools.count(1)
PASSWORD = "test-Pass-2026"


def credit_code(number: int) -> str:
    body = f"9133010{number:010d}"[:17]
    return body + uscc.calc_check_digit(body)


def application_number(number: int, *, type_digit: str = "1", year: int = 2020) -> str:
    body = f"{year}{type_digit}{number:07d}"
    return f"{body}.{application_number_check_char(body)}"


def organization(
    org_type: str, *, status: str = OrganizationStatus.APPROVED, county_code: str = "330106", **fields: Any
) -> Organization:
    number = next(_sequence)
    return Organization.objects.create(
        name=fields.pop("name", f"{org_type}-{number}"),
        org_type=org_type,
        credit_code=credit_code(number),
        province_code=county_code[:2] + "0000",
        city_code=county_code[:4] + "00",
        county_code=county_code,
        status=status,
        **fields,
    )


def user(
    org: Organization | None, *, role: str = OrgRole.MEMBER, platform_admin: bool = False, **fields: Any
) -> User:
    account = User(
        username=fields.pop("username", f"user{next(_sequence)}"),
        organization=org,
        org_role=role,
        is_platform_admin=platform_admin,
        **fields,
    )
    account.set_password(PASSWORD)
    account.save()
    return account


def _listing_defaults(owner: Organization, status: str) -> dict[str, Any]:
    creator = owner.members.first() or user(owner)
    published_at = timezone.now() if status == ListingStatus.PUBLISHED else None
    return {"owner": owner, "created_by": creator, "status": status, "published_at": published_at}


def patent(owner: Organization, *, status: str = ListingStatus.PUBLISHED, **fields: Any) -> Patent:
    number = next(_sequence)
    filing = fields.pop("filing_date", date(2020, 5, 17))
    patent_type = fields.pop("patent_type", "invention")
    type_digit = {"invention": "1", "utility_model": "2", "design": "3"}[patent_type]
    values = {
        "application_number": application_number(number, type_digit=type_digit, year=filing.year),
        "title": f"一种锂离子电池正极材料及其制备方法 {number}",
        "ipc_codes": ["H01M 4/525"],
        "filing_date": filing,
        "patent_type": patent_type,
        "expiry_date": _add_years(filing, PATENT_TERM_YEARS[patent_type]),
        **_listing_defaults(owner, status),
        **fields,
    }
    return Patent.objects.create(**values)


def achievement(owner: Organization, *, status: str = ListingStatus.PUBLISHED, **fields: Any) -> Achievement:
    number = next(_sequence)
    values = {
        "name": f"高镍正极材料表面包覆技术 {number}",
        "field": "材料科学与工程",
        "trl": 5,
        "stage": "pilot",
        "pricing_method": "negotiated",
        "teaser": "循环寿命提升30%的包覆工艺。",
        "price": Decimal("500000"),
        "confidential_details": "包覆层厚度 5 nm，烧结温度 750 ℃。",
        "nda_text": "仅用于评估合作，不得外泄。",
        "transfer_modes": ["transfer", "licence"],
        **_listing_defaults(owner, status),
        **fields,
    }
    return Achievement.objects.create(**values)


def demand(owner: Organization, *, status: str = ListingStatus.PUBLISHED, **fields: Any) -> Demand:
    number = next(_sequence)
    values = {
        "title": f"储能电池热失控预警 {number}",
        "description": "需要早期预警算法。",
        "field": "电学",
        "collaboration_mode": "joint_development",
        "budget_min": Decimal("100000"),
        "budget_max": Decimal("500000"),
        "deadline": date(2030, 1, 1),
        **_listing_defaults(owner, status),
        **fields,
    }
    return Demand.objects.create(**values)


def expert(org: Organization, **fields: Any) -> Expert:
    values = {
        "name": f"专家{next(_sequence)}",
        "title": "教授",
        "fields": ["电化学储能"],
        "email": "e@example.org",
        "phone": "0571-88888888",
        **fields,
    }
    return Expert.objects.create(organization=org, **values)


def _blank(annotation: Any) -> Any:
    """The plainest value of a JSON field type: 0, "", False, [], None where null is allowed."""
    nested = nested_snapshot(annotation)
    if nested is not None:
        return _blank_snapshot(nested)
    if type(None) in typing.get_args(annotation):
        return None
    return (typing.get_origin(annotation) or annotation)()


def _blank_snapshot(snapshot_class: type[Snapshot], **values: Any) -> Any:
    optional = {field.name for field in dataclasses.fields(snapshot_class) if field.default is None}
    blanks = {
        name: _blank(annotation)
        for name, annotation in field_types(snapshot_class).items()
        if name not in values and name not in optional
    }
    return snapshot_class(**blanks, **values)


def snapshot(aggregate: str, **values: Any) -> ListingSnapshot:
    """A listing snapshot of an aggregate with no row behind it, for tests about events rather than listings:
    every field blank (see `_blank`, optional ones left out) unless given."""
    return _blank_snapshot(listing_snapshot_class(aggregate), **values)


def deal_profile(**values: Any) -> DealProfile:
    """A deal profile with no deal behind it, for tests about events and figures: a negotiated deal on an
    invention patent between a university in Hangzhou's Xihu district and an enterprise in Yuhang, opened on
    2026-03-02 and not yet registered, unless given otherwise."""
    defaults: dict[str, Any] = {
        "opened_on": "2026-03-02",
        "source": "offer",
        "listing_kind": "patent",
        "listed_on": "2026-01-15",
        "patent_type": "invention",
        "technical_field": "电学",
        "ipc_section": "H",
        "seller_type": "university",
        "seller_region": "330106",
        "buyer_region": "330110",
        "contract_type": "",
        "registration_status": "not_submitted",
    }
    return DealProfile(**{**defaults, **values})
