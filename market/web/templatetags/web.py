"""Labels of search facets and their values, in the visitor's language."""

from django import template
from django.utils.translation import gettext_lazy as _

from market.accounts.models import OrganizationType
from market.catalog.models import AchievementStage, LegalStatus, PatentType, TransferMode

register = template.Library()

KIND_LABELS = {
    "patent": _("Patent"),
    "achievement": _("Achievement"),
    "demand": _("Technical demand"),
    "expert": _("Expert"),
}
FACET_LABELS = {
    "type": _("Kind"),
    "field": _("Technical field"),
    "owner_type": _("Owner"),
    "patent_type": _("Patent type"),
    "legal_status": _("Legal status"),
    "stage": _("Stage"),
    "transfer_mode": _("Transfer mode"),
    "region": _("Province"),
}
VALUE_LABELS: dict[str, dict[str, object]] = {
    "type": dict(KIND_LABELS),
    "owner_type": dict(OrganizationType.choices),
    "patent_type": dict(PatentType.choices),
    "legal_status": dict(LegalStatus.choices),
    "stage": dict(AchievementStage.choices),
    "transfer_mode": dict(TransferMode.choices),
}


@register.filter
def facet_label(name: str) -> object:
    return FACET_LABELS.get(name, name)


@register.filter
def facet_value(value: object, facet: str) -> object:
    return VALUE_LABELS.get(facet, {}).get(str(value), value)
