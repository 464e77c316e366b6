"""Reads for the catalog: what each caller may see, with everything a page needs fetched in a fixed number of
queries (owners joined, linked patents prefetched)."""

from datetime import date
from decimal import Decimal

from django.db.models import DateField, DecimalField, Q, QuerySet, Value
from django.db.models.functions import Cast, Coalesce

from market.accounts.models import Organization, OrganizationStatus, User
from market.accounts.permissions import belongs_to, is_reviewer
from market.catalog.models import Achievement, Demand, Expert, Listing, ListingStatus, NdaAcceptance, Patent

#: prices and budgets as sort keys: the shape of the money columns (14 digits, 2 decimals)
MONEY_SORT_FIELD: "DecimalField[Decimal, Decimal]" = DecimalField(max_digits=14, decimal_places=2)


def _visible(queryset: QuerySet, user: User | None) -> QuerySet:
    if is_reviewer(user):
        return queryset
    visible = Q(status=ListingStatus.PUBLISHED)
    if user is not None and user.is_authenticated and user.organization_id:
        visible |= Q(owner_id=user.organization_id)
    return queryset.filter(visible)


def _sortable(queryset: QuerySet, *, price_field: str | None) -> QuerySet:
    """Non-null sort keys, because cursor pagination positions on the first ordering field. A missing price
    sorts as 0, cast to the column's scale: pagination compares positions as text, so a `0` beside `0.00`
    would look like a different position and skip records."""
    queryset = queryset.annotate(published_sort=Coalesce("published_at", "created_at"))
    if price_field:
        queryset = queryset.annotate(
            price_sort=Cast(Coalesce(price_field, Value(0)), output_field=MONEY_SORT_FIELD)
        )
    return queryset


def patent_list(*, user: User | None) -> QuerySet[Patent]:
    return _sortable(_visible(Patent.objects.select_related("owner"), user), price_field="price")


def achievement_list(*, user: User | None) -> QuerySet[Achievement]:
    queryset = Achievement.objects.select_related("owner").prefetch_related("patents")
    return _sortable(_visible(queryset, user), price_field="price")


def demand_list(*, user: User | None) -> QuerySet[Demand]:
    queryset = _sortable(_visible(Demand.objects.select_related("owner"), user), price_field="budget_max")
    # open-ended demands (no deadline) sort after every dated one
    return queryset.annotate(deadline_sort=Coalesce("deadline", Value(date.max), output_field=DateField()))


def demand_owner_visible(*, owner_id: int, user: User | None) -> bool:
    """Whether `user` may learn that organization `owner_id` stands behind its anonymous demands: only the
    enterprise itself and reviewers may. The detail shows the owner by this rule and the `owner` filter
    answers by it, so neither names an enterprise the other hides."""
    return is_reviewer(user) or belongs_to(user, owner_id)


def expert_list(*, user: User | None) -> QuerySet[Expert]:
    queryset = Expert.objects.select_related("organization")
    if is_reviewer(user):
        return queryset
    visible = Q(is_public=True)
    if user is not None and user.is_authenticated:
        visible |= Q(user_id=user.pk)
        if user.organization_id:
            visible |= Q(organization_id=user.organization_id)
    return queryset.filter(visible)


def review_queue(*, model: type[Listing]) -> QuerySet:
    """Pending listings of one kind, oldest first: reviewers work in the order things arrived."""
    return (
        model._default_manager.select_related("owner")
        .filter(status=ListingStatus.PENDING)
        .order_by("updated_at")
    )


def achievement_confidential_allowed(*, achievement: Achievement, user: User | None) -> bool:
    """Owners, reviewers and users who accepted the NDA read the confidential details."""
    if user is None or not user.is_authenticated:
        return False
    if is_reviewer(user) or belongs_to(user, achievement.owner_id):
        return True
    return NdaAcceptance.objects.filter(achievement=achievement, user=user).exists()


def nda_acceptance_list(*, user: User | None) -> QuerySet[NdaAcceptance]:
    """Who accepted the non-disclosure agreements of the user's organization's achievements, newest first:
    an owner learns who reads its confidential details. Reviewers see every acceptance; nobody else sees
    those of another organization."""
    queryset = NdaAcceptance.objects.select_related("achievement", "user__organization").order_by(
        "-accepted_at", "-id"
    )
    if is_reviewer(user):
        return queryset
    if user is None or not user.is_authenticated or not user.organization_id:
        return queryset.none()
    return queryset.filter(achievement__owner_id=user.organization_id)


def achievement_nda_offered(*, achievement: Achievement, user: User | None) -> bool:
    """Whether `user` is offered the achievement's NDA to accept: signed in, not yet allowed to read the
    confidential details, and the achievement is published with an NDA (what `achievement_accept_nda`
    requires). An anonymous reader is asked to sign in first."""
    return (
        user is not None
        and user.is_authenticated
        and achievement.status == ListingStatus.PUBLISHED
        and bool(achievement.nda_text)
        and not achievement_confidential_allowed(achievement=achievement, user=user)
    )


def review_counts() -> dict[str, int]:
    counts = {
        name: model.objects.filter(status=ListingStatus.PENDING).count()
        for name, model in (("patents", Patent), ("achievements", Achievement), ("demands", Demand))
    }
    counts["orgs"] = Organization.objects.filter(status=OrganizationStatus.PENDING).count()
    return counts
