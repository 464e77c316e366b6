"""The catalog services as transactions: every state change writes its rows and exactly one outbox event, or
nothing at all; bad input is refused naming the field; two people acting at once never both win."""

import json
import queue
import threading
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection, connections, transaction
from django.utils import timezone

from market.catalog import services
from market.catalog.models import Achievement, Demand, Expert, ListingStatus, NdaAcceptance, Patent
from market.common.errors import Conflict, Invalid
from market.events import publishing
from market.events.models import OutboxEvent
from tests import factories
from tests.locks import wait_until_blocked

pytestmark = pytest.mark.django_db

ACHIEVEMENT_SECRET = "包覆层厚度 5 nm，烧结温度 750 ℃（绝密）"
NDA_TEXT = "仅用于评估合作，不得向第三方披露。"
EXPERT_EMAIL = "li.zhenhua@univ.example.org"
EXPERT_PHONE = "0571-87950000"


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings) -> None:
    """`cast` creates a dozen users; the production hasher would dominate every test's run time."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


class BrokerDown(Exception):
    """Stands in for any failure while writing the outbox row."""


def patent_data(number: int = 1, **overrides: Any) -> dict[str, Any]:
    return {
        "application_number": factories.application_number(number, year=2020),
        "title": "一种锂离子电池正极材料及其制备方法",
        "ipc_codes": ["h01m 4/525", "H01M"],
        "filing_date": date(2020, 5, 17),
        **overrides,
    }


def achievement_data(**overrides: Any) -> dict[str, Any]:
    return {
        "name": "高镍正极材料表面包覆技术",
        "field": "材料科学与工程",
        "trl": 5,
        "stage": "pilot",
        "pricing_method": "negotiated",
        "teaser": "循环寿命提升30%的包覆工艺。",
        "confidential_details": ACHIEVEMENT_SECRET,
        "nda_text": NDA_TEXT,
        **overrides,
    }


def demand_data(**overrides: Any) -> dict[str, Any]:
    return {
        "title": "储能电站电池簇热失控早期预警算法",
        "description": "需要基于电压、温度与气体数据的预警模型。",
        "field": "电学",
        "ipc_hints": ["H02J"],
        "budget_min": Decimal("300000"),
        "budget_max": Decimal("800000"),
        "deadline": timezone.localdate() + timedelta(days=90),
        "collaboration_mode": "commissioned",
        **overrides,
    }


def expert_data(**overrides: Any) -> dict[str, Any]:
    return {
        "name": "李振华",
        "title": "教授",
        "fields": ["电化学储能"],
        "email": EXPERT_EMAIL,
        "phone": EXPERT_PHONE,
        **overrides,
    }


def outbox_ids() -> set:
    return set(OutboxEvent.objects.values_list("id", flat=True))


def the_new_event(before: set) -> OutboxEvent:
    """Exactly one outbox row appeared since `before`; it is returned as read back from the database."""
    new = list(OutboxEvent.objects.exclude(id__in=before))
    assert len(new) == 1, [row.type for row in new]
    return new[0]


def assert_event(row: OutboxEvent, *, aggregate: str, fact: str, instance: Any) -> dict[str, Any]:
    topics = {
        "patent": "market.patents",
        "achievement": "market.achievements",
        "demand": "market.demands",
        "expert": "market.experts",
    }
    assert row.type == f"market.{aggregate}.{fact}.v1"
    assert row.topic == topics[aggregate]
    assert row.key == f"{aggregate}:{instance.pk}"
    instance.refresh_from_db()
    assert row.aggregate_version == instance.version
    assert isinstance(row.data, dict)
    assert json.loads(json.dumps(row.data)) == row.data
    assert row.data["aggregate_id"] == instance.pk and row.data["version"] == instance.version
    return row.data


# ---- one event per change, with a public snapshot ------------------------------------------------------


def test_patent_create_and_update_publish_one_event_each(cast):
    before = outbox_ids()
    patent = services.patent_create(user=cast.uni_member, **patent_data(publication_number="cn 111504366 b"))
    data = assert_event(the_new_event(before), aggregate="patent", fact="created", instance=patent)
    assert data["status"] == "draft" and data["owner_org_id"] == cast.university.pk
    snapshot = data["snapshot"]
    assert snapshot["application_number"] == patent.application_number
    assert snapshot["publication_number"] == "CN111504366B"
    assert snapshot["ipc_codes"] == ["H01M 4/525", "H01M"]
    assert snapshot["filing_date"] == "2020-05-17" and snapshot["expiry_date"] == "2040-05-17"
    assert snapshot["owner"]["name"] == cast.university.name

    before = outbox_ids()
    services.patent_update(patent=patent, user=cast.uni_member, price=Decimal("120000.50"))
    data = assert_event(the_new_event(before), aggregate="patent", fact="updated", instance=patent)
    assert data["version"] == 2 and data["snapshot"]["price"] == "120000.50"


def test_achievement_events_never_carry_confidential_details(cast):
    own_patent = factories.patent(cast.university)
    before = outbox_ids()
    achievement = services.achievement_create(
        user=cast.uni_member, **achievement_data(), patent_ids=[own_patent.pk]
    )
    created = assert_event(
        the_new_event(before), aggregate="achievement", fact="created", instance=achievement
    )
    assert created["snapshot"]["patent_ids"] == [own_patent.pk]
    before = outbox_ids()
    services.achievement_update(achievement=achievement, user=cast.uni_member, trl=6)
    updated = assert_event(
        the_new_event(before), aggregate="achievement", fact="updated", instance=achievement
    )
    assert updated["snapshot"]["trl"] == 6
    before = outbox_ids()
    services.listing_submit(listing=achievement, user=cast.uni_member)
    submitted = assert_event(
        the_new_event(before), aggregate="achievement", fact="submitted", instance=achievement
    )
    for data in (created, updated, submitted):
        assert "confidential_details" not in data["snapshot"] and "nda_text" not in data["snapshot"]
        text = json.dumps(data, ensure_ascii=False)
        assert ACHIEVEMENT_SECRET not in text and NDA_TEXT not in text
        assert data["snapshot"]["teaser"] == "循环寿命提升30%的包覆工艺。"


def test_nda_acceptance_publishes_once(cast):
    achievement = factories.achievement(cast.university)
    before = outbox_ids()
    acceptance = services.achievement_accept_nda(achievement=achievement, user=cast.ent_member)
    row = the_new_event(before)
    assert row.type == "market.achievement.nda_accepted.v1" and row.topic == "market.achievements"
    assert row.key == f"achievement:{achievement.pk}" and row.aggregate_version == achievement.version
    assert row.data["user_id"] == cast.ent_member.pk
    assert row.data["organization_id"] == cast.enterprise.pk
    assert acceptance.nda_text == achievement.nda_text

    before = outbox_ids()
    again = services.achievement_accept_nda(achievement=achievement, user=cast.ent_member)
    assert again.pk == acceptance.pk
    assert outbox_ids() == before
    assert NdaAcceptance.objects.count() == 1


def test_anonymous_demand_events_do_not_name_the_enterprise(cast):
    before = outbox_ids()
    demand = services.demand_create(user=cast.ent_member, **demand_data(is_anonymous=True))
    created = assert_event(the_new_event(before), aggregate="demand", fact="created", instance=demand)
    before = outbox_ids()
    services.listing_submit(listing=demand, user=cast.ent_member)
    submitted = assert_event(the_new_event(before), aggregate="demand", fact="submitted", instance=demand)
    before = outbox_ids()
    services.listing_approve(listing=demand, reviewer=cast.platform_admin)
    published = assert_event(the_new_event(before), aggregate="demand", fact="published", instance=demand)
    for data in (created, submitted, published):
        owner = data["snapshot"]["owner"]
        assert "id" not in owner and "name" not in owner
        assert owner["county_code"] == "330127"  # the region stays searchable
        assert cast.enterprise.name not in json.dumps(data, ensure_ascii=False)


def test_named_demand_snapshot_names_the_enterprise(cast):
    before = outbox_ids()
    demand = services.demand_create(user=cast.ent_member, **demand_data())
    data = assert_event(the_new_event(before), aggregate="demand", fact="created", instance=demand)
    assert data["snapshot"]["owner"]["id"] == cast.enterprise.pk
    assert data["snapshot"]["owner"]["name"] == cast.enterprise.name


def test_expert_events_never_carry_contact_details(cast):
    before = outbox_ids()
    expert = services.expert_create(user=cast.uni_member, **expert_data(), for_self=True)
    created = assert_event(the_new_event(before), aggregate="expert", fact="created", instance=expert)
    before = outbox_ids()
    services.expert_update(expert=expert, user=cast.uni_member, bio="锂离子电池正极材料。")
    updated = assert_event(the_new_event(before), aggregate="expert", fact="updated", instance=expert)
    assert updated["version"] == 2 and updated["snapshot"]["bio"] == "锂离子电池正极材料。"
    for data in (created, updated):
        assert "email" not in data["snapshot"] and "phone" not in data["snapshot"]
        text = json.dumps(data, ensure_ascii=False)
        assert EXPERT_EMAIL not in text and EXPERT_PHONE not in text


@pytest.mark.parametrize(
    ("start", "action", "fact", "end"),
    [
        ("draft", "submit", "submitted", "pending"),
        ("rejected", "submit", "submitted", "pending"),
        ("pending", "approve", "published", "published"),
        ("pending", "reject", "rejected", "rejected"),
        ("pending", "withdraw", "withdrawn", "withdrawn"),
        ("published", "withdraw", "withdrawn", "withdrawn"),
        ("published", "close", "closed", "closed"),
    ],
)
def test_each_transition_publishes_one_event_and_bumps_the_version(cast, start, action, fact, end):
    patent = factories.patent(cast.university, status=start)
    calls: dict[str, Callable[[], Any]] = {
        "submit": lambda: services.listing_submit(listing=patent, user=cast.uni_member),
        "approve": lambda: services.listing_approve(listing=patent, reviewer=cast.platform_admin),
        "reject": lambda: services.listing_reject(
            listing=patent, reviewer=cast.platform_admin, reason=" 缺少权利要求 "
        ),
        "withdraw": lambda: services.listing_withdraw(listing=patent, user=cast.uni_member),
        "close": lambda: services.listing_close(listing=patent, user=cast.uni_member),
    }
    before = outbox_ids()
    result = calls[action]()
    assert result.status == end and result.version == 2
    data = assert_event(the_new_event(before), aggregate="patent", fact=fact, instance=patent)
    assert patent.status == end and data["status"] == end and data["snapshot"]["status"] == end
    if action == "reject":
        assert data["reason"] == "缺少权利要求" and patent.review_reason == "缺少权利要求"
    if action == "approve":
        assert patent.published_at is not None and patent.reviewed_by == cast.platform_admin


def test_version_grows_by_one_with_every_change(cast):
    seen: list[int] = []

    def step(call: Callable[[], Any]) -> None:
        before = outbox_ids()
        call()
        row = the_new_event(before)
        patent.refresh_from_db()
        assert row.aggregate_version == patent.version
        seen.append(patent.version)

    patent = services.patent_create(user=cast.uni_member, **patent_data())
    seen.append(patent.version)
    step(lambda: services.patent_update(patent=patent, user=cast.uni_member, abstract="摘要"))
    step(lambda: services.listing_submit(listing=patent, user=cast.uni_member))
    step(lambda: services.listing_reject(listing=patent, reviewer=cast.platform_admin, reason="补充摘要"))
    step(lambda: services.patent_update(patent=patent, user=cast.uni_member, abstract="新摘要"))
    step(lambda: services.listing_submit(listing=patent, user=cast.uni_member))
    step(lambda: services.listing_approve(listing=patent, reviewer=cast.platform_admin))
    step(lambda: services.listing_withdraw(listing=patent, user=cast.uni_member))
    assert seen == list(range(1, 9))
    versions = OutboxEvent.objects.filter(key=f"patent:{patent.pk}").values_list(
        "aggregate_version", flat=True
    )
    assert sorted(versions) == list(range(1, 9))


# ---- expiry date -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("type_digit", "filing", "expiry"),
    [
        ("1", date(2019, 6, 15), date(2039, 6, 15)),
        ("1", date(2020, 2, 29), date(2040, 2, 29)),  # 2040 is a leap year
        ("2", date(2020, 2, 29), date(2030, 2, 28)),
        ("3", date(2020, 2, 29), date(2035, 2, 28)),
        ("2", date(2016, 2, 29), date(2026, 2, 28)),
    ],
)
def test_expiry_date_is_the_term_after_filing(cast, type_digit, filing, expiry):
    number = factories.application_number(4711, type_digit=type_digit, year=filing.year)
    patent = services.patent_create(
        user=cast.uni_member, **patent_data(application_number=number, filing_date=filing)
    )
    patent.refresh_from_db()
    assert patent.patent_type == {"1": "invention", "2": "utility_model", "3": "design"}[type_digit]
    assert patent.expiry_date == expiry


def test_changing_the_filing_date_moves_the_expiry_date(cast):
    patent = services.patent_create(user=cast.uni_member, **patent_data())
    services.patent_update(patent=patent, user=cast.uni_member, filing_date=date(2020, 2, 29))
    patent.refresh_from_db()
    assert patent.expiry_date == date(2040, 2, 29)


# ---- validation: the field is named, nothing is written -------------------------------------------------


def row_counts() -> dict[str, int]:
    return {
        "patents": Patent.objects.count(),
        "achievements": Achievement.objects.count(),
        "links": Achievement.patents.through.objects.count(),
        "demands": Demand.objects.count(),
        "experts": Expert.objects.count(),
        "events": OutboxEvent.objects.count(),
    }


_GOOD_NUMBER = factories.application_number(1, year=2020)
#: the same number with a wrong check character
BAD_CHECK_NUMBER = _GOOD_NUMBER[:-1] + ("0" if _GOOD_NUMBER[-1] != "0" else "1")


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"application_number": BAD_CHECK_NUMBER}, "application_number"),
        ({"application_number": "2020100000001"}, "application_number"),  # no dot before the check digit
        ({"patent_type": "utility_model"}, "patent_type"),  # the number's type digit says invention
        ({"publication_number": "CN216120622U"}, "publication_number"),  # U is a utility model
        ({"publication_number": "CN-ABC"}, "publication_number"),
        ({"publication_date": date(2020, 5, 16)}, "publication_date"),
        ({"grant_date": date(2019, 12, 31)}, "grant_date"),
        ({"legal_status": "granted"}, "grant_date"),
        ({"ipc_codes": ["H01M 4/525", "Z99Q"]}, "ipc_codes"),
    ],
)
def test_patent_create_rejects_inconsistent_data(cast, overrides, field):
    before = row_counts()
    with pytest.raises(Invalid) as error:
        services.patent_create(user=cast.uni_member, **patent_data(**overrides))
    assert field in error.value.fields
    assert row_counts() == before


def test_patent_update_with_bad_data_changes_nothing(cast):
    patent = services.patent_create(user=cast.uni_member, **patent_data())
    before = row_counts()
    with pytest.raises(Invalid) as error:
        services.patent_update(
            patent=patent, user=cast.uni_member, title="新标题", grant_date=date(2019, 1, 1)
        )
    assert "grant_date" in error.value.fields
    assert row_counts() == before
    stored = Patent.objects.get(pk=patent.pk)
    assert (stored.title, stored.version, stored.grant_date) == (
        "一种锂离子电池正极材料及其制备方法",
        1,
        None,
    )


def test_achievement_with_listed_pricing_needs_a_price(cast):
    before = row_counts()
    with pytest.raises(Invalid) as error:
        services.achievement_create(user=cast.uni_member, **achievement_data(pricing_method="listing"))
    assert "price" in error.value.fields
    assert row_counts() == before


def test_achievement_cannot_link_another_organizations_patent(cast):
    own = factories.patent(cast.university)
    foreign = factories.patent(cast.institute)
    before = row_counts()
    with pytest.raises(Invalid) as error:
        services.achievement_create(
            user=cast.uni_member, **achievement_data(), patent_ids=[own.pk, foreign.pk]
        )
    assert "patent_ids" in error.value.fields
    assert row_counts() == before

    achievement = services.achievement_create(user=cast.uni_member, **achievement_data(), patent_ids=[own.pk])
    before = row_counts()
    with pytest.raises(Invalid) as error:
        services.achievement_update(achievement=achievement, user=cast.uni_member, patent_ids=[foreign.pk])
    assert "patent_ids" in error.value.fields
    assert row_counts() == before
    assert list(achievement.patents.values_list("pk", flat=True)) == [own.pk]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"budget_min": Decimal("900000"), "budget_max": Decimal("800000")}, "budget_max"),
        ({"deadline": date(2020, 1, 1)}, "deadline"),
        ({"ipc_hints": ["H02"]}, "ipc_hints"),
    ],
)
def test_demand_create_rejects_inconsistent_data(cast, overrides, field):
    before = row_counts()
    with pytest.raises(Invalid) as error:
        services.demand_create(user=cast.ent_member, **demand_data(**overrides))
    assert field in error.value.fields
    assert row_counts() == before


def test_demand_update_with_inverted_budget_changes_nothing(cast):
    demand = factories.demand(cast.enterprise, status="draft")
    before = row_counts()
    with pytest.raises(Invalid) as error:
        services.demand_update(demand=demand, user=cast.ent_member, budget_min=Decimal("600000"))
    assert "budget_max" in error.value.fields
    assert row_counts() == before
    stored = Demand.objects.get(pk=demand.pk)
    assert (stored.budget_min, stored.version) == (Decimal("100000"), 1)


def test_editing_a_published_listing_is_a_conflict_and_writes_nothing(cast):
    patent = factories.patent(cast.university)
    before = row_counts()
    with pytest.raises(Conflict) as error:
        services.patent_update(patent=patent, user=cast.uni_member, title="改")
    assert error.value.code == "not_editable"
    assert row_counts() == before


# ---- a failed publication rolls the whole change back ------------------------------------------------------


def _break_outbox_save(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: Any, **kwargs: Any) -> None:
        raise BrokerDown("outbox unavailable")

    monkeypatch.setattr(publishing.OutboxEvent, "save", refuse)


def _break_service_publish(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(event: Any) -> None:
        raise BrokerDown(event.type)

    monkeypatch.setattr(services, "publish", refuse)


BREAKERS = pytest.mark.parametrize("break_publishing", [_break_outbox_save, _break_service_publish])


@BREAKERS
def test_failed_publication_leaves_no_created_rows(cast, monkeypatch, break_publishing):
    own = factories.patent(cast.university)
    before = row_counts()
    break_publishing(monkeypatch)
    with pytest.raises(BrokerDown):
        services.patent_create(user=cast.uni_member, **patent_data())
    with pytest.raises(BrokerDown):
        services.achievement_create(user=cast.uni_member, **achievement_data(), patent_ids=[own.pk])
    with pytest.raises(BrokerDown):
        services.demand_create(user=cast.ent_member, **demand_data())
    with pytest.raises(BrokerDown):
        services.expert_create(user=cast.uni_member, **expert_data(), for_self=True)
    assert row_counts() == before


@BREAKERS
def test_failed_publication_leaves_updates_unchanged(cast, monkeypatch, break_publishing):
    patent = factories.patent(cast.university, status="draft", title="原标题")
    achievement = factories.achievement(cast.university, status="draft")
    demand = factories.demand(cast.enterprise, status="draft")
    expert = factories.expert(cast.university, bio="原简介")
    break_publishing(monkeypatch)
    with pytest.raises(BrokerDown):
        services.patent_update(patent=patent, user=cast.uni_member, title="新标题")
    with pytest.raises(BrokerDown):
        services.achievement_update(achievement=achievement, user=cast.uni_member, trl=8, patent_ids=[])
    with pytest.raises(BrokerDown):
        services.demand_update(demand=demand, user=cast.ent_member, title="新需求")
    with pytest.raises(BrokerDown):
        services.expert_update(expert=expert, user=cast.uni_admin, bio="新简介")
    assert Patent.objects.values_list("title", "version").get(pk=patent.pk) == ("原标题", 1)
    assert Achievement.objects.values_list("trl", "version").get(pk=achievement.pk) == (5, 1)
    assert Demand.objects.values_list("title", "version").get(pk=demand.pk) == (demand.title, 1)
    assert Expert.objects.values_list("bio", "version").get(pk=expert.pk) == ("原简介", 1)
    assert OutboxEvent.objects.count() == 0


@BREAKERS
@pytest.mark.parametrize(
    ("start", "action"),
    [
        ("draft", "submit"),
        ("pending", "approve"),
        ("pending", "reject"),
        ("published", "withdraw"),
        ("published", "close"),
    ],
)
def test_failed_publication_leaves_the_status_unchanged(cast, monkeypatch, break_publishing, start, action):
    patent = factories.patent(cast.university, status=start)
    calls: dict[str, Callable[[], Any]] = {
        "submit": lambda: services.listing_submit(listing=patent, user=cast.uni_member),
        "approve": lambda: services.listing_approve(listing=patent, reviewer=cast.platform_admin),
        "reject": lambda: services.listing_reject(
            listing=patent, reviewer=cast.platform_admin, reason="不清楚"
        ),
        "withdraw": lambda: services.listing_withdraw(listing=patent, user=cast.uni_member),
        "close": lambda: services.listing_close(listing=patent, user=cast.uni_member),
    }
    break_publishing(monkeypatch)
    with pytest.raises(BrokerDown):
        calls[action]()
    stored = Patent.objects.get(pk=patent.pk)
    assert (stored.status, stored.version, stored.review_reason, stored.reviewed_by_id) == (
        start,
        1,
        "",
        None,
    )
    assert OutboxEvent.objects.count() == 0


@BREAKERS
def test_failed_publication_records_no_nda_acceptance(cast, monkeypatch, break_publishing):
    achievement = factories.achievement(cast.university)
    break_publishing(monkeypatch)
    with pytest.raises(BrokerDown):
        services.achievement_accept_nda(achievement=achievement, user=cast.ent_member)
    assert NdaAcceptance.objects.count() == 0
    assert OutboxEvent.objects.count() == 0


# ---- concurrent transitions (real PostgreSQL row locks) ----------------------------------------------------


class Worker(threading.Thread):
    """Runs one service call on its own database connection and reports its backend pid before calling."""

    def __init__(self, call: Callable[[], Any], start_together: threading.Barrier | None = None) -> None:
        super().__init__(daemon=True)
        self.call = call
        self.start_together = start_together
        self.pid: queue.Queue[int] = queue.Queue()
        self.result: Any = None
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                self.pid.put(cursor.fetchone()[0])
            if self.start_together:
                self.start_together.wait(timeout=10)
            self.result = self.call()
        except BaseException as error:  # reported to the test thread
            self.error = error
        finally:
            connections.close_all()

    def outcome(self) -> str:
        self.join(timeout=30)
        assert not self.is_alive()
        if self.error is None:
            return "ok"
        assert isinstance(self.error, Conflict), repr(self.error)
        assert self.error.code == "invalid_transition"
        return "conflict"


def race_in_order(patent: Patent, first: Worker, second: Worker) -> tuple[str, str]:
    """Both calls wait on the row lock at once; PostgreSQL then grants it to `first`, then to `second`."""
    with transaction.atomic():
        Patent.objects.select_for_update().get(pk=patent.pk)
        first.start()
        wait_until_blocked(first.pid.get(timeout=10))
        second.start()
        wait_until_blocked(second.pid.get(timeout=10))
    return first.outcome(), second.outcome()


def approve(cast: Any, patent_id: int) -> Callable[[], Any]:
    return lambda: services.listing_approve(
        listing=Patent.objects.get(pk=patent_id), reviewer=cast.platform_admin
    )


def reject(cast: Any, patent_id: int) -> Callable[[], Any]:
    return lambda: services.listing_reject(
        listing=Patent.objects.get(pk=patent_id), reviewer=cast.platform_admin, reason="资料不全"
    )


def withdraw(cast: Any, patent_id: int) -> Callable[[], Any]:
    return lambda: services.listing_withdraw(listing=Patent.objects.get(pk=patent_id), user=cast.uni_member)


def events_of(patent: Patent) -> list[tuple[str, int]]:
    rows = OutboxEvent.objects.filter(key=f"patent:{patent.pk}").order_by("aggregate_version")
    return list(rows.values_list("type", "aggregate_version"))


@pytest.mark.django_db(transaction=True)
def test_withdraw_then_approve_on_a_pending_listing_exactly_one_wins(cast):
    patent = factories.patent(cast.university, status=ListingStatus.PENDING)
    outcomes = race_in_order(patent, Worker(withdraw(cast, patent.pk)), Worker(approve(cast, patent.pk)))
    assert outcomes == ("ok", "conflict")
    patent.refresh_from_db()
    assert (patent.status, patent.version, patent.published_at) == ("withdrawn", 2, None)
    assert events_of(patent) == [("market.patent.withdrawn.v1", 2)]


@pytest.mark.django_db(transaction=True)
def test_approve_then_withdraw_serialise_without_losing_an_update(cast):
    """The owner may withdraw a published listing, so the later withdrawal applies to the approved state."""
    patent = factories.patent(cast.university, status=ListingStatus.PENDING)
    outcomes = race_in_order(patent, Worker(approve(cast, patent.pk)), Worker(withdraw(cast, patent.pk)))
    assert outcomes == ("ok", "ok")
    patent.refresh_from_db()
    assert (patent.status, patent.version) == ("withdrawn", 3)
    assert events_of(patent) == [("market.patent.published.v1", 2), ("market.patent.withdrawn.v1", 3)]


@pytest.mark.django_db(transaction=True)
def test_reject_then_withdraw_exactly_one_wins(cast):
    patent = factories.patent(cast.university, status=ListingStatus.PENDING)
    outcomes = race_in_order(patent, Worker(reject(cast, patent.pk)), Worker(withdraw(cast, patent.pk)))
    assert outcomes == ("ok", "conflict")
    patent.refresh_from_db()
    assert (patent.status, patent.version) == ("rejected", 2)
    assert events_of(patent) == [("market.patent.rejected.v1", 2)]


@pytest.mark.django_db(transaction=True)
def test_simultaneous_approve_and_reject_exactly_one_wins(cast):
    """No ordering forced: whichever reviewer gets the row lock first wins, the other gets a Conflict."""
    for _round in range(3):
        patent = factories.patent(cast.university, status=ListingStatus.PENDING)
        barrier = threading.Barrier(2)
        workers = [Worker(approve(cast, patent.pk), barrier), Worker(reject(cast, patent.pk), barrier)]
        for worker in workers:
            worker.start()
        outcomes = [worker.outcome() for worker in workers]
        assert sorted(outcomes) == ["conflict", "ok"]
        patent.refresh_from_db()
        winner = "published" if outcomes[0] == "ok" else "rejected"
        assert (patent.status, patent.version) == (winner, 2)
        assert events_of(patent) == [(f"market.patent.{winner}.v1", 2)]
