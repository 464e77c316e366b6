"""Who may do what, as plain predicates over users, their organizations and roles, shared by services (which
enforce) and serializers (which show); and the API permission built on them. Accounts owns them because they
read what accounts defines (roles, organization types); every app above uses them."""

from typing import Any

from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from market.accounts.models import SUPPLIER_TYPES, OrganizationType, OrgRole


def is_reviewer(user: Any) -> bool:
    return bool(user and user.is_authenticated and (user.is_platform_admin or user.is_superuser))


def belongs_to(user: Any, organization_id: int | None) -> bool:
    return bool(
        user
        and user.is_authenticated
        and organization_id is not None
        and user.organization_id == organization_id
    )


def is_admin_of(user: Any, organization_id: int | None) -> bool:
    return belongs_to(user, organization_id) and user.is_org_admin


def _approved_org_type(user: Any) -> str | None:
    if not (user and user.is_authenticated and user.organization_id):
        return None
    organization = user.organization
    return organization.org_type if organization.is_approved else None


def can_list_supply(user: Any) -> bool:
    """Patents and achievements come from approved universities and research institutes."""
    return _approved_org_type(user) in SUPPLIER_TYPES


def can_post_demand(user: Any) -> bool:
    return _approved_org_type(user) == OrganizationType.ENTERPRISE


def is_government_member(user: Any) -> bool:
    """Members of an approved government organization, whatever their role, oversee their region's trading."""
    return _approved_org_type(user) == OrganizationType.GOVERNMENT


def is_registrar(user: Any) -> bool:
    """A registrar of an approved government organization decides its region's contract registrations."""
    return is_government_member(user) and user.org_role == OrgRole.REGISTRAR


def jurisdiction(user: Any) -> str | None:
    """The region a government member oversees: its organization's own region code, at that code's level (a
    county bureau registered with 330106 oversees that county, a city bureau with 330100 the city, a
    provincial one with 330000 the province; see `region_level`). None for everyone else."""
    return user.organization.county_code if is_government_member(user) else None


class IsReviewer(BasePermission):
    """Platform administrators only (401 for anonymous callers, 403 for others)."""

    def has_permission(self, request: Request, view: Any) -> bool:
        return is_reviewer(request.user)


class IsRegistrar(BasePermission):
    """Those who decide contract registrations: registrars and platform administrators."""

    def has_permission(self, request: Request, view: Any) -> bool:
        return is_reviewer(request.user) or is_registrar(request.user)
