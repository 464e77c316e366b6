"""Validation and normalisation of Chinese market identifiers.

Every identifier is stored in one canonical spelling so that uniqueness checks, joins and look-ups work no
matter how a user or an import typed it. Each `normalize_*` function returns that spelling or raises
Django's `ValidationError` with a stable `code` (clients branch on the code, never on the message); each
`validate_*` function is the same check shaped as a model-field validator.

The module needs no configured Django settings: messages are lazy and only rendered when displayed.

Accepted everywhere: surrounding whitespace, lower case, and full-width ASCII (U+FF01..U+FF5E, U+3000),
which Chinese input methods produce and which is indistinguishable on screen from the ASCII form.
"""

import datetime
import re
from dataclasses import dataclass
from typing import Final

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from stdnum import exceptions as stdnum_exceptions
from stdnum.cn import uscc

__all__ = [
    "IpcSymbol",
    "PublicationNumber",
    "application_number_check_char",
    "normalize_application_number",
    "normalize_ipc",
    "normalize_ipc_code",
    "normalize_ipc_subclass",
    "normalize_publication_number",
    "normalize_region_code",
    "normalize_uscc",
    "parse_ipc",
    "parse_publication_number",
    "patent_type_from_application_number",
    "region_parts",
    "validate_application_number",
    "validate_calendar_date",
    "validate_ipc",
    "validate_ipc_code",
    "validate_ipc_subclass",
    "validate_publication_number",
    "validate_region_code",
    "validate_uscc",
]

# Full-width ASCII variants and the ideographic space, mapped to plain ASCII.
_FULL_WIDTH: Final = {0x3000: 0x20} | {point: point - 0xFEE0 for point in range(0xFF01, 0xFF5F)}


def _prepare(value: object, code: str) -> str:
    """Fold full-width forms, trim and upper-case, so that every later check sees plain ASCII."""
    if not isinstance(value, str):
        raise ValidationError(_("Expected a text value."), code=code)
    return value.translate(_FULL_WIDTH).strip().upper()


# --- Unified social credit code (统一社会信用代码) ---------------------------------------------------------


def normalize_uscc(value: str) -> str:
    """Return the 18-character upper-case form of a unified social credit code.

    python-stdnum does the real work; this maps its exceptions onto form-friendly errors. Spaces and
    hyphens inside the code are dropped (stdnum's `compact`).
    """
    text = _prepare(value, "uscc_format")
    try:
        return uscc.validate(text)
    except stdnum_exceptions.InvalidLength as exc:
        raise ValidationError(
            _("A unified social credit code has 18 characters, not %(length)d."),
            code="uscc_length",
            params={"length": len(uscc.compact(text))},
        ) from exc
    except stdnum_exceptions.InvalidChecksum as exc:
        raise ValidationError(
            _("Invalid check character: expected %(expected)s."),
            code="uscc_checksum",
            params={"expected": uscc.calc_check_digit(text)},
        ) from exc
    except stdnum_exceptions.ValidationError as exc:
        raise ValidationError(
            _(
                "A unified social credit code is 8 digits followed by 10 digits or capital letters "
                "(not I, O, S, V or Z)."
            ),
            code="uscc_format",
        ) from exc


def validate_uscc(value: str) -> None:
    """Model-field validator for unified social credit codes."""
    normalize_uscc(value)


# --- Patent application number (专利申请号) ---------------------------------------------------------------

# Type digit -> patent type. 8 and 9 are PCT applications entering the Chinese national phase.
_APPLICATION_TYPES: Final = {
    "1": "invention",
    "2": "utility_model",
    "3": "design",
    "8": "invention",
    "9": "utility_model",
}
_APPLICATION_PREFIX_RE: Final = re.compile(r"\A(?:CN|ZL)\s*")
# One optional space between year, type and serial is allowed by the CNIPA writing rules
# ("ZL 2018 2 0847903.7"); a dot before the check character is mandatory.
_APPLICATION_MODERN_RE: Final = re.compile(
    r"(?P<year>[0-9]{4}) ?(?P<type>[0-9]) ?(?P<serial>[0-9]{7})\.(?P<check>[0-9X])"
)
_APPLICATION_LEGACY_RE: Final = re.compile(
    r"(?P<year>[0-9]{2}) ?(?P<type>[0-9]) ?(?P<serial>[0-9]{5})\.(?P<check>[0-9X])"
)
_FIRST_YEAR: Final = 1985  # The Patent Law came into force on 1985-04-01.
_LEGACY_YEARS: Final = frozenset({*(f"{year:02d}" for year in range(85, 100)), "00", "01", "02", "03"})


def application_number_check_char(digits: str) -> str:
    """Check character of a patent application number body (the 8 or 12 digits before the dot).

    Digits are weighted 2, 3, ..., 9, 2, 3, ... from the left, summed, taken mod 11; 10 is written `X`.
    """
    if not re.fullmatch(r"[0-9]{8}|[0-9]{12}", digits):
        raise ValueError("expected the 8 or 12 digits before the dot")
    remainder = sum(int(digit) * (2 + index % 8) for index, digit in enumerate(digits)) % 11
    return "X" if remainder == 10 else str(remainder)


def normalize_application_number(value: str) -> str:
    """Return `YYYYT#######.C` (since 2003) or `YYT#####.C` (1985-2003), without `CN`/`ZL` prefix.

    The check character is required: without the dot a trailing digit could be either part of the serial
    or the check character, so such input is rejected rather than guessed.
    """
    text = _APPLICATION_PREFIX_RE.sub("", _prepare(value, "application_number_format"), count=1)
    match = _APPLICATION_MODERN_RE.fullmatch(text)
    if match:
        year = match["year"]
        if not _FIRST_YEAR <= int(year) <= datetime.date.today().year + 1:
            raise ValidationError(
                _("The application year %(year)s is out of range."),
                code="application_number_year",
                params={"year": year},
            )
    else:
        match = _APPLICATION_LEGACY_RE.fullmatch(text)
        if not match:
            raise ValidationError(
                _("Enter a patent application number such as 201710117081.7 (or 99113861.9 before 2004)."),
                code="application_number_format",
            )
        year = match["year"]
        if year not in _LEGACY_YEARS:
            raise ValidationError(
                _("The application year %(year)s is out of range."),
                code="application_number_year",
                params={"year": year},
            )
    if match["type"] not in _APPLICATION_TYPES:
        raise ValidationError(
            _("Unknown patent application type digit %(type)s."),
            code="application_number_type",
            params={"type": match["type"]},
        )
    body = f"{year}{match['type']}{match['serial']}"
    expected = application_number_check_char(body)
    if match["check"] != expected:
        raise ValidationError(
            _("Invalid check digit: expected %(expected)s."),
            code="application_number_checksum",
            params={"expected": expected},
        )
    return f"{body}.{expected}"


def validate_application_number(value: str) -> None:
    """Model-field validator for patent application numbers."""
    normalize_application_number(value)


def patent_type_from_application_number(value: str) -> str:
    """Return "invention", "utility_model" or "design", read from the type digit of the number."""
    body = normalize_application_number(value).partition(".")[0]
    return _APPLICATION_TYPES[body[-8] if len(body) == 12 else body[-6]]


# --- Patent publication number (公开号 / 公告号) -----------------------------------------------------------

# A: published application, B: granted invention, U: utility model, S: design (all since 2010);
# C: granted invention and Y: utility model (before 2010), kept as given.
_PUBLICATION_KINDS: Final = frozenset({"A", "B", "C", "U", "Y", "S"})
_PUBLICATION_RE: Final = re.compile(r"CN\s*(?P<number>[0-9]{6,9})\s*(?P<kind>[A-Z][0-9]?)")


@dataclass(frozen=True, slots=True)
class PublicationNumber:
    """A CNIPA publication number split into its parts; `str()` gives the canonical form."""

    country: str
    number: str
    kind: str

    def __str__(self) -> str:
        return f"{self.country}{self.number}{self.kind}"


def parse_publication_number(value: str) -> PublicationNumber:
    """Split `CN114081026A` (spaces and lower case tolerated) into country, number and kind code."""
    match = _PUBLICATION_RE.fullmatch(_prepare(value, "publication_number_format"))
    if not match:
        raise ValidationError(
            _("Enter a publication number such as CN114081026A: CN, 6 to 9 digits and a kind code."),
            code="publication_number_format",
        )
    if match["kind"] not in _PUBLICATION_KINDS:
        raise ValidationError(
            _("Unsupported publication kind code %(kind)s."),
            code="publication_number_kind",
            params={"kind": match["kind"]},
        )
    return PublicationNumber(country="CN", number=match["number"], kind=match["kind"])


def normalize_publication_number(value: str) -> str:
    """Return the publication number as `CN` + digits + kind code, upper case without spaces."""
    return str(parse_publication_number(value))


def validate_publication_number(value: str) -> None:
    """Model-field validator for patent publication numbers."""
    parse_publication_number(value)


# --- IPC symbol (国际专利分类号) ----------------------------------------------------------------------------

_IPC_SUBCLASS: Final = r"(?P<section>[A-H])(?P<class_digits>[0-9]{2})(?P<letter>[A-Z])"
_IPC_SUBCLASS_RE: Final = re.compile(_IPC_SUBCLASS)
_IPC_RE: Final = re.compile(_IPC_SUBCLASS + r"\s*(?P<main>[0-9]{1,4})\s*/\s*(?P<sub>[0-9]{2,6})")
# WIPO master-file layout: subclass, main group right-aligned in 4 digits, subgroup left-aligned in 6.
_IPC_PADDED_RE: Final = re.compile(_IPC_SUBCLASS + r"(?P<main>[0-9]{4})(?P<sub>[0-9]{6})")


@dataclass(frozen=True, slots=True)
class IpcSymbol:
    """An IPC symbol with each level of the hierarchy, for grouping and prefix searches."""

    section: str  # "H"
    ipc_class: str  # "H01"
    subclass: str  # "H01M"
    main_group: str  # "H01M 4"
    symbol: str  # "H01M 4/525"

    def __str__(self) -> str:
        return self.symbol


def _ipc_format_error() -> ValidationError:
    return ValidationError(
        _("Enter an IPC symbol such as H01M 4/525: section A-H, class, subclass, group/subgroup."),
        code="ipc_format",
    )


def parse_ipc(value: str) -> IpcSymbol:
    """Parse `H01M 4/525`, `h01m4/525`, `H01M   4/525` or the WIPO form `H01M0004525000`."""
    text = _prepare(value, "ipc_format")
    match = _IPC_RE.fullmatch(text)
    if match:
        subgroup = match["sub"]
    else:
        match = _IPC_PADDED_RE.fullmatch(text)
        if not match:
            raise _ipc_format_error()
        # Trailing zeros are padding; a subgroup always keeps at least two digits ("/00" is the main group).
        subgroup = match["sub"].rstrip("0").ljust(2, "0")
    if match["class_digits"] == "00" or int(match["main"]) == 0:
        raise _ipc_format_error()
    ipc_class = f"{match['section']}{match['class_digits']}"
    subclass = f"{ipc_class}{match['letter']}"
    main_group = f"{subclass} {int(match['main'])}"
    return IpcSymbol(
        section=match["section"],
        ipc_class=ipc_class,
        subclass=subclass,
        main_group=main_group,
        symbol=f"{main_group}/{subgroup}",
    )


def normalize_ipc(value: str) -> str:
    """Return the IPC symbol in the `H01M 4/525` form (one space, no padding)."""
    return parse_ipc(value).symbol


def validate_ipc(value: str) -> None:
    """Model-field validator for full IPC symbols."""
    parse_ipc(value)


def normalize_ipc_subclass(value: str) -> str:
    """Return a bare IPC subclass such as `H01M`, for fields that classify only down to the subclass."""
    match = _IPC_SUBCLASS_RE.fullmatch(_prepare(value, "ipc_format"))
    if not match or match["class_digits"] == "00":
        raise ValidationError(
            _("Enter an IPC subclass such as H01M: section A-H, two digits and a letter."),
            code="ipc_format",
        )
    return match.group()


def validate_ipc_subclass(value: str) -> None:
    """Model-field validator for IPC subclasses."""
    normalize_ipc_subclass(value)


def normalize_ipc_code(value: str) -> str:
    """Return a full IPC symbol (`H01M 4/525`) or a bare subclass (`H01M`), whichever `value` is.

    For lists that mix precise classifications with coarse hints; both forms are prefixes of the full
    symbols they cover, so prefix searches work on either.
    """
    try:
        return normalize_ipc(value)
    except ValidationError:
        pass
    try:
        return normalize_ipc_subclass(value)
    except ValidationError:
        pass
    raise ValidationError(
        _("Enter an IPC symbol such as H01M 4/525 or a subclass such as H01M."),
        code="ipc_format",
    )


def validate_ipc_code(value: str) -> None:
    """Model-field validator for IPC symbols or subclasses."""
    normalize_ipc_code(value)


# --- Administrative region code (行政区划代码) -----------------------------------------------------------

# Province-level codes of GB/T 2260 (71 Taiwan, 81 Hong Kong, 82 Macao).
_PROVINCE_CODES: Final = frozenset(
    f"{code}"
    for code in (
        *range(11, 16),
        *range(21, 24),
        *range(31, 38),
        *range(41, 47),
        *range(50, 55),
        *range(61, 66),
        71,
        81,
        82,
    )
)


def normalize_region_code(value: str) -> str:
    """Return a six-digit administrative division code whose first two digits name a real province.

    Only the province level is checked: county codes change every year and a stale list would reject
    valid new districts.
    """
    text = _prepare(value, "region_format")
    if not re.fullmatch(r"[0-9]{6}", text):
        raise ValidationError(
            _("An administrative division code has six digits, such as 330106."),
            code="region_format",
        )
    if text[:2] not in _PROVINCE_CODES:
        raise ValidationError(
            _("%(province)s is not a province-level division code."),
            code="region_format",
            params={"province": text[:2]},
        )
    return text


def validate_region_code(value: str) -> None:
    """Model-field validator for administrative division codes."""
    normalize_region_code(value)


def region_parts(code: str) -> tuple[str, str, str]:
    """Return the (province, city, county) codes containing `code`, e.g. 330000, 330100, 330106.

    For a province-level code all three are the province; for a city-level code the last two are the city.
    """
    code = normalize_region_code(code)
    return f"{code[:2]}0000", f"{code[:4]}00", code


def region_level(code: str) -> str:
    """Which organization column a region code is compared with: `province_code` for 330000, `city_code` for
    330100, `county_code` for 330106 (the level a code names, by its trailing zeros)."""
    if code.endswith("0000"):
        return "province_code"
    if code.endswith("00"):
        return "city_code"
    return "county_code"


# --- Dates --------------------------------------------------------------------------------------------------

#: The calendar the market accepts. A date outside it is a typing error (9980 for 1980), and date arithmetic
#: on it (a patent expires 20 years after filing) would leave the calendar Python and PostgreSQL share.
EARLIEST_DATE: Final = datetime.date(1900, 1, 1)
LATEST_DATE: Final = datetime.date(2199, 12, 31)


def validate_calendar_date(value: datetime.date) -> None:
    """Model-field and API validator: the date (or the day of an instant, in UTC) lies within the market's
    calendar."""
    day = value.astimezone(datetime.UTC).date() if isinstance(value, datetime.datetime) else value
    if not EARLIEST_DATE <= day <= LATEST_DATE:
        raise ValidationError(
            _("Use a date between %(earliest)s and %(latest)s."),
            code="date_range",
            params={"earliest": EARLIEST_DATE.isoformat(), "latest": LATEST_DATE.isoformat()},
        )
