"""Tests for market.common.validators.

Real identifiers come from public sources (noted next to each table); numbers made up for a test are
marked as synthetic and built with their correct check character so that only the property under test
can fail.
"""

import dataclasses
import datetime
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError

from market.common.validators import (
    IpcSymbol,
    PublicationNumber,
    application_number_check_char,
    normalize_application_number,
    normalize_ipc,
    normalize_ipc_code,
    normalize_ipc_subclass,
    normalize_publication_number,
    normalize_region_code,
    normalize_uscc,
    parse_ipc,
    parse_publication_number,
    patent_type_from_application_number,
    region_parts,
    validate_application_number,
    validate_ipc,
    validate_ipc_code,
    validate_ipc_subclass,
    validate_publication_number,
    validate_region_code,
    validate_uscc,
)

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def error_of(func: Callable[[str], object], value: object) -> ValidationError:
    with pytest.raises(ValidationError) as info:
        func(value)  # type: ignore[arg-type]
    return info.value


@pytest.fixture
def render() -> Callable[[ValidationError], str]:
    """Render an error message in English; configures minimal settings when running without Django."""
    from django.conf import settings
    from django.utils import translation

    if not settings.configured and not os.environ.get("DJANGO_SETTINGS_MODULE"):
        settings.configure(USE_I18N=False)

    def _render(error: ValidationError) -> str:
        with translation.override("en"):
            return error.messages[0]

    return _render


# --- Unified social credit code ------------------------------------------------------------------------

# Well-known organisations; each code also passes the GB 32100-2015 check (stdnum), which a mistyped code
# would fail 30 times out of 31.
REAL_USCC = [
    "91330100716105852F",  # 阿里巴巴（中国）有限公司
    "91440300708461136T",  # 深圳市腾讯计算机系统有限公司
    "914403001922038216",  # 华为技术有限公司
    "91110108551385082Q",  # 小米科技有限责任公司
    "12100000400000624D",  # 清华大学
    "12100000400002259P",  # 北京大学
    "12100000470095016Q",  # 浙江大学
    "91110000600037341L",  # example from the python-stdnum documentation
]


@pytest.mark.parametrize("code", REAL_USCC)
def test_uscc_real_codes_are_returned_unchanged(code: str) -> None:
    assert normalize_uscc(code) == code


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("91330100716105852f", "91330100716105852F"),
        ("  91440300708461136T\t", "91440300708461136T"),
        ("9144 0300 7084 6113 6T", "91440300708461136T"),
        ("91110108-551385082-Q", "91110108551385082Q"),
        ("１２１０００００４０００００６２４Ｄ", "12100000400000624D"),  # full-width
        ("１２１０００００４０００００６２４ｄ", "12100000400000624D"),  # full-width lower case
    ],
)
def test_uscc_is_normalised(raw: str, expected: str) -> None:
    assert normalize_uscc(raw) == expected


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("", "uscc_length"),
        ("   ", "uscc_length"),
        ("　", "uscc_length"),  # ideographic space only
        ("None", "uscc_length"),
        ("9133010071610585", "uscc_length"),
        ("91330100716105852", "uscc_length"),
        ("91330100716105852FF", "uscc_length"),
        ("A1330100716105852F", "uscc_format"),  # letter in the first eight positions
        ("9133O100716105852F", "uscc_format"),  # letter O instead of zero
        ("91330100716105852I", "uscc_format"),  # I is not in the code alphabet
        ("91330100716105852O", "uscc_format"),
        ("9133010071610585_F", "uscc_format"),
        ("91330100716105852A", "uscc_checksum"),
        ("91330100716105853F", "uscc_checksum"),
        ("91440300708461163T", "uscc_checksum"),  # transposed digits
        ("914403001922038217", "uscc_checksum"),
    ],
)
def test_uscc_errors(raw: str, code: str) -> None:
    assert error_of(normalize_uscc, raw).code == code


def test_uscc_checksum_error_names_the_expected_character(render: Callable[[ValidationError], str]) -> None:
    error = error_of(normalize_uscc, "91330100716105852A")
    assert error.params == {"expected": "F"}
    assert render(error) == "Invalid check character: expected F."


def test_uscc_length_error_reports_the_length(render: Callable[[ValidationError], str]) -> None:
    error = error_of(normalize_uscc, "9133 0100 7161 0585")
    assert error.params == {"length": 16}
    assert render(error) == "A unified social credit code has 18 characters, not 16."


# --- Patent application number ---------------------------------------------------------------------------

# (as found, canonical). Sources: qichacha sample data in BenDaye/Nuxt-Vuetify-Koa (with publication numbers
# CN106844774A, CN106022747A, CN304218960S), Wanfang records (CN200610108546.4, CN201880013080.0), inventors'
# patent lists on public web pages and GitHub profiles (ZL ...), and the worked example on Chinese patent
# help pages (201710601862.3).
REAL_APPLICATION_NUMBERS = [
    ("CN201710117081.7", "201710117081.7"),  # invention
    ("CN201610311380.X", "201610311380.X"),  # invention, check character X
    ("CN201730033448.8", "201730033448.8"),  # design
    ("ZL 2018 2 0847903.7", "201820847903.7"),  # utility model, CNIPA spacing
    ("ZL 2014 2 0461476.0", "201420461476.0"),  # utility model
    ("CN201880013080.0", "201880013080.0"),  # PCT invention entering China
    ("ZL 2023 1 0397744.0", "202310397744.0"),  # granted as CN116455754B
    ("ZL202110377287.X", "202110377287.X"),
    ("CN200610108546.4", "200610108546.4"),
    ("ZL200510025251.6", "200510025251.6"),
    ("201710601862.3", "201710601862.3"),
    ("ZL99113861.9", "99113861.9"),  # legacy format from here on
    ("ZL01105715.7", "01105715.7"),
    ("ZL00125301.8", "00125301.8"),
    ("ZL01126463.2", "01126463.2"),
    ("ZL95115608.X", "95115608.X"),
    ("97101765.4", "97101765.4"),
]


@pytest.mark.parametrize(("raw", "expected"), REAL_APPLICATION_NUMBERS)
def test_application_number_real_values(raw: str, expected: str) -> None:
    assert normalize_application_number(raw) == expected


@pytest.mark.parametrize(("raw", "expected"), REAL_APPLICATION_NUMBERS)
def test_application_check_char_matches_real_values(raw: str, expected: str) -> None:
    body, _, check = expected.partition(".")
    assert application_number_check_char(body) == check


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  CN201710117081.7  ", "201710117081.7"),
        ("cn201710117081.7", "201710117081.7"),
        ("zl201911044411.x", "201911044411.X"),
        ("ZL 201911044384.6", "201911044384.6"),
        ("CN 2017 1 0117081.7", "201710117081.7"),
        ("99 1 13861.9", "99113861.9"),
        ("２０１７１０１１７０８１．７", "201710117081.7"),  # full-width digits and dot
        ("ＺＬ２０１６１０３１１３８０．Ｘ", "201610311380.X"),
    ],
)
def test_application_number_is_normalised(raw: str, expected: str) -> None:
    assert normalize_application_number(raw) == expected


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("", "application_number_format"),
        ("   ", "application_number_format"),
        ("None", "application_number_format"),
        ("2017101170817", "application_number_format"),  # no dot: ambiguous, refused
        ("CN2017101170817", "application_number_format"),
        ("991138619", "application_number_format"),
        ("201710117081", "application_number_format"),  # no check character
        ("201710117081.", "application_number_format"),
        ("20171011708.17", "application_number_format"),
        ("2017101170811.7", "application_number_format"),  # 13 digits
        ("9911386.9", "application_number_format"),  # 7 digits
        ("201710117081.77", "application_number_format"),
        ("201710117081.A", "application_number_format"),
        ("2017A0117081.7", "application_number_format"),
        ("201710117081 .7", "application_number_format"),
        ("201710117081. 7", "application_number_format"),
        ("2017  1 0117081.7", "application_number_format"),  # only single spaces are allowed
        ("20 1710117081.7", "application_number_format"),
        ("US201710117081.7", "application_number_format"),
        ("CNZL201710117081.7", "application_number_format"),
        ("2017CN10117081.7", "application_number_format"),
        ("201710117081,7", "application_number_format"),
        ("٢٠١٧١٠١١٧٠٨١.٧", "application_number_format"),  # Arabic-Indic digits are not folded
        ("CN201710117081.7A", "application_number_format"),
        ("198410000001.0", "application_number_year"),
        ("000010000001.0", "application_number_year"),
        ("980010000001.0", "application_number_year"),
        ("04100001.0", "application_number_year"),  # legacy numbering ended in 2003
        ("84100001.0", "application_number_year"),
        ("201740117081.7", "application_number_type"),
        ("201700117081.7", "application_number_type"),
        ("201750117081.7", "application_number_type"),
        ("201770117081.7", "application_number_type"),
        ("99413861.9", "application_number_type"),
        ("99613861.9", "application_number_type"),
        ("201710117081.8", "application_number_checksum"),
        ("201710117081.X", "application_number_checksum"),
        ("201610311380.0", "application_number_checksum"),
        ("201710117018.7", "application_number_checksum"),  # transposed serial digits
        ("99113861.0", "application_number_checksum"),
        ("95115608.9", "application_number_checksum"),
    ],
)
def test_application_number_errors(raw: str, code: str) -> None:
    assert error_of(normalize_application_number, raw).code == code


def test_application_checksum_error_names_the_expected_digit(
    render: Callable[[ValidationError], str],
) -> None:
    error = error_of(normalize_application_number, "CN201710117081.8")
    assert error.params == {"expected": "7"}
    assert render(error) == "Invalid check digit: expected 7."
    assert error_of(normalize_application_number, "201610311380.1").params == {"expected": "X"}


@pytest.mark.parametrize(("raw", "expected"), REAL_APPLICATION_NUMBERS)
def test_every_wrong_check_character_is_rejected(raw: str, expected: str) -> None:
    body, _, check = expected.partition(".")
    for wrong in "0123456789X".replace(check, ""):
        assert error_of(normalize_application_number, f"{body}.{wrong}").code == "application_number_checksum"


@pytest.mark.parametrize(("raw", "expected"), REAL_APPLICATION_NUMBERS)
def test_every_single_serial_digit_error_is_detected(raw: str, expected: str) -> None:
    body, _, check = expected.partition(".")
    first_serial = 5 if len(body) == 12 else 3
    for position in range(first_serial, len(body)):
        digit = int(body[position])
        for replacement in {(digit + 1) % 10, (digit + 5) % 10}:
            altered = f"{body[:position]}{replacement}{body[position + 1 :]}.{check}"
            assert error_of(normalize_application_number, altered).code == "application_number_checksum"


def test_application_year_range_follows_the_calendar() -> None:
    this_year = datetime.date.today().year
    for year in (1985, this_year, this_year + 1):  # synthetic serial 0000001
        body = f"{year}10000001"
        number = f"{body}.{application_number_check_char(body)}"
        assert normalize_application_number(number) == number
    body = f"{this_year + 2}10000001"
    late = f"{body}.{application_number_check_char(body)}"
    error = error_of(normalize_application_number, late)
    assert error.code == "application_number_year"
    assert error.params == {"year": str(this_year + 2)}


@pytest.mark.parametrize("year", ["85", "99", "00", "03"])
def test_legacy_year_bounds(year: str) -> None:
    body = f"{year}100001"  # synthetic
    number = f"{body}.{application_number_check_char(body)}"
    assert normalize_application_number(number) == number


@pytest.mark.parametrize(
    "digits", ["", "1234567", "123456789", "20171011708", "2017101170812", "2017A0117081"]
)
def test_check_char_helper_rejects_bad_bodies(digits: str) -> None:
    with pytest.raises(ValueError):
        application_number_check_char(digits)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("CN201710117081.7", "invention"),
        ("201610311380.X", "invention"),
        ("201730033448.8", "design"),
        ("ZL 2018 2 0847903.7", "utility_model"),
        ("CN201880013080.0", "invention"),  # PCT, type 8
        ("ZL99113861.9", "invention"),
        ("201790000001.3", "utility_model"),  # synthetic PCT utility model, type 9
        ("99200001.7", "utility_model"),  # synthetic legacy utility model
        ("99300001.0", "design"),  # synthetic legacy design
    ],
)
def test_patent_type_from_application_number(raw: str, expected: str) -> None:
    assert patent_type_from_application_number(raw) == expected


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("2017101170817", "application_number_format"),
        ("201740117081.7", "application_number_type"),
        ("201710117081.8", "application_number_checksum"),
    ],
)
def test_patent_type_rejects_invalid_numbers(raw: str, code: str) -> None:
    assert error_of(patent_type_from_application_number, raw).code == code


# --- Patent publication number ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("CN114081026A", PublicationNumber("CN", "114081026", "A")),  # project data
        ("CN111504366B", PublicationNumber("CN", "111504366", "B")),  # project data
        ("CN215792497U", PublicationNumber("CN", "215792497", "U")),  # project data
        ("CN304218960S", PublicationNumber("CN", "304218960", "S")),  # design, for 201730033448.8
        ("CN106844774A", PublicationNumber("CN", "106844774", "A")),  # for 201710117081.7
        ("CN 116455754 B", PublicationNumber("CN", "116455754", "B")),  # for 202310397744.0
        ("cn112330675b", PublicationNumber("CN", "112330675", "B")),
        ("ＣＮ１１４０８１０２６Ａ", PublicationNumber("CN", "114081026", "A")),
        ("CN1234567C", PublicationNumber("CN", "1234567", "C")),  # synthetic, pre-2010 shape
        ("CN2345678Y", PublicationNumber("CN", "2345678", "Y")),  # synthetic, pre-2010 shape
        ("CN123456A", PublicationNumber("CN", "123456", "A")),  # synthetic, shortest accepted
    ],
)
def test_parse_publication_number(raw: str, expected: PublicationNumber) -> None:
    assert parse_publication_number(raw) == expected
    assert normalize_publication_number(raw) == f"{expected.country}{expected.number}{expected.kind}"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("CN114081026A", "CN114081026A"),
        ("  cn 215792497 u ", "CN215792497U"),
        ("CN 111504366B", "CN111504366B"),
        ("CN111504366 B", "CN111504366B"),
    ],
)
def test_normalize_publication_number(raw: str, expected: str) -> None:
    assert normalize_publication_number(raw) == expected
    assert str(parse_publication_number(raw)) == expected


def test_publication_number_is_frozen() -> None:
    number = parse_publication_number("CN114081026A")
    with pytest.raises(dataclasses.FrozenInstanceError):
        number.kind = "B"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("", "publication_number_format"),
        ("   ", "publication_number_format"),
        ("None", "publication_number_format"),
        ("CN114081026", "publication_number_format"),  # kind code missing
        ("114081026A", "publication_number_format"),  # country missing
        ("US114081026A", "publication_number_format"),
        ("ZL114081026A", "publication_number_format"),
        ("CN12345A", "publication_number_format"),  # 5 digits
        ("CN1234567890A", "publication_number_format"),  # 10 digits
        ("CN11408102GA", "publication_number_format"),
        ("CN114081026-A", "publication_number_format"),
        ("CN114081026.A", "publication_number_format"),
        ("CNA114081026", "publication_number_format"),
        ("CN114081026AB", "publication_number_format"),
        ("CN 114 081 026 A", "publication_number_format"),
        ("CN114081026D", "publication_number_kind"),
        ("CN114081026X", "publication_number_kind"),
        ("CN114081026A1", "publication_number_kind"),
        ("CN114081026B2", "publication_number_kind"),
    ],
)
def test_publication_number_errors(raw: str, code: str) -> None:
    assert error_of(normalize_publication_number, raw).code == code


def test_publication_kind_error_names_the_kind(render: Callable[[ValidationError], str]) -> None:
    error = error_of(parse_publication_number, "cn114081026d")
    assert error.params == {"kind": "D"}
    assert render(error) == "Unsupported publication kind code D."


# --- IPC symbol ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("H01M 4/525", "H01M 4/525"),
        ("G06F 16/00", "G06F 16/00"),
        ("A61K 36/9068", "A61K 36/9068"),
        ("H04L 9/06", "H04L 9/06"),
        ("G06N 3/08", "G06N 3/08"),
        ("H01M4/525", "H01M 4/525"),
        ("H04L9/06", "H04L 9/06"),
        ("H01M   4/525", "H01M 4/525"),
        ("h01m 4/525", "H01M 4/525"),
        ("  g06f16/00 ", "G06F 16/00"),
        ("H01M 4 / 525", "H01M 4/525"),
        ("H01M 04/525", "H01M 4/525"),
        ("Ｈ０１Ｍ　４／５２５", "H01M 4/525"),  # full-width with ideographic space
        ("H01M0004525000", "H01M 4/525"),  # WIPO zero-padded form
        ("G06F0016000000", "G06F 16/00"),
        ("A61K0036906800", "A61K 36/9068"),
        ("G06N0003080000", "G06N 3/08"),
        ("h04l0009060000", "H04L 9/06"),
        ("G06F 1/100000", "G06F 1/100000"),  # free form keeps the subgroup as written
    ],
)
def test_normalize_ipc(raw: str, expected: str) -> None:
    assert normalize_ipc(raw) == expected


def test_parse_ipc_levels() -> None:
    assert parse_ipc("h01m0004525000") == IpcSymbol(
        section="H", ipc_class="H01", subclass="H01M", main_group="H01M 4", symbol="H01M 4/525"
    )
    assert parse_ipc("A61K 36/9068") == IpcSymbol(
        section="A", ipc_class="A61", subclass="A61K", main_group="A61K 36", symbol="A61K 36/9068"
    )
    assert str(parse_ipc("G06F16/00")) == "G06F 16/00"


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "   ",
        "None",
        "I01M 4/525",  # sections are A-H
        "Z01M 4/525",
        "1H01M 4/525",
        "H1M 4/525",
        "H01 4/525",
        "H001M 4/525",
        "H00M 4/525",  # class 00 does not exist
        "H01M 0/00",  # neither does main group 0
        "H01M 4/5",  # subgroup has at least two digits
        "H01M 4/1234567",
        "H01M 12345/00",
        "H01M/525",
        "H01M 4",
        "H01M 4-525",
        "H01M 4/525 (2006.01)",  # version indicators are not accepted
        "H01M 4/525;G06F 16/00",
        "H01M0004525",
        "H01M000452500",
        "H01M00045250000",
        "H01M0000000000",
        "H01MA004525000",
        "H01M 4/52a",
    ],
)
def test_ipc_errors(raw: str) -> None:
    assert error_of(normalize_ipc, raw).code == "ipc_format"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("H01M", "H01M"), ("h01m", "H01M"), (" G06F ", "G06F"), ("Ａ６１Ｋ", "A61K"), ("A01B", "A01B")],
)
def test_normalize_ipc_subclass(raw: str, expected: str) -> None:
    assert normalize_ipc_subclass(raw) == expected


@pytest.mark.parametrize(
    "raw", ["", "  ", "H01", "H01M 4/525", "I01M", "H00M", "H01MM", "H1M", "01HM", "H01 M"]
)
def test_ipc_subclass_errors(raw: str) -> None:
    assert error_of(normalize_ipc_subclass, raw).code == "ipc_format"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("H01M 4/525", "H01M 4/525"),
        ("h01m4/525", "H01M 4/525"),
        ("G06F0016000000", "G06F 16/00"),
        ("H01M", "H01M"),
        (" g06n ", "G06N"),
    ],
)
def test_normalize_ipc_code_accepts_symbols_and_subclasses(raw: str, expected: str) -> None:
    assert normalize_ipc_code(raw) == expected


@pytest.mark.parametrize(
    "raw", ["", "  ", "H", "H01", "H01M 4", "H01M 4/", "H00M", "I01M 4/525", "H01M 0/00"]
)
def test_ipc_code_errors(raw: str) -> None:
    assert error_of(normalize_ipc_code, raw).code == "ipc_format"


# --- Administrative region code --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("330106", "330106"),  # 杭州市西湖区
        ("110108", "110108"),  # 北京市海淀区
        ("440305", "440305"),  # 深圳市南山区
        ("310115", "310115"),  # 上海市浦东新区
        ("650102", "650102"),  # 乌鲁木齐市天山区
        ("429004", "429004"),  # 仙桃市 (province-administered)
        ("500000", "500000"),  # 重庆市
        ("710000", "710000"),  # 台湾省
        ("810000", "810000"),  # 香港特别行政区
        ("820000", "820000"),  # 澳门特别行政区
        (" 330106 ", "330106"),
        ("３３０１０６", "330106"),
    ],
)
def test_normalize_region_code(raw: str, expected: str) -> None:
    assert normalize_region_code(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "   ",
        "None",
        "33010",
        "3301060",
        "33O106",
        "33-0106",
        "33 0106",
        "-33010",
        "٣٣٠١٠٦",  # Arabic-Indic digits
        "000000",
        "100000",
        "160000",
        "200000",
        "240000",
        "380000",
        "470000",
        "550000",
        "660000",
        "720000",
        "800000",
        "830000",
        "990000",
    ],
)
def test_region_code_errors(raw: str) -> None:
    assert error_of(normalize_region_code, raw).code == "region_format"


def test_region_province_error_names_the_prefix(render: Callable[[ValidationError], str]) -> None:
    error = error_of(normalize_region_code, "160101")
    assert error.params == {"province": "16"}
    assert render(error) == "16 is not a province-level division code."


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("330106", ("330000", "330100", "330106")),
        ("110108", ("110000", "110100", "110108")),
        ("429004", ("420000", "429000", "429004")),
        ("330100", ("330000", "330100", "330100")),
        ("330000", ("330000", "330000", "330000")),
        ("３３０１０６", ("330000", "330100", "330106")),
    ],
)
def test_region_parts(raw: str, expected: tuple[str, str, str]) -> None:
    assert region_parts(raw) == expected


@pytest.mark.parametrize("raw", ["", "33010", "160101"])
def test_region_parts_rejects_invalid_codes(raw: str) -> None:
    assert error_of(region_parts, raw).code == "region_format"


# --- Shared behaviour ------------------------------------------------------------------------------------

VALIDATORS = [
    (validate_uscc, normalize_uscc, "91330100716105852F", "91330100716105852A", "uscc_checksum"),
    (
        validate_application_number,
        normalize_application_number,
        "CN201710117081.7",
        "2017101170817",
        "application_number_format",
    ),
    (
        validate_publication_number,
        normalize_publication_number,
        "CN114081026A",
        "CN114081026D",
        "publication_number_kind",
    ),
    (validate_ipc, normalize_ipc, "H01M 4/525", "H01M", "ipc_format"),
    (validate_ipc_subclass, normalize_ipc_subclass, "H01M", "H01M 4/525", "ipc_format"),
    (validate_ipc_code, normalize_ipc_code, "H01M", "H01", "ipc_format"),
    (validate_region_code, normalize_region_code, "330106", "990000", "region_format"),
]


@pytest.mark.parametrize(("validator", "normalizer", "valid", "invalid", "code"), VALIDATORS)
def test_validators_return_none_or_raise(
    validator: Callable[[str], None], normalizer: Callable[[str], str], valid: str, invalid: str, code: str
) -> None:
    assert validator(valid) is None
    assert error_of(validator, invalid).code == code
    assert error_of(normalizer, invalid).code == code


@pytest.mark.parametrize(
    ("normalizer", "code"),
    [
        (normalize_uscc, "uscc_format"),
        (normalize_application_number, "application_number_format"),
        (normalize_publication_number, "publication_number_format"),
        (normalize_ipc, "ipc_format"),
        (normalize_ipc_subclass, "ipc_format"),
        (normalize_ipc_code, "ipc_format"),
        (normalize_region_code, "region_format"),
    ],
)
@pytest.mark.parametrize("value", [None, 330106, b"330106"])
def test_non_text_values_are_format_errors(
    normalizer: Callable[[str], str], code: str, value: object
) -> None:
    assert error_of(normalizer, value).code == code


@pytest.mark.parametrize(
    ("normalizer", "raw"),
    [
        (normalize_uscc, ""),
        (normalize_uscc, "A1330100716105852F"),
        (normalize_uscc, "91330100716105852A"),
        (normalize_uscc, None),
        (normalize_application_number, "2017101170817"),
        (normalize_application_number, "04100001.0"),
        (normalize_application_number, "201740117081.7"),
        (normalize_application_number, "201710117081.8"),
        (normalize_publication_number, "CN114081026"),
        (normalize_publication_number, "CN114081026D"),
        (normalize_ipc, "H01M"),
        (normalize_ipc_subclass, "H01"),
        (normalize_ipc_code, "H01"),
        (normalize_region_code, "33010"),
        (normalize_region_code, "160101"),
    ],
)
def test_every_error_message_renders(
    normalizer: Callable[[str], str], raw: str, render: Callable[[ValidationError], str]
) -> None:
    message = render(error_of(normalizer, raw))
    assert message.endswith(".")
    assert "%(" not in message


def test_module_imports_without_django_settings() -> None:
    env = {key: value for key, value in os.environ.items() if key != "DJANGO_SETTINGS_MODULE"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PROJECT_ROOT), env.get("PYTHONPATH")]))
    script = (
        "import market.common.validators as v\n"
        "from django.conf import settings\n"
        "assert not settings.configured\n"
        "assert v.normalize_ipc('h01m4/525') == 'H01M 4/525'\n"
        "assert not settings.configured\n"
    )
    command = [sys.executable, "-c", script]
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
