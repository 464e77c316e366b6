"""Labels of search facets and their values, in the visitor's language; amounts of money and list values as
every page writes them."""

from decimal import Decimal, InvalidOperation

from django import template
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from market.accounts.models import OrganizationType
from market.catalog.models import AchievementStage, IpForm, LegalStatus, PatentType, TransferMode
from market.common.regions import province_name

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
    # its own context: the plain "Owner" is the owner side of a negotiation (`OfferSide.OWNER`)
    "owner_type": pgettext_lazy("search facet", "Owner"),
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
    "ip_form": dict(IpForm.choices),
}


@register.filter
def facet_label(name: str) -> object:
    return FACET_LABELS.get(name, name)


@register.filter
def facet_value(value: object, facet: str) -> object:
    if facet == "region":
        return region(value)
    return VALUE_LABELS.get(facet, {}).get(str(value), value)


@register.filter
def facet_values(values: list[object], facet: str) -> str:
    """Several values of one kind (an achievement's transfer modes) by their labels, on one line."""
    return "、".join(str(facet_value(value, facet)) for value in values)


@register.filter
def money(value: object) -> str:
    """An amount in yuan as every page writes it: `¥500,000`, or `¥1,234.50` when it has fen; "" for none.
    Amounts come as Decimals from the database and as numbers or strings from the search engine."""
    if value is None or value == "":
        return ""
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        return str(value)
    if amount == amount.to_integral_value():
        return f"¥{amount:,.0f}"
    return f"¥{amount:,.2f}"


@register.filter
def joined(value: object, separator: str = "、") -> str:
    """A value that may be a list (an expert's fields in a search result) as one line of text."""
    if isinstance(value, list | tuple):
        return separator.join(str(part) for part in value if part not in (None, ""))
    return "" if value is None else str(value)


@register.filter
def region(code: object) -> str:
    """A region code as a person reads it: a province by its name, a city or county by its code."""
    return province_name(str(code)) or str(code)
