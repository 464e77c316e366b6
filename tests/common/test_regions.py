"""Province names for the pages: every province-level code of GB/T 2260, in both languages."""

from django.utils import translation

from market.common.regions import PROVINCES, province_name
from market.web.templatetags.web import facet_value, region


def test_every_province_level_division_is_named_once() -> None:
    assert len(PROVINCES) == 34
    assert all(code.endswith("0000") for code in PROVINCES)
    assert len({zh for zh, _en in PROVINCES.values()}) == 34


def test_names_follow_the_language_and_other_codes_stay_codes() -> None:
    with translation.override("zh-hans"):
        assert province_name("330000") == "浙江省"
        assert region("330100") == "330100"  # a city: its code
        assert facet_value("440000", "region") == "广东省"
    with translation.override("en"):
        assert province_name("330000") == "Zhejiang"
    assert province_name("330106") is None
