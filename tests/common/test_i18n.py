"""Chinese by default, English on request: our own messages, the error envelope and what Django, DRF and
Simple JWT say; and the shipped catalog (every entry translated, the committed .mo compiled from the .po,
every string the code marks present in it).

Refreshing the catalog after changing or adding a marked string, from the repository root:
    .venv/bin/python manage.py makemessages -l zh_Hans --no-obsolete
    (translate the new empty `msgstr` entries, clear any `#, fuzzy` flag in market/locale/zh_Hans/...)
    .venv/bin/python manage.py compilemessages -l zh_Hans --ignore .venv
"""

import ast
import gettext
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.contrib import admin
from django.contrib.admin.utils import label_for_field
from django.contrib.auth.password_validation import MinimumLengthValidator
from django.test import Client, RequestFactory
from django.utils import translation
from stdnum.cn import uscc

from market.catalog.models import Achievement, Demand, Patent
from market.common.upstream_messages import UPSTREAM_MESSAGES
from market.common.validators import application_number_check_char
from market.trading.models import Deal
from tests import factories

REPO_ROOT = Path(__file__).resolve().parents[2]
LC_MESSAGES = REPO_ROOT / "market" / "locale" / "zh_Hans" / "LC_MESSAGES"
#: source trees `makemessages` extracts into market/locale (installed apps of this repository)
SOURCE_ROOTS = (REPO_ROOT / "market", REPO_ROOT / "services")

ZH = None  # no Accept-Language header: the default language applies
CHINESE = [ZH, "zh-hans", "zh-CN,zh;q=0.9,en;q=0.5"]
ENGLISH = ["en", "en-US,en;q=0.8"]
ZH_INVALID = "提交的数据有误。"
EN_INVALID = "The submitted data is not valid."


def _headers(accept_language: str | None) -> dict[str, str]:
    return {} if accept_language is None else {"HTTP_ACCEPT_LANGUAGE": accept_language}


# ---- responses -----------------------------------------------------------------------------------------


def _bad_credit_code() -> tuple[str, str]:
    """A credit code whose last character is wrong, and the character it should be."""
    valid = factories.credit_code(987654)
    expected = uscc.calc_check_digit(valid[:-1])
    return valid[:-1] + ("0" if expected != "0" else "1"), expected


def _registration(**overrides: str) -> dict[str, str]:
    return {
        "name": "杭州新材料科技有限公司",
        "org_type": "enterprise",
        "credit_code": factories.credit_code(987653),
        "county_code": "330106",
        "admin_username": "new_admin",
        "admin_password": "Xk8-market-2026",
        **overrides,
    }


@pytest.mark.parametrize(
    ("accept_language", "envelope", "template", "content_language"),
    [
        *[(lang, ZH_INVALID, "校验码错误：应为 {}。", "zh-hans") for lang in CHINESE],
        *[(lang, EN_INVALID, "Invalid check character: expected {}.", "en") for lang in ENGLISH],
    ],
)
def test_organization_credit_code_error_follows_accept_language(
    db, api, accept_language, envelope, template, content_language
):
    credit_code, expected = _bad_credit_code()
    response = api(None).post(
        "/api/v1/orgs/", _registration(credit_code=credit_code), format="json", **_headers(accept_language)
    )

    assert response.status_code == 400
    assert response.json()["error"] == {
        "code": "invalid",
        "message": envelope,
        "fields": {"credit_code": [template.format(expected)]},
    }
    assert response["Content-Language"] == content_language
    assert "Accept-Language" in response["Vary"]  # caches must not serve one language to the other


@pytest.mark.parametrize(
    ("accept_language", "envelope", "template"),
    [(ZH, ZH_INVALID, "校验位错误：应为 {}。"), ("en", EN_INVALID, "Invalid check digit: expected {}.")],
)
def test_patent_application_number_check_digit_error_follows_accept_language(
    cast, api, accept_language, envelope, template
):
    body = "201710117081"
    expected = application_number_check_char(body)
    wrong = "0" if expected != "0" else "1"
    response = api(cast.uni_member).post(
        "/api/v1/patents/",
        {"application_number": f"{body}.{wrong}", "title": "一种锂电池正极材料", "filing_date": "2017-03-01"},
        format="json",
        **_headers(accept_language),
    )

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["message"] == envelope
    assert error["fields"] == {"application_number": [template.format(expected)]}


@pytest.mark.parametrize(
    ("accept_language", "envelope", "required"),
    [(ZH, ZH_INVALID, "该字段是必填项。"), ("en", EN_INVALID, "This field is required.")],
)
def test_drf_field_errors_follow_accept_language(cast, api, accept_language, envelope, required):
    response = api(cast.uni_member).post("/api/v1/patents/", {}, format="json", **_headers(accept_language))

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["message"] == envelope
    assert error["fields"]["title"] == [required]
    assert error["fields"]["filing_date"] == [required]


@pytest.mark.parametrize(
    ("accept_language", "too_short"),
    [
        (ZH, "密码长度太短。密码必须包含至少 8 个字符。"),
        ("en", "This password is too short. It must contain at least 8 characters."),
    ],
)
def test_django_password_validation_follows_accept_language(db, api, accept_language, too_short):
    """Django 5.2's own zh_Hans catalog lacks this message; market/common/upstream_messages.py fills it."""
    response = api(None).post(
        "/api/v1/orgs/", _registration(admin_password="xQ7#"), format="json", **_headers(accept_language)
    )

    assert response.status_code == 400
    assert too_short in response.json()["error"]["fields"]["admin_password"]


@pytest.mark.parametrize(
    ("accept_language", "message"),
    [(ZH, "找不到指定凭据对应的有效用户"), ("en", "No active account found with the given credentials")],
)
def test_simplejwt_errors_follow_accept_language(cast, api, accept_language, message):
    response = api(None).post(
        "/api/v1/auth/token/",
        {"username": cast.uni_member.username, "password": "not-the-password"},
        format="json",
        **_headers(accept_language),
    )

    assert response.status_code == 401
    assert response.json()["error"]["message"] == message


@pytest.mark.parametrize(
    ("accept_language", "message"),
    [(ZH, "身份认证信息未提供。"), ("en", "Authentication credentials were not provided.")],
)
def test_drf_authentication_error_follows_accept_language(db, api, accept_language, message):
    response = api(None).get("/api/v1/users/me/", **_headers(accept_language))

    assert response.status_code == 401
    assert response.json()["error"] == {"code": "not_authenticated", "message": message, "fields": {}}


@pytest.mark.parametrize(
    ("accept_language", "message"),
    [
        (ZH, "只有本机构成员可以查看机构成员名单。"),
        ("en", "Only members see who else belongs to the organization."),
    ],
)
def test_organization_members_refusal_follows_accept_language(cast, api, accept_language, message):
    response = api(cast.ent_member).get(
        f"/api/v1/orgs/{cast.university.pk}/members/", **_headers(accept_language)
    )

    assert response.status_code == 403
    assert response.json()["error"]["message"] == message


@pytest.mark.parametrize(
    ("accept_language", "message"),
    [
        (ZH, "该信息当前状态为“已发布”，无法执行此操作。"),
        ("en", "This action is not possible while the listing is Published."),
    ],
)
def test_interpolated_status_is_translated_too(cast, api, accept_language, message):
    patent = factories.patent(cast.university)  # published

    response = api(cast.uni_member).post(f"/api/v1/patents/{patent.pk}/submit/", **_headers(accept_language))

    assert response.status_code == 409
    assert response.json()["error"] == {"code": "invalid_transition", "message": message, "fields": {}}


# ---- the admin ------------------------------------------------------------------------------------------

CJK = re.compile(r"[\u4e00-\u9fff]")


def _column_headers(html: str) -> list[str]:
    """The sortable column titles of an admin changelist."""
    return [
        re.sub(r"<[^>]+>", "", header).strip()
        for header in re.findall(r'<div class="text">(.*?)</div>', html)
    ]


def test_the_deal_admin_shows_the_deals_stage_and_the_contract_registration_number(cast):
    """Both msgids were shared with the catalog's achievement fields, so the deals' columns read 成熟阶段
    (an achievement's maturity) and 成果登记号 (an achievement's registration)."""
    Deal.objects.create(
        title="高镍正极材料包覆技术",
        seller=cast.university,
        buyer=cast.enterprise,
        amount=450000,
        transaction_mode="transfer",
        registration_number="330106-2026-0001",
    )
    superuser = factories.user(None, username="root_admin", is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(superuser)

    deals = client.get("/admin/trading/deal/")
    achievements = client.get("/admin/catalog/achievement/", {"stage__exact": "lab"})

    assert deals.status_code == 200
    headers = _column_headers(deals.content.decode())
    assert "交易阶段" in headers and "合同登记号" in headers, headers
    assert "成熟阶段" not in deals.content.decode() and "成果登记号" not in deals.content.decode()
    assert "成熟阶段" in achievements.content.decode()  # the filter of the achievements keeps its meaning


def _admin_labels(model_admin: admin.ModelAdmin, request) -> dict[str, str]:
    """Every label an administrator reads on a model's admin pages: columns, filters, form fields, read-only
    fields and those of the inlines, and the model's own names."""
    model = model_admin.model
    labels = {
        "verbose_name": str(model._meta.verbose_name),
        "verbose_name_plural": str(model._meta.verbose_name_plural),
    }
    labels |= {
        f"column {name}": str(label_for_field(name, model, model_admin))
        for name in model_admin.get_list_display(request)
    }
    labels |= {
        f"filter {name}": str(model._meta.get_field(name).verbose_name)
        for name in model_admin.get_list_filter(request)
    }
    labels |= {
        f"field {name}": str(field.label) for name, field in model_admin.get_form(request).base_fields.items()
    }
    for owner in (model_admin, *model_admin.get_inline_instances(request)):
        labels |= {
            f"{owner.model.__name__} {name}": str(label_for_field(name, owner.model, owner))
            for name in owner.get_readonly_fields(request)
        }
    return labels


#: words a trading label may share with a catalog field, because they mean the same there
SHARED_WORDS = {
    "标题",
    "状态",
    "版本",
    "创建时间",
    "更新时间",
    "创建人",
    "专利",
    "科技成果",
    "技术需求",
    "所属机构",
}


def test_every_trading_admin_label_is_chinese_and_none_borrows_a_catalog_meaning(cast):
    """The check of item 13 over the whole trading admin: a label must be translated (a field without a
    verbose name showed as English, e.g. "Seller"), and a label that is also a catalog field's label must be a
    word that means the same in both places; anything else is a msgid that needs its own context."""
    request = RequestFactory().get("/admin/")
    request.user = factories.user(None, username="root_admin", is_staff=True, is_superuser=True)
    with translation.override("zh-hans"):
        catalog_labels = {
            str(field.verbose_name)
            for model in (Patent, Achievement, Demand)
            for field in model._meta.get_fields()
            if hasattr(field, "verbose_name")
        }
        trading = {
            f"{model.__name__} {where}": label
            for model, model_admin in admin.site._registry.items()
            if model._meta.app_label == "trading"
            for where, label in _admin_labels(model_admin, request).items()
        }
    assert len(trading) > 60
    assert {where: label for where, label in trading.items() if not CJK.search(label)} == {}
    borrowed = {
        where: label
        for where, label in trading.items()
        if label in catalog_labels and label not in SHARED_WORDS
    }
    assert borrowed == {}


# ---- the catalog -----------------------------------------------------------------------------------------


@dataclass
class Entry:
    msgid: str = ""
    msgctxt: str | None = None
    msgid_plural: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)

    @property
    def key(self) -> str:
        """The key GNU gettext uses: context and msgid joined by EOT."""
        return self.msgid if self.msgctxt is None else f"{self.msgctxt}\x04{self.msgid}"


def _parse_po(path: Path) -> list[Entry]:
    """A .po reader for what msgmerge writes: comments, flags, msgctxt, msgid(_plural), msgstr([n]) and
    continuation lines. Obsolete (`#~`) entries are skipped: msgfmt leaves them out of the .mo too."""
    entries: list[Entry] = []
    entry, target = Entry(), None
    for line in [*path.read_text(encoding="utf-8").splitlines(), ""]:
        if not line.strip():
            if target is not None:
                entries.append(entry)
            entry, target = Entry(), None
        elif line.startswith("#,"):
            entry.flags.update(flag.strip() for flag in line[2:].split(","))
        elif line.startswith("#"):
            continue
        elif line.startswith('"'):
            value = ast.literal_eval(line)
            if isinstance(target, int):
                entry.msgstr[target] += value
            else:
                setattr(entry, target, getattr(entry, target) + value)
        else:
            keyword, _, literal = line.partition(" ")
            value = ast.literal_eval(literal)
            plural_index = re.fullmatch(r"msgstr\[(\d+)\]", keyword)
            if plural_index:
                target = int(plural_index[1])
                entry.msgstr[target] = value
            elif keyword == "msgstr":
                target = 0
                entry.msgstr[0] = value
            else:
                target = keyword
                setattr(entry, keyword, value)
    return entries


@pytest.fixture(scope="module")
def po_entries() -> list[Entry]:
    entries = _parse_po(LC_MESSAGES / "django.po")
    assert entries[0].msgid == ""  # the header
    return entries[1:]


def test_catalog_header_is_final():
    header = _parse_po(LC_MESSAGES / "django.po")[0]
    assert "fuzzy" not in header.flags  # msgfmt drops a fuzzy header, and with it the charset
    assert "Content-Type: text/plain; charset=UTF-8" in header.msgstr[0]
    assert "Plural-Forms: nplurals=1; plural=0;" in header.msgstr[0]


def test_every_entry_is_translated_and_none_is_fuzzy(po_entries):
    assert len(po_entries) > 100
    assert [entry.msgid for entry in po_entries if "fuzzy" in entry.flags] == []
    assert [entry.msgid for entry in po_entries if not all(entry.msgstr.values())] == []


#: language names are shown as their speakers write them
NOT_CHINESE = {"English"}


def test_translations_are_chinese(po_entries):
    untranslated = [
        entry.msgid
        for entry in po_entries
        if entry.msgid not in NOT_CHINESE
        and not all(re.search(r"[\u4e00-\u9fff]", text) for text in entry.msgstr.values())
    ]
    assert untranslated == []


PLACEHOLDER = re.compile(r"%(?:\([A-Za-z_]\w*\))?[-#0 +]*\d*(?:\.\d+)?[diouxXeEfFgGcrs%]")


def test_placeholders_survive_translation(po_entries):
    broken = [
        (entry.msgid, text)
        for entry in po_entries
        if "python-format" in entry.flags
        for text in entry.msgstr.values()
        if sorted(PLACEHOLDER.findall(text)) != sorted(PLACEHOLDER.findall(entry.msgid))
    ]
    assert broken == []


def test_compiled_catalog_matches_the_po(po_entries):
    """The committed .mo is what `compilemessages` makes of the committed .po (so machines without gettext
    serve the same translations)."""
    with (LC_MESSAGES / "django.mo").open("rb") as mo_file:
        compiled = gettext.GNUTranslations(mo_file)
    expected: dict[object, str] = {}
    for entry in po_entries:
        if entry.msgid_plural is None:
            expected[entry.key] = entry.msgstr[0]
        else:
            expected.update({(entry.key, index): text for index, text in entry.msgstr.items()})
    catalog = {key: value for key, value in compiled._catalog.items() if key != ""}  # "" is the header

    assert catalog == expected


_GETTEXT_FUNCTIONS = {
    "gettext": 0,
    "gettext_lazy": 0,
    "gettext_noop": 0,
    "ngettext": 0,
    "ngettext_lazy": 0,
    "pgettext": 1,
    "pgettext_lazy": 1,
    "npgettext": 1,
    "npgettext_lazy": 1,
}


def _marked_strings(path: Path) -> set[str]:
    """Catalog keys of the literal strings a module passes to Django's gettext functions, under whatever
    name it imported them (`_` usually) or through `translation.<function>`."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    aliases = {
        alias.asname or alias.name: alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module == "django.utils.translation"
        for alias in node.names
        if alias.name in _GETTEXT_FUNCTIONS
    }
    keys = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        if isinstance(node.func, ast.Name):
            function = aliases.get(node.func.id)
        elif isinstance(node.func, ast.Attribute) and getattr(node.func.value, "id", None) == "translation":
            function = node.func.attr if node.func.attr in _GETTEXT_FUNCTIONS else None
        else:
            function = None
        if function is None:
            continue
        position = _GETTEXT_FUNCTIONS[function]
        literals = [arg.value for arg in node.args[: position + 1] if isinstance(arg, ast.Constant)]
        if len(literals) == position + 1 and all(isinstance(value, str) for value in literals):
            keys.add(literals[-1] if position == 0 else f"{literals[0]}\x04{literals[1]}")
    return keys


def test_every_marked_string_is_in_the_catalog(po_entries):
    """Catches a new or reworded message that nobody ran `makemessages` for (see the module docstring)."""
    in_catalog = {entry.key for entry in po_entries}
    marked = {
        (key, str(path.relative_to(REPO_ROOT)))
        for root in SOURCE_ROOTS
        for path in sorted(root.rglob("*.py"))
        for key in _marked_strings(path)
    }
    assert any(key == "The submitted data is not valid." for key, _ in marked)  # the scan sees our code
    assert sorted((key, where) for key, where in marked if key not in in_catalog) == []


def test_upstream_messages_missing_from_their_catalogs_are_translated(po_entries):
    singles = [message for message in UPSTREAM_MESSAGES if isinstance(message, str)]
    with translation.override("zh-hans"):
        assert MinimumLengthValidator(min_length=10).get_error_message() == (
            "密码长度太短。密码必须包含至少 10 个字符。"
        )
        assert [message for message in singles if translation.gettext(message) == message] == []
    with translation.override("en"):
        assert MinimumLengthValidator(min_length=10).get_error_message() == (
            "This password is too short. It must contain at least 10 characters."
        )
