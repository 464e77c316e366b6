"""Writes for organizations and users. Each is one transaction with its event."""

import logging
from typing import Any, TypedDict, Unpack

from axes.utils import reset as axes_reset
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from market.accounts.models import Organization, OrganizationStatus, OrgRole, User
from market.accounts.permissions import is_admin_of, is_reviewer
from market.common.errors import Conflict, Forbidden, Invalid, full_clean
from market.common.validators import normalize_uscc, region_parts
from market.events.catalogue import OrganizationRegistered, OrganizationReviewed
from market.events.publishing import publish

logger = logging.getLogger(__name__)


def _user_build(
    *,
    username: str,
    password: str,
    password_field: str,
    organization: Organization | None,
    org_role: str,
    **profile: Any,
) -> User:
    """A valid, unsaved user. The password validators run here, against the user they protect, so that a
    password resembling the username, name or e-mail is refused; errors name `password_field`, the input
    field the password came in."""
    user = User(username=username, organization=organization, org_role=org_role, **profile)
    full_clean(user, exclude=["password"])
    try:
        validate_password(password, user)
    except ValidationError as error:
        raise Invalid({password_field: list(error.messages)}) from error
    user.set_password(password)
    return user


def _organization_codes(credit_code: str, county_code: str) -> tuple[str, tuple[str, str, str]]:
    """Normalised credit code and region levels; each error names the field it belongs to."""
    errors: dict[str, list[str]] = {}
    try:
        credit_code = normalize_uscc(credit_code)
    except ValidationError as error:
        errors["credit_code"] = list(error.messages)
    try:
        region = region_parts(county_code)
    except ValidationError as error:
        errors["county_code"] = list(error.messages)
    if errors:
        raise Invalid(errors)
    return credit_code, region


def organization_register(
    *,
    name: str,
    org_type: str,
    credit_code: str,
    county_code: str,
    admin_username: str,
    admin_password: str,
    admin_email: str = "",
    address: str = "",
    website: str = "",
    description: str = "",
) -> Organization:
    """A new organization and its first administrator. The organization waits for review before its members
    may list anything; the administrator can sign in meanwhile to follow the review."""
    credit_code, (province, city, county) = _organization_codes(credit_code, county_code)
    organization = Organization(
        name=name,
        org_type=org_type,
        credit_code=credit_code,
        province_code=province,
        city_code=city,
        county_code=county,
        address=address,
        website=website,
        description=description,
    )
    full_clean(organization)
    if User.objects.filter(username=admin_username).exists():
        raise Conflict(
            _("This username is taken."), fields={"admin_username": [_("This username is taken.")]}
        )
    try:
        with transaction.atomic():
            organization.save()
            admin = _user_build(
                username=admin_username,
                password=admin_password,
                password_field="admin_password",
                organization=organization,
                org_role=OrgRole.ORG_ADMIN,
                email=admin_email,
            )
            admin.save()
            publish(OrganizationRegistered.of(organization))
    except IntegrityError as error:
        raise Conflict(_("An organization with this name or credit code already exists.")) from error
    return organization


def organization_review(
    *, organization: Organization, reviewer: User, approve: bool, reason: str = ""
) -> Organization:
    if not is_reviewer(reviewer):
        raise Forbidden(_("Only platform administrators review organizations."))
    if not approve and not reason.strip():
        raise Conflict(
            _("A rejection needs a reason."),
            code="reason_required",
            fields={"reason": [_("A rejection needs a reason.")]},
        )
    with transaction.atomic():
        organization = Organization.objects.select_for_update().get(pk=organization.pk)
        if organization.status != OrganizationStatus.PENDING:
            raise Conflict(_("This organization is not awaiting review."), code="not_pending")
        organization.status = OrganizationStatus.APPROVED if approve else OrganizationStatus.REJECTED
        organization.review_reason = reason
        organization.bump_version()
        organization.save(update_fields=["status", "review_reason", "version", "updated_at"])
        publish(OrganizationReviewed.of(organization))
    return organization


def user_create_member(
    *,
    organization: Organization,
    actor: User,
    username: str,
    password: str,
    org_role: str = OrgRole.MEMBER,
    email: str = "",
    display_name: str = "",
) -> User:
    """Organization administrators add their own people."""
    if not (is_admin_of(actor, organization.pk) or is_reviewer(actor)):
        raise Forbidden(_("Only this organization's administrators add members."))
    if User.objects.filter(username=username).exists():
        raise Conflict(_("This username is taken."), fields={"username": [_("This username is taken.")]})
    user = _user_build(
        username=username,
        password=password,
        password_field="password",
        organization=organization,
        org_role=org_role,
        email=email,
        display_name=display_name,
    )
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError as error:
        raise Conflict(_("This username is taken.")) from error
    return user


class ProfileChanges(TypedDict, total=False):
    """The contact details a user edits; role and organization are not theirs to change."""

    email: str
    display_name: str
    phone: str
    first_name: str
    last_name: str


def user_update_profile(*, user: User, **changes: Unpack[ProfileChanges]) -> User:
    for name, value in changes.items():
        if name in ProfileChanges.__optional_keys__:
            setattr(user, name, value)
    full_clean(user, exclude=["password"])
    with transaction.atomic():
        user.save()
    return user


def user_unlock(*, actor: User, username: str) -> bool:
    """A platform administrator lifts an account's sign-in lock before its cool-off ends, e.g. once the
    owner proved who they are. Clears the account's failed attempts; False when there were none."""
    if not is_reviewer(actor):
        raise Forbidden(_("Only platform administrators unlock accounts."))
    cleared = axes_reset(username=username)
    logger.warning("sign-in lock of %r lifted by %r (%d failed attempts cleared)", username, actor, cleared)
    return cleared > 0
