"""`manage.py seed_market` against the real sample data (../shared/data): counts, idempotence, validity of
every imported record, fidelity to the source files, and the demo accounts it creates."""

import csv
import json
from datetime import date, timedelta
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from market.accounts.models import Organization, OrganizationType, OrgRole, User
from market.catalog.models import Achievement, Demand, Expert, LegalStatus, ListingStatus, Patent
from market.common.validators import normalize_application_number
from market.demo.seeding import DEMO_USERS
from market.events.models import OutboxEvent
from market.trading.models import ContractType, Deal
from services.stats.recompute import stats_recompute
from tests.stats.brute import brute_monthly, kept_monthly
from tests.stats.helpers import stats_catch_up

pytestmark = pytest.mark.django_db

DATA_DIR = Path(settings.MARKET_SAMPLE_DATA_DIR)
LIMIT = 200
PATENTS_TOTAL = 8766
ACHIEVEMENTS_TOTAL = 1000
DEMO_DEMANDS = 6
DEMO_EXPERTS = 4
#: the invented buyers of the demo deals (data/deals.toml), one inactive account each
DEMO_BUYERS = 4
#: a limited import trades half its listings; a full one the configured count
LIMITED_DEALS = LIMIT
DEAL_FACTS = 3
TERM_YEARS = {"invention": 20, "utility_model": 10, "design": 15}
#: where the synthetic application number's type digit comes from: the real publication's kind code
KIND_TYPE_DIGIT = {"A": "1", "B": "1", "U": "2"}
KIND_PATENT_TYPE = {"A": "invention", "B": "invention", "U": "utility_model"}
#: importer-invented patent fields; the real ones (publication number, title, IPC) must never be listed
PATENT_SYNTHETIC = {
    "application_number",
    "applicants",
    "inventors",
    "filing_date",
    "publication_date",
    "grant_date",
    "expiry_date",
    "legal_status",
    "price",
}
ACHIEVEMENT_SYNTHETIC = {
    "completing_units",
    "trl",
    "stage",
    "ip_forms",
    "transfer_modes",
    "price",
    "pricing_method",
    "confidential_details",
    "nda_text",
}


def seed(*args: str) -> str:
    out = StringIO()
    call_command("seed_market", *args, "--no-progress", stdout=out, stderr=StringIO())
    return out.getvalue()


def patent_rows() -> list[dict[str, str]]:
    with (DATA_DIR / "cn_patents_ipc.csv").open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def achievement_records() -> list[dict]:
    with (DATA_DIR / "csl_achievements.jsonl").open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def table_checksum(model: type, ids: list[int] | None = None) -> str:
    """md5 over every column of every row (or of the rows `ids`) in id order: any changed value changes it."""
    table = connection.ops.quote_name(model._meta.db_table)
    where, params = ("WHERE t.id = ANY(%s)", [ids]) if ids is not None else ("", [])
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT md5(string_agg(t::text, '|' ORDER BY t.id)) FROM {table} AS t {where}", params
        )
        return cursor.fetchone()[0]


def counts() -> dict[str, int]:
    return {
        "patents": Patent.objects.count(),
        "achievements": Achievement.objects.count(),
        "demands": Demand.objects.count(),
        "experts": Expert.objects.count(),
        "organizations": Organization.objects.count(),
        "users": User.objects.count(),
        "events": OutboxEvent.objects.count(),
    }


def expected_check_char(body: str) -> str:
    """CNIPA rule, written out independently of the product: weights 2..9 repeating, mod 11, 10 → X."""
    total = sum(
        int(digit) * weight for digit, weight in zip(body, [2, 3, 4, 5, 6, 7, 8, 9] * 2, strict=False)
    )
    remainder = total % 11
    return "X" if remainder == 10 else str(remainder)


def expected_expiry(filing: date, years: int) -> date:
    try:
        return filing.replace(year=filing.year + years)
    except ValueError:  # 29 February in a non-leap target year
        return date(filing.year + years, 2, 28)


def assert_patent_consistent(patent: Patent, kind: str) -> None:
    number = patent.application_number
    body, check = number.split(".")
    assert len(body) == 12 and check == expected_check_char(body), number
    assert normalize_application_number(number) == number
    assert body[:4] == str(patent.filing_date.year), number
    assert body[4] == KIND_TYPE_DIGIT[kind], (number, patent.publication_number)
    assert patent.patent_type == KIND_PATENT_TYPE[kind]
    assert patent.expiry_date == expected_expiry(patent.filing_date, TERM_YEARS[patent.patent_type])
    assert patent.publication_date >= patent.filing_date
    if kind == "A":  # a published application is not granted yet
        assert patent.grant_date is None
        assert patent.legal_status == LegalStatus.PENDING
    else:
        assert patent.grant_date is not None and patent.grant_date >= patent.filing_date
        assert patent.legal_status != LegalStatus.PENDING
    if patent.legal_status == LegalStatus.GRANTED:
        assert patent.expiry_date > patent.published_at.date(), "a granted patent must not be past its term"


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings) -> None:
    """The importer hashes nine demo passwords; the production hasher would take most of each test."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def seeded() -> str:
    return seed("--limit", str(LIMIT))


def test_limited_import_creates_records_and_one_published_event_each(seeded):
    assert "Imported: 200 new patents, 200 new achievements, 6 new demands, 4 new experts, 200 new deals" in (
        seeded
    )
    assert counts() == {
        "patents": LIMIT,
        "achievements": LIMIT,
        "demands": DEMO_DEMANDS,
        "experts": DEMO_EXPERTS,
        "organizations": 6 + DEMO_BUYERS,
        "users": 10 + DEMO_BUYERS,
        "events": 2 * LIMIT + DEMO_DEMANDS + DEMO_EXPERTS + DEAL_FACTS * LIMITED_DEALS,
    }
    for model, aggregate, topic in (
        (Patent, "patent", "market.patents"),
        (Achievement, "achievement", "market.achievements"),
        (Demand, "demand", "market.demands"),
    ):
        assert set(model.objects.values_list("status", flat=True)) == {ListingStatus.PUBLISHED}
        assert not model.objects.filter(source_key=None).exists()
        events = OutboxEvent.objects.filter(type=f"market.{aggregate}.published.v1")
        assert set(events.values_list("topic", flat=True)) == {topic}
        assert set(events.values_list("aggregate_version", flat=True)) == {1}
        assert sorted(events.values_list("key", flat=True)) == sorted(
            f"{aggregate}:{pk}" for pk in model.objects.values_list("pk", flat=True)
        )
    expert_events = OutboxEvent.objects.filter(topic="market.experts")
    assert sorted(expert_events.values_list("key", flat=True)) == sorted(
        f"expert:{pk}" for pk in Expert.objects.values_list("pk", flat=True)
    )


def test_second_run_changes_nothing(seeded):
    before = counts()
    checksums = {model: table_checksum(model) for model in (Patent, Achievement, Demand, Expert)}
    output = seed("--limit", str(LIMIT))
    assert "0 new patents, 0 new achievements, 0 new demands, 0 new experts, 0 new deals" in output
    assert counts() == before
    assert {model: table_checksum(model) for model in checksums} == checksums


def test_limited_import_records_pass_model_validation(seeded):
    for model in (Patent, Achievement, Demand, Expert):
        for record in model.objects.all():
            record.full_clean()


def test_real_fields_are_kept_exactly(seeded):
    rows = patent_rows()
    for row in (rows[0], rows[57], rows[LIMIT - 1]):
        patent = Patent.objects.get(source_key=f"cnpat:{row['publication_number']}")
        assert patent.publication_number == row["publication_number"]
        assert patent.title == row["title"]
        assert patent.ipc_codes == row["ipc_subclasses"].split("|")
    assert not Patent.objects.filter(publication_number=rows[LIMIT]["publication_number"]).exists()
    first = Patent.objects.get(publication_number="CN111504366B")  # the CSV's first row, verbatim
    assert first.title == "基于人工智能的流体输送系统精确计量方法及计量装置"
    assert first.ipc_codes == ["G01D", "G01F"]
    assert first.field == "物理"  # IPC section G

    records = achievement_records()
    for record in (records[0], records[99], records[LIMIT - 1]):
        achievement = Achievement.objects.get(name=record["title"])
        assert achievement.teaser == record["abstract"]
        assert achievement.keywords == record["keywords"]
        assert achievement.field == record["discipline"]
        assert achievement.category == record["category"]
    first_achievement = Achievement.objects.get(name="一种基于平方和优化的飞行器大角度机动镇定控制器设计方法")
    assert first_achievement.field == "兵器科学与技术"
    assert first_achievement.keywords == ["修正Rodrigues参数模型", "平方和优化", "大角度机动", "Lyapunov函数"]


def test_synthetic_fields_are_declared_and_real_fields_are_not(seeded):
    for synthetic in Patent.objects.values_list("synthetic_fields", flat=True):
        assert set(synthetic) == PATENT_SYNTHETIC
    for synthetic in Achievement.objects.values_list("synthetic_fields", flat=True):
        assert set(synthetic) == ACHIEVEMENT_SYNTHETIC
    for synthetic in Demand.objects.values_list("synthetic_fields", flat=True):
        assert synthetic == ["all"]


def test_synthetic_patent_values_are_valid_and_agree_with_the_real_kind_code(seeded):
    patents = list(Patent.objects.all())
    for patent in patents:
        assert_patent_consistent(patent, patent.publication_number[-1])
    assert {patent.publication_number[-1] for patent in patents} == {"A", "B", "U"}


def test_demo_users_cover_every_role_and_sign_in_with_the_demo_password(seeded, api):
    users = {
        user.username: user
        for user in User.objects.filter(username__in=DEMO_USERS).select_related("organization")
    }
    assert len(users) == len(DEMO_USERS)
    assert users["admin"].is_platform_admin and users["admin"].organization is None
    roles = {(user.organization.org_type, user.org_role) for user in users.values() if user.organization}
    assert roles >= {
        (OrganizationType.UNIVERSITY, OrgRole.ORG_ADMIN),
        (OrganizationType.UNIVERSITY, OrgRole.MEMBER),
        (OrganizationType.INSTITUTE, OrgRole.MEMBER),
        (OrganizationType.ENTERPRISE, OrgRole.ORG_ADMIN),
        (OrganizationType.ENTERPRISE, OrgRole.MEMBER),
        (OrganizationType.INTERMEDIARY, OrgRole.MEMBER),
        (OrganizationType.GOVERNMENT, OrgRole.MEMBER),
        (OrganizationType.GOVERNMENT, OrgRole.REGISTRAR),
    }
    assert all(user.organization.is_approved for user in users.values() if user.organization)
    client = api(None)
    for username in users:
        response = client.post(
            "/api/v1/auth/token/", {"username": username, "password": settings.MARKET_DEMO_PASSWORD}
        )
        assert response.status_code == 200, (username, response.content)
        me = client.get("/api/v1/users/me/", HTTP_AUTHORIZATION=f"Bearer {response.json()['access']}")
        assert me.status_code == 200 and me.json()["username"] == username
    wrong = client.post("/api/v1/auth/token/", {"username": "uni_member", "password": "not-the-password"})
    assert wrong.status_code == 401
    buyers = User.objects.exclude(username__in=DEMO_USERS)
    assert buyers.count() == DEMO_BUYERS and not buyers.filter(is_active=True).exists()
    for buyer in buyers:
        assert buyer.organization.name.endswith("（示例）")
        refused = client.post(
            "/api/v1/auth/token/", {"username": buyer.username, "password": settings.MARKET_DEMO_PASSWORD}
        )
        assert refused.status_code == 401


def test_if_empty_skips_a_loaded_database(seeded):
    before = counts()
    output = seed("--if-empty")
    assert "already loaded" in output
    assert counts() == before


def test_if_empty_loads_an_empty_database():
    output = seed("--if-empty", "--limit", "3")
    assert "3 new patents" in output
    assert Patent.objects.count() == 3


@pytest.mark.parametrize("present", [[], ["cn_patents_ipc.csv"]])
def test_missing_data_is_a_clear_command_error(tmp_path, present):
    for name in present:
        (tmp_path / name).write_text((DATA_DIR / name).read_text(encoding="utf-8"), encoding="utf-8")
    missing = "csl_achievements.jsonl" if present else "cn_patents_ipc.csv"
    with pytest.raises(CommandError) as error:
        seed("--data-dir", str(tmp_path))
    message = str(error.value)
    assert str(tmp_path / missing) in message
    assert "--data-dir" in message and "MARKET_SAMPLE_DATA_DIR" in message
    assert counts() == dict.fromkeys(counts(), 0)


def test_ipc_filter_over_seeded_data_finds_the_csv_battery_patents(seeded, api):
    expected = {
        row["publication_number"]: row["title"]
        for row in patent_rows()[:LIMIT]
        if any(code.startswith("H01M") for code in row["ipc_subclasses"].split("|"))
    }
    # read from the CSV: five H01M patents among the first 200, three of them batteries by title
    assert len(expected) == 5
    response = api(None).get("/api/v1/patents/", {"ipc": "H01M", "page_size": 100})
    assert response.status_code == 200
    results = response.json()["results"]
    found = {item["publication_number"]: item["title"] for item in results}
    assert found == expected
    assert all(any(code.startswith("H01M") for code in item["ipc_codes"]) for item in results)
    assert "一种锂电池排气安全阀" in found.values()
    assert sum("电池" in title for title in found.values()) == 3


def test_full_import_after_a_partial_one(seeded):
    """The whole data set, loaded on top of the first 200 records: the rest is added, nothing is touched."""
    partial = table_checksum(Patent)
    output = seed()
    rest = PATENTS_TOTAL - LIMIT
    assert f"{rest} new patents, {ACHIEVEMENTS_TOTAL - LIMIT} new achievements, 0 new demands" in output
    assert Patent.objects.count() == PATENTS_TOTAL
    assert Achievement.objects.count() == ACHIEVEMENTS_TOTAL
    assert "0 new deals" in output, "the demo deals were seeded with the partial import"
    assert OutboxEvent.objects.count() == (
        PATENTS_TOTAL + ACHIEVEMENTS_TOTAL + DEMO_DEMANDS + DEMO_EXPERTS + DEAL_FACTS * LIMITED_DEALS
    )
    first_ids = list(Patent.objects.order_by("id").values_list("id", flat=True)[:LIMIT])
    assert table_checksum(Patent, first_ids) == partial

    # every record passes model validation (foreign keys and uniqueness need queries: the database's job)
    no_queries = {"exclude": ["owner", "created_by", "reviewed_by"], "validate_unique": False}
    kinds = {row["publication_number"]: row["publication_number"][-1] for row in patent_rows()}
    patents = list(Patent.objects.all())
    assert {patent.publication_number for patent in patents} == set(kinds)
    for patent in patents:
        patent.full_clean(**no_queries)
        assert_patent_consistent(patent, kinds[patent.publication_number])
    achievements = list(Achievement.objects.all())
    assert {achievement.name for achievement in achievements} == {
        record["title"] for record in achievement_records()
    }
    for achievement in achievements:
        achievement.full_clean(**no_queries)
        assert 1 <= achievement.trl <= 9


def test_demo_deals_are_completed_registered_synthetic_and_spread_over_two_years(seeded):
    deals = list(Deal.objects.select_related("seller", "buyer", "patent", "achievement"))
    assert len(deals) == LIMITED_DEALS
    today = timezone.localdate()
    for deal in deals:
        assert deal.title.endswith("（示例）") and deal.registration_number.startswith("示例")
        assert deal.buyer.name.endswith("（示例）") and deal.seller.name.endswith("（示例）")
        assert (deal.stage, deal.registration_status, deal.version) == ("completed", "registered", 7)
        listing = deal.patent or deal.achievement
        assert (
            listing is not None
            and listing.owner_id == deal.seller_id
            and deal.source in ("offer", "purchase")
        )
        opened = timezone.localdate(deal.created_at)
        closed = timezone.localdate(deal.closed_at)
        assert today - timedelta(days=730) <= opened < deal.registered_on < closed < today
        assert 0 < deal.technology_transaction_value <= deal.contract_value == deal.amount
    assert len({deal.registration_number for deal in deals}) == len(deals)
    assert len({deal.patent_id or -deal.achievement_id for deal in deals}) == len(deals), "one per listing"
    months = {timezone.localdate(deal.created_at).replace(day=1) for deal in deals}
    assert len(months) >= 18, "spread over the two years"
    assert {deal.contract_type for deal in deals} == set(ContractType.values)
    assert len({deal.buyer.county_code for deal in deals}) >= 4
    assert len({deal.amount for deal in deals}) > LIMITED_DEALS // 2
    sold = Deal.objects.filter(transaction_mode="transfer", patent__isnull=False)
    assert sold.exists() and all(deal.patent.availability == "sold" for deal in sold)
    facts = OutboxEvent.objects.filter(topic="market.trading", type__startswith="market.deal.")
    assert sorted(facts.values_list("type", flat=True).distinct()) == [
        "market.deal.completed.v1",
        "market.deal.contract_registered.v1",
        "market.deal.opened.v1",
    ]
    assert sorted(facts.values_list("aggregate_version", flat=True).distinct()) == [1, 5, 7]


def test_the_stats_built_from_the_demo_deals_events_match_the_deal_rows(seeded, api):
    """The demo publishes what the services would: the stats consumer's rollups from those events equal a
    recomputation from the rows, and the statistics of the past two years are not empty."""
    stats_catch_up()
    assert stats_recompute(replace=False).differences == []
    assert kept_monthly() == brute_monthly()
    today = timezone.localdate()
    answer = api(User.objects.get(username="gov_viewer")).get(
        "/api/v1/stats/", {"from": f"{today.year - 2}-01-01", "to": today.isoformat(), "period": "year"}
    )
    assert answer.status_code == 200, answer.content
    totals = answer.json()["totals"]
    assert totals["deals"] == totals["contracts"] == totals["completed"] == LIMITED_DEALS
    assert totals["inventions"] == Deal.objects.filter(patent__patent_type="invention").count() > 0
