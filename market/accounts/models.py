"""Organizations and their people. An organization's type decides what its members may list: universities
and institutes list patents and achievements, enterprises post demands and buy, intermediaries broker."""

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from market.common.models import VersionedModel
from market.common.validators import validate_region_code, validate_uscc


class OrganizationType(models.TextChoices):
    UNIVERSITY = "university", _("University")
    INSTITUTE = "institute", _("Research institute")
    ENTERPRISE = "enterprise", _("Enterprise")
    INTERMEDIARY = "intermediary", _("Intermediary")
    GOVERNMENT = "government", _("Government")


#: Organization types whose members may list patents and achievements.
SUPPLIER_TYPES = frozenset({OrganizationType.UNIVERSITY, OrganizationType.INSTITUTE})


class OrganizationStatus(models.TextChoices):
    PENDING = "pending", _("Pending review")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")


class Organization(VersionedModel):
    name = models.CharField(_("name"), max_length=200, unique=True)
    org_type = models.CharField(_("organization type"), max_length=20, choices=OrganizationType.choices)
    credit_code = models.CharField(
        _("unified social credit code"), max_length=18, unique=True, validators=[validate_uscc]
    )
    province_code = models.CharField(_("province code"), max_length=6, db_index=True)
    city_code = models.CharField(_("city code"), max_length=6, db_index=True)
    county_code = models.CharField(
        _("county code"), max_length=6, db_index=True, validators=[validate_region_code]
    )
    address = models.CharField(_("address"), max_length=300, blank=True)
    website = models.URLField(_("website"), blank=True)
    description = models.TextField(_("description"), blank=True)
    status = models.CharField(
        _("status"), max_length=20, choices=OrganizationStatus.choices, default=OrganizationStatus.PENDING
    )
    review_reason = models.TextField(_("review reason"), blank=True)

    class Meta:
        verbose_name = _("organization")
        verbose_name_plural = _("organizations")
        ordering = ("name",)

    def __str__(self) -> str:
        return self.name

    @property
    def is_approved(self) -> bool:
        return self.status == OrganizationStatus.APPROVED


class OrgRole(models.TextChoices):
    """A member's role in their organization. Every member acts for it; an administrator also adds members.
    In a government organization a plain member oversees its region's trading read-only, and a registrar
    (技术合同登记员, of a government organization only) also decides its technology-contract registrations."""

    MEMBER = "member", _("Member")
    ORG_ADMIN = "org_admin", _("Organization administrator")
    REGISTRAR = "registrar", _("Contract registrar")


class User(AbstractUser):
    """A person. Platform administrators (the bureau's reviewers) have `is_platform_admin`; everyone else acts
    through the organization they belong to."""

    organization = models.ForeignKey(
        Organization,
        verbose_name=_("organization"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="members",
    )
    org_role = models.CharField(
        _("role in organization"), max_length=20, choices=OrgRole.choices, default=OrgRole.MEMBER
    )
    is_platform_admin = models.BooleanField(_("platform administrator"), default=False)
    display_name = models.CharField(_("display name"), max_length=100, blank=True)
    phone = models.CharField(_("phone"), max_length=30, blank=True)

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def clean(self) -> None:
        super().clean()
        if self.org_role == OrgRole.REGISTRAR and (
            self.organization is None or self.organization.org_type != OrganizationType.GOVERNMENT
        ):
            raise ValidationError(
                {"org_role": _("Only members of a government organization register contracts.")}
            )

    @property
    def is_org_admin(self) -> bool:
        return self.organization_id is not None and self.org_role == OrgRole.ORG_ADMIN

    @property
    def is_reviewer(self) -> bool:
        return self.is_platform_admin or self.is_superuser
