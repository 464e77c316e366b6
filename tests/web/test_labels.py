"""Labels that share an English word but not a meaning get their own translation context."""

from django.utils import translation

from market.trading.models import OfferSide
from market.web.templatetags.web import facet_label


def test_the_owner_facet_and_the_owner_side_of_an_offer_are_told_apart() -> None:
    """Both are "Owner" in English; the facet (the type of the owning organization) has its own context, so
    the owner side of a negotiation is not called an organization type."""
    with translation.override("zh-hans"):
        assert str(facet_label("owner_type")) == "所属单位类型"
        assert str(OfferSide.OWNER.label) == "所属机构"
    with translation.override("en"):
        assert str(facet_label("owner_type")) == str(OfferSide.OWNER.label) == "Owner"
