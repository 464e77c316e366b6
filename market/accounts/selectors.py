"""Reads for organizations and users."""

from django.db.models import Q, QuerySet

from market.accounts.models import Organization, OrganizationStatus, OrganizationType, OrgRole, User
from market.accounts.permissions import is_reviewer


def organization_list(*, user: User | None) -> QuerySet[Organization]:
    """The public sees approved organizations; members also see their own; reviewers see all."""
    queryset = Organization.objects.all()
    if is_reviewer(user):
        return queryset
    visible = Q(status=OrganizationStatus.APPROVED)
    if user is not None and user.is_authenticated and user.organization_id:
        visible |= Q(pk=user.organization_id)
    return queryset.filter(visible)


def organization_members(*, organization: Organization) -> QuerySet[User]:
    return organization.members.order_by("username")


def organization_review_queue() -> QuerySet[Organization]:
    return Organization.objects.filter(status=OrganizationStatus.PENDING)


def registrars_over(organization: Organization) -> QuerySet[User]:
    """The active registrars whose jurisdiction (`permissions.jurisdiction`) covers the organization: those of
    the government organizations registered with its county's, its city's or its province's code."""
    return User.objects.filter(
        is_active=True,
        org_role=OrgRole.REGISTRAR,
        organization__org_type=OrganizationType.GOVERNMENT,
        organization__status=OrganizationStatus.APPROVED,
        organization__county_code__in=[
            organization.province_code,
            organization.city_code,
            organization.county_code,
        ],
    )


def broker_list() -> QuerySet[User]:
    """Who a party may mandate as its technology broker: the active members of approved intermediaries."""
    return User.objects.filter(
        is_active=True,
        organization__org_type=OrganizationType.INTERMEDIARY,
        organization__status=OrganizationStatus.APPROVED,
    ).select_related("organization")
