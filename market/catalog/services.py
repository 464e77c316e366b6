"""Writes for the catalog. Every function is one transaction that changes rows and publishes one event;
permission checks live here so no caller can skip them."""

import calendar
from collections.abc import Iterable, Mapping
from datetime import date
from decimal import Decimal
from typing import Any, TypedDict, TypeVar, Unpack, cast

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from market.accounts.models import User
from market.accounts.permissions import belongs_to, can_list_supply, can_post_demand, is_admin_of, is_reviewer
from market.catalog.models import (
    EDITABLE_STATUSES,
    PATENT_TERM_YEARS,
    Achievement,
    Demand,
    Expert,
    LegalStatus,
    Listing,
    ListingStatus,
    NdaAcceptance,
    Patent,
    PatentType,
    PricingMethod,
)
from market.common.errors import Conflict, Forbidden, Invalid, full_clean
from market.common.validators import (
    normalize_application_number,
    normalize_ipc_code,
    normalize_publication_number,
    parse_publication_number,
    patent_type_from_application_number,
    validate_calendar_date,
)
from market.events.catalogue import (
    DemandSolved,
    Event,
    ListingClosed,
    ListingCreated,
    ListingFact,
    ListingPublished,
    ListingRejected,
    ListingSubmitted,
    ListingUpdated,
    ListingWithdrawn,
    NdaAccepted,
    listing_class,
)
from market.events.publishing import publish

ListingT = TypeVar("ListingT", bound=Listing)
ModelT = TypeVar("ModelT", bound=Listing | Expert)
#: relations the event snapshot reads, fetched together with the locked row
_RELATED: dict[type, tuple[str, ...]] = {
    Patent: ("owner",),
    Achievement: ("owner",),
    Demand: ("owner",),
    Expert: ("organization",),
}

#: publication kind code -> patent type it implies
_KIND_TO_TYPE = {
    "A": "invention",
    "B": "invention",
    "C": "invention",
    "U": "utility_model",
    "Y": "utility_model",
    "S": "design",
}


def _fact(fact_class: type[ListingFact], instance: Listing | Expert, **extra: Any) -> ListingFact:
    """The per-aggregate class of a generic fact, about the instance: (ListingPublished, patent) ->
    PatentPublished.of(patent)."""
    return listing_class(fact_class, type(instance).__name__.lower()).of(instance, **extra)


def _save_and_publish(
    instance: Listing | Expert,
    event_for: Any,
    *,
    m2m: dict[str, Iterable] | None = None,
    is_new: bool = False,
) -> None:
    """Validate, save, set many-to-many fields and publish, all in the caller's transaction."""
    if not is_new:
        instance.bump_version()
    full_clean(instance, validate_unique=False)
    try:
        instance.validate_unique()
    except ValidationError as error:
        # a clash with an existing record is a conflict (409), not malformed input; name the fields
        message = _("A record with the same identifier already exists.")
        raise Conflict(message, code="duplicate", fields=error.message_dict) from error
    try:
        with transaction.atomic():
            instance.save()
            for name, values in (m2m or {}).items():
                getattr(instance, name).set(values)
            event: Event = event_for(instance)
            publish(event)
    except IntegrityError as error:
        raise Conflict(_("A record with the same identifier already exists."), code="duplicate") from error


def _add_years(day: date, years: int) -> date:
    year = day.year + years
    return day.replace(year=year, day=min(day.day, calendar.monthrange(year, day.month)[1]))


def _patent_prepare(patent: Patent) -> None:
    """Normalise identifiers, derive what follows from them and check they agree with each other."""
    errors: dict[str, list[str]] = {}
    try:
        patent.application_number = normalize_application_number(patent.application_number)
        implied_type = patent_type_from_application_number(patent.application_number)
        if not patent.patent_type:
            patent.patent_type = implied_type
        elif patent.patent_type != implied_type:
            errors["patent_type"] = [_("The application number belongs to a different patent type.")]
    except ValidationError as error:
        errors["application_number"] = list(error.messages)
    if patent.publication_number:
        try:
            patent.publication_number = normalize_publication_number(patent.publication_number)
            kind = parse_publication_number(patent.publication_number).kind
            if patent.patent_type and _KIND_TO_TYPE.get(kind) != patent.patent_type:
                errors["publication_number"] = [_("The kind code does not match the patent type.")]
        except ValidationError as error:
            errors["publication_number"] = list(error.messages)
    else:
        patent.publication_number = None
    try:
        patent.ipc_codes = [normalize_ipc_code(code) for code in patent.ipc_codes]
    except ValidationError as error:
        errors["ipc_codes"] = list(error.messages)
    for name in ("filing_date", "publication_date", "grant_date"):
        try:
            if getattr(patent, name):
                validate_calendar_date(getattr(patent, name))
        except ValidationError as error:
            errors[name] = list(error.messages)
    for name in ("publication_date", "grant_date"):
        value = getattr(patent, name)
        if value and patent.filing_date and value < patent.filing_date and name not in errors:
            errors[name] = [_("This date cannot be before the filing date.")]
    if patent.legal_status == LegalStatus.GRANTED and not patent.grant_date:
        errors["grant_date"] = [_("A granted patent needs its grant date.")]
    if errors:
        raise Invalid(errors)
    if patent.filing_date and patent.patent_type:
        patent.expiry_date = _add_years(patent.filing_date, PATENT_TERM_YEARS[PatentType(patent.patent_type)])


def _achievement_check(achievement: Achievement, patents: Iterable[Patent] | None) -> None:
    errors: dict[str, list[str]] = {}
    if achievement.pricing_method == PricingMethod.LISTING and achievement.price is None:
        errors["price"] = [_("A listed price is required for this pricing method.")]
    if patents is not None and any(patent.owner_id != achievement.owner_id for patent in patents):
        errors["patent_ids"] = [_("Only your organization's own patents can be linked.")]
    if errors:
        raise Invalid(errors)


def _demand_check(demand: Demand, *, is_new: bool) -> None:
    errors: dict[str, list[str]] = {}
    if (
        demand.budget_min is not None
        and demand.budget_max is not None
        and demand.budget_min > demand.budget_max
    ):
        errors["budget_max"] = [_("The upper budget must not be below the lower budget.")]
    if is_new and demand.deadline and demand.deadline < timezone.localdate():
        errors["deadline"] = [_("The deadline is in the past.")]
    try:
        demand.ipc_hints = [normalize_ipc_code(code) for code in demand.ipc_hints]
    except ValidationError as error:
        errors["ipc_hints"] = list(error.messages)
    if errors:
        raise Invalid(errors)


def _require_member(listing: Listing, user: User) -> None:
    if not belongs_to(user, listing.owner_id):
        raise Forbidden(_("Only members of the owning organization may change this listing."))


def _require_editable(listing: Listing) -> None:
    if listing.status not in EDITABLE_STATUSES:
        raise Conflict(_("Withdraw the listing before editing it."), code="not_editable")


def _lock(instance: ModelT) -> ModelT:
    """Re-read a row under a lock, so concurrent edits serialize and every change gets its own version."""
    locked = (
        type(instance)
        ._default_manager.select_related(*_RELATED.get(type(instance), ()))
        .select_for_update(of=("self",))
        .get(pk=instance.pk)
    )
    return cast(ModelT, locked)  # the row of the instance's own model


def _apply(instance: Any, changes: Mapping[str, object]) -> None:
    for name, value in changes.items():
        setattr(instance, name, value)


class PatentFields(TypedDict, total=False):
    """What a patent's owner writes; a create leaves out what the model defaults, an update what it keeps."""

    application_number: str
    publication_number: str | None
    patent_type: str
    title: str
    abstract: str
    claims_summary: str
    ipc_codes: list[str]
    applicants: list[str]
    inventors: list[str]
    filing_date: date
    publication_date: date | None
    grant_date: date | None
    legal_status: str
    field: str
    price: Decimal | None


def patent_create(*, user: User, **fields: Unpack[PatentFields]) -> Patent:
    if not can_list_supply(user):
        raise Forbidden(_("Only members of approved universities and institutes list patents."))
    patent = Patent(owner=user.organization, created_by=user, **fields)
    _patent_prepare(patent)
    _save_and_publish(patent, lambda p: _fact(ListingCreated, p), is_new=True)
    return patent


def patent_update(*, patent: Patent, user: User, **changes: Unpack[PatentFields]) -> Patent:
    _require_member(patent, user)
    with transaction.atomic():
        patent = _lock(patent)
        _require_editable(patent)
        _apply(patent, changes)
        _patent_prepare(patent)
        _save_and_publish(patent, lambda p: _fact(ListingUpdated, p))
    return patent


def _patents_resolve(patent_ids: list[int] | None) -> list[Patent] | None:
    if patent_ids is None:
        return None
    patents = list(Patent.objects.filter(pk__in=set(patent_ids)))
    if len(patents) != len(set(patent_ids)):
        raise Invalid({"patent_ids": [_("One or more patents do not exist.")]})
    return patents


class AchievementFields(TypedDict, total=False):
    """What an achievement's owner writes, besides the linked patents."""

    name: str
    keywords: list[str]
    completing_units: list[str]
    registration_number: str | None
    field: str
    category: str
    trl: int
    stage: str
    ip_forms: list[str]
    transfer_modes: list[str]
    price: Decimal | None
    pricing_method: str
    teaser: str
    confidential_details: str
    nda_text: str


def achievement_create(
    *, user: User, patent_ids: list[int] | None = None, **fields: Unpack[AchievementFields]
) -> Achievement:
    if not can_list_supply(user):
        raise Forbidden(_("Only members of approved universities and institutes list achievements."))
    patents = _patents_resolve(patent_ids)
    achievement = Achievement(owner=user.organization, created_by=user, **fields)
    _achievement_check(achievement, patents)
    _save_and_publish(
        achievement, lambda a: _fact(ListingCreated, a), m2m={"patents": patents or []}, is_new=True
    )
    return achievement


def achievement_update(
    *,
    achievement: Achievement,
    user: User,
    patent_ids: list[int] | None = None,
    **changes: Unpack[AchievementFields],
) -> Achievement:
    """`patent_ids` None keeps the linked patents."""
    _require_member(achievement, user)
    patents = _patents_resolve(patent_ids)
    with transaction.atomic():
        achievement = _lock(achievement)
        _require_editable(achievement)
        _apply(achievement, changes)
        _achievement_check(achievement, patents)
        _save_and_publish(
            achievement,
            lambda a: _fact(ListingUpdated, a),
            m2m={"patents": patents} if patents is not None else None,
        )
    return achievement


def achievement_accept_nda(*, achievement: Achievement, user: User) -> NdaAcceptance:
    """Recorded once per user; accepting again returns the first acceptance."""
    if achievement.status != ListingStatus.PUBLISHED:
        raise Conflict(_("Only published achievements can be requested."), code="not_published")
    if not achievement.nda_text:
        raise Conflict(_("This achievement has no confidential details."), code="no_nda")
    with transaction.atomic():
        acceptance, created = NdaAcceptance.objects.get_or_create(
            achievement=achievement, user=user, defaults={"nda_text": achievement.nda_text}
        )
        if created:
            publish(NdaAccepted.of(achievement, user=user))
    return acceptance


class DemandFields(TypedDict, total=False):
    title: str
    description: str
    field: str
    ipc_hints: list[str]
    budget_min: Decimal | None
    budget_max: Decimal | None
    deadline: date | None
    collaboration_mode: str
    urgency: str
    is_anonymous: bool


def demand_create(*, user: User, **fields: Unpack[DemandFields]) -> Demand:
    if not can_post_demand(user):
        raise Forbidden(_("Only members of approved enterprises post demands."))
    demand = Demand(owner=user.organization, created_by=user, **fields)
    _demand_check(demand, is_new=True)
    _save_and_publish(demand, lambda d: _fact(ListingCreated, d), is_new=True)
    return demand


def demand_update(*, demand: Demand, user: User, **changes: Unpack[DemandFields]) -> Demand:
    _require_member(demand, user)
    with transaction.atomic():
        demand = _lock(demand)
        _require_editable(demand)
        _apply(demand, changes)
        _demand_check(demand, is_new="deadline" in changes)
        _save_and_publish(demand, lambda d: _fact(ListingUpdated, d))
    return demand


def _transition(
    listing: ListingT,
    *,
    allowed_from: set[str],
    to: str,
    fact: type[ListingFact],
    fact_fields: Mapping[str, Any] | None = None,
    **extra: Any,
) -> ListingT:
    """Move a listing between statuses under a row lock, so two reviewers or a reviewer and the owner never
    both win. `extra` are columns to set with the status, `fact_fields` what the fact says besides."""
    with transaction.atomic():
        locked = type(listing)._default_manager.select_for_update().get(pk=listing.pk)
        if locked.status not in allowed_from:
            raise Conflict(
                _("This action is not possible while the listing is %(status)s.")
                % {"status": locked.get_status_display()},
                code="invalid_transition",
            )
        previous_status = locked.status
        locked.status = to
        for name, value in extra.items():
            setattr(locked, name, value)
        locked.bump_version()
        locked.save()
        if fact is ListingWithdrawn:
            publish(_fact(fact, locked, previous_status=previous_status))
        else:
            publish(_fact(fact, locked, **(fact_fields or {})))
    return locked


def listing_submit(*, listing: ListingT, user: User) -> ListingT:
    _require_member(listing, user)
    if not listing.owner.is_approved:
        raise Forbidden(_("Your organization is still awaiting review."))
    return _transition(
        listing,
        allowed_from=set(EDITABLE_STATUSES),
        to=ListingStatus.PENDING,
        fact=ListingSubmitted,
        review_reason="",
    )


def listing_withdraw(*, listing: ListingT, user: User) -> ListingT:
    _require_member(listing, user)
    return _transition(
        listing,
        allowed_from={ListingStatus.PENDING, ListingStatus.PUBLISHED},
        to=ListingStatus.WITHDRAWN,
        fact=ListingWithdrawn,
    )


def listing_close(*, listing: ListingT, user: User) -> ListingT:
    """The owner marks a published listing as done (sold, filled, no longer offered)."""
    _require_member(listing, user)
    return _transition(
        listing, allowed_from={ListingStatus.PUBLISHED}, to=ListingStatus.CLOSED, fact=ListingClosed
    )


def demand_solve(*, demand: Demand, user: User, proposal_id: int, deal_id: int) -> Demand:
    """Close a published demand as solved: its enterprise accepted a proposal (揭榜), which opened a deal.
    Trading calls this inside the acceptance's transaction, so the demand closes with the deal or not at
    all."""
    _require_member(demand, user)
    return _transition(
        demand,
        allowed_from={ListingStatus.PUBLISHED},
        to=ListingStatus.CLOSED,
        fact=DemandSolved,
        fact_fields={"proposal_id": proposal_id, "deal_id": deal_id},
    )


def listing_approve(*, listing: ListingT, reviewer: User) -> ListingT:
    if not is_reviewer(reviewer):
        raise Forbidden(_("Only platform administrators review listings."))
    now = timezone.now()
    return _transition(
        listing,
        allowed_from={ListingStatus.PENDING},
        to=ListingStatus.PUBLISHED,
        fact=ListingPublished,
        reviewed_by=reviewer,
        reviewed_at=now,
        review_reason="",
        published_at=now,
    )


def listing_reject(*, listing: ListingT, reviewer: User, reason: str) -> ListingT:
    if not is_reviewer(reviewer):
        raise Forbidden(_("Only platform administrators review listings."))
    if not reason.strip():
        raise Invalid({"reason": [_("A rejection needs a reason the owner can act on.")]})
    return _transition(
        listing,
        allowed_from={ListingStatus.PENDING},
        to=ListingStatus.REJECTED,
        fact=ListingRejected,
        reviewed_by=reviewer,
        reviewed_at=timezone.now(),
        review_reason=reason.strip(),
    )


def _require_expert_editor(expert: Expert, user: User) -> None:
    if not (expert.user_id == user.pk or is_admin_of(user, expert.organization_id) or is_reviewer(user)):
        raise Forbidden(_("Only the expert or their organization's administrators edit this profile."))


class ExpertFields(TypedDict, total=False):
    name: str
    title: str
    fields: list[str]
    bio: str
    achievements_summary: str
    email: str
    phone: str
    is_public: bool


def expert_create(*, user: User, for_self: bool, **fields: Unpack[ExpertFields]) -> Expert:
    """Experts create their own profile; organization administrators create profiles for their people."""
    if user.organization is None:
        raise Forbidden(_("Join an organization before creating an expert profile."))
    if not user.organization.is_approved:
        # profiles are public at once, and an unapproved organization is hidden from the public
        raise Forbidden(_("Your organization is still awaiting review."))
    if not for_self and not user.is_org_admin:
        raise Forbidden(_("Only organization administrators create profiles for others."))
    if for_self and Expert.objects.filter(user=user).exists():
        raise Conflict(_("You already have an expert profile."), code="duplicate")
    expert = Expert(organization=user.organization, user=user if for_self else None, **fields)
    _save_and_publish(expert, lambda e: _fact(ListingCreated, e), is_new=True)
    return expert


def expert_update(*, expert: Expert, user: User, **changes: Unpack[ExpertFields]) -> Expert:
    _require_expert_editor(expert, user)
    with transaction.atomic():
        expert = _lock(expert)
        _apply(expert, changes)
        _save_and_publish(expert, lambda e: _fact(ListingUpdated, e))
    return expert
