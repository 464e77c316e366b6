"""Reads for organizations and users."""

from django.db.models import Q, QuerySet

from market.accounts.models import Organization, OrganizationStatus, User
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
