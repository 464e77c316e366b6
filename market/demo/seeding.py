"""Loads the real sample data (../shared/data) plus demo organizations, users, demands, experts and completed
deals (deals.py), whose tables are the data files beside this module (`data/*.toml`).

The real fields (patent titles, publication numbers, IPC subclasses; paper titles, abstracts, keywords,
disciplines) are kept as they are. What the sources lack (applicants, inventors, dates, legal status,
application numbers, TRL, prices) is generated from a fixed seed per record and listed in each record's
`synthetic_fields`, so nobody mistakes it for fact. Records are keyed by `source_key`: loading twice changes
nothing."""

import csv
import hashlib
import json
import random
import tomllib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from itertools import islice
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from stdnum.cn import uscc

from market.accounts.models import Organization, OrganizationStatus, OrganizationType, OrgRole, User
from market.catalog.models import (
    PATENT_TERM_YEARS,
    Achievement,
    AchievementStage,
    CollaborationMode,
    Demand,
    Expert,
    LegalStatus,
    Listing,
    ListingStatus,
    Patent,
    PatentType,
    PricingMethod,
    TransferMode,
    Urgency,
)
from market.catalog.services import _add_years
from market.common.validators import application_number_check_char, parse_publication_number
from market.demo.deals import buyers_seed, deals_seed
from market.events.catalogue import ExpertCreated, ListingPublished, listing_class
from market.events.publishing import publish, publish_many

SEED = 20261126
#: a fixed publication moment, so a second import produces identical rows
PUBLISHED_AT = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
PATENT_FILE = "cn_patents_ipc.csv"
ACHIEVEMENT_FILE = "csl_achievements.jsonl"
DATA_DIR = Path(__file__).resolve().parent / "data"


def _table(name: str) -> dict[str, Any]:
    with (DATA_DIR / f"{name}.toml").open("rb") as handle:
        return tomllib.load(handle)


SYNTHETIC = _table("synthetic")
#: IPC sections (WIPO's official titles, in Chinese) used as the patent's technical field
IPC_SECTIONS: dict[str, str] = SYNTHETIC["ipc_sections"]


def demo_password() -> str:
    return getattr(settings, "MARKET_DEMO_PASSWORD", "demo-market-2026")


@dataclass(frozen=True)
class DemoOrg:
    key: str
    name: str
    org_type: str
    county_code: str
    description: str

    def __post_init__(self) -> None:
        OrganizationType(self.org_type)  # a typo in a data file fails at load, not in the database


@dataclass(frozen=True)
class DemoUser:
    username: str
    role: str
    display_name: str
    organization: str | None = None  #: a DemoOrg key; None for the platform administrator
    platform_admin: bool = False

    def __post_init__(self) -> None:
        OrgRole(self.role)


DEMO_ORGS = tuple(DemoOrg(**row) for row in _table("organizations")["organization"])
DEMO_USERS = {user.username: user for user in (DemoUser(**row) for row in _table("users")["user"])}


def _rng(key: str) -> random.Random:
    return random.Random(f"{SEED}:{key}")


def _credit_code(key: str) -> str:
    """A valid, clearly synthetic unified social credit code (registration authority 9, type 1)."""
    rng = _rng(f"uscc:{key}")
    body = "91" + "330127" + "".join(rng.choice("0123456789ABCDEFGHJKLMNPQRTUWXY") for _ in range(9))
    return body + uscc.calc_check_digit(body)


def _person_name(rng: random.Random) -> str:
    given = SYNTHETIC["given_names"]
    return rng.choice(SYNTHETIC["surnames"]) + "".join(rng.choice(given) for _ in range(rng.choice((1, 2))))


def organizations_seed() -> dict[str, Organization]:
    organizations = {}
    for demo in DEMO_ORGS:
        county = demo.county_code
        organization, _created = Organization.objects.get_or_create(
            name=demo.name,
            defaults={
                "org_type": demo.org_type,
                "credit_code": _credit_code(demo.key),
                "province_code": county[:2] + "0000",
                "city_code": county[:4] + "00",
                "county_code": county,
                "description": demo.description,
                "status": OrganizationStatus.APPROVED,
            },
        )
        organizations[demo.key] = organization
    return organizations


def users_seed(organizations: dict[str, Organization]) -> list[User]:
    users = []
    for demo in DEMO_USERS.values():
        user = User.objects.filter(username=demo.username).first()
        if user is None:
            user = User(
                username=demo.username,
                organization=organizations.get(demo.organization) if demo.organization else None,
                org_role=demo.role,
                is_platform_admin=demo.platform_admin,
                is_staff=demo.platform_admin,
                is_superuser=demo.platform_admin,
                display_name=demo.display_name,
            )
            user.set_password(demo_password())
            user.save()
        users.append(user)
    return users


@dataclass(frozen=True)
class _Supply:
    """Who lists the imported patents and achievements: the demo university and institute, alternately."""

    owners: tuple[Organization, ...]
    creators: dict[int, User]

    def pick(self, key: str) -> tuple[Organization, User]:
        owner = self.owners[int(hashlib.sha1(key.encode()).hexdigest(), 16) % len(self.owners)]
        return owner, self.creators[owner.pk]


def patent_rows(data_dir: Path) -> Iterator[dict[str, str]]:
    """The sample patents as CSV rows (publication_number, title, ipc_subclasses)."""
    with (data_dir / PATENT_FILE).open(encoding="utf-8", newline="") as handle:
        yield from csv.DictReader(handle)


_KIND_TYPE = {
    "A": PatentType.INVENTION,
    "B": PatentType.INVENTION,
    "U": PatentType.UTILITY_MODEL,
    "S": PatentType.DESIGN,
}
_TYPE_DIGIT = {PatentType.INVENTION: "1", PatentType.UTILITY_MODEL: "2", PatentType.DESIGN: "3"}
PATENT_SYNTHETIC = [
    "application_number",
    "applicants",
    "inventors",
    "filing_date",
    "publication_date",
    "grant_date",
    "expiry_date",
    "legal_status",
    "price",
]


def _patent_build(row: dict[str, str], supply: _Supply, taken: set[str]) -> Patent:
    publication = parse_publication_number(row["publication_number"])
    patent_type = _KIND_TYPE[publication.kind]
    key = f"cnpat:{row['publication_number']}"
    rng = _rng(key)
    owner, creator = supply.pick(key)
    filing = date(rng.randint(2016, 2021), 1, 1) + timedelta(days=rng.randrange(365))
    while True:  # unique synthetic application number with a correct check character
        body = f"{filing.year}{_TYPE_DIGIT[patent_type]}{rng.randrange(10**7):07d}"
        number = f"{body}.{application_number_check_char(body)}"
        if number not in taken:
            taken.add(number)
            break
    granted = publication.kind in {"B", "U", "S"}
    publication_date = filing + timedelta(days=rng.randint(120, 540))
    grant_date = (
        publication_date
        if publication.kind in {"U", "S"}
        else (filing + timedelta(days=rng.randint(700, 1300)) if granted else None)
    )
    expiry = _add_years(filing, PATENT_TERM_YEARS[patent_type])
    legal_status = LegalStatus.PENDING
    if granted:
        legal_status = LegalStatus.LAPSED if rng.random() < 0.08 else LegalStatus.GRANTED
        if legal_status == LegalStatus.GRANTED and expiry <= PUBLISHED_AT.date():
            legal_status = LegalStatus.EXPIRED
    subclasses = [code for code in row["ipc_subclasses"].split("|") if code]
    field = IPC_SECTIONS.get(subclasses[0][0], "") if subclasses else ""
    return Patent(
        owner=owner,
        created_by=creator,
        status=ListingStatus.PUBLISHED,
        published_at=PUBLISHED_AT,
        source_key=key,
        synthetic_fields=PATENT_SYNTHETIC,
        application_number=number,
        publication_number=row["publication_number"],
        patent_type=patent_type,
        title=row["title"].strip(),
        ipc_codes=subclasses,
        applicants=[owner.name],
        inventors=[_person_name(rng) for _ in range(rng.randint(1, 4))],
        filing_date=filing,
        publication_date=publication_date,
        grant_date=grant_date,
        legal_status=legal_status,
        expiry_date=expiry,
        field=field,
        price=Decimal(rng.randrange(5, 300) * 10000) if rng.random() < 0.6 else None,
    )


ACHIEVEMENT_SYNTHETIC = [
    "completing_units",
    "trl",
    "stage",
    "ip_forms",
    "transfer_modes",
    "price",
    "pricing_method",
    "confidential_details",
    "nda_text",
]


def _stage_for(trl: int) -> str:
    if trl <= 4:
        return AchievementStage.LAB
    if trl <= 6:
        return AchievementStage.PILOT
    return AchievementStage.TRIAL if trl == 7 else AchievementStage.INDUSTRIAL


def _achievement_build(record: dict[str, Any], supply: _Supply) -> Achievement:
    key = "csl:" + hashlib.sha1(record["title"].encode()).hexdigest()[:32]
    rng = _rng(key)
    owner, creator = supply.pick(key)
    trl = rng.randint(2, 8)
    pricing = rng.choice(list(PricingMethod))
    price = (
        Decimal(rng.randrange(10, 500) * 10000)
        if pricing in {PricingMethod.LISTING, PricingMethod.AUCTION} or rng.random() < 0.3
        else None
    )
    return Achievement(
        owner=owner,
        created_by=creator,
        status=ListingStatus.PUBLISHED,
        published_at=PUBLISHED_AT,
        source_key=key,
        synthetic_fields=ACHIEVEMENT_SYNTHETIC,
        name=record["title"].strip(),
        keywords=[word.strip() for word in record.get("keywords", []) if word.strip()],
        completing_units=[owner.name],
        field=record["discipline"],
        category=record.get("category", ""),
        trl=trl,
        stage=_stage_for(trl),
        ip_forms=rng.sample(["patent", "software_copyright", "know_how"], rng.randint(1, 2)),
        transfer_modes=rng.sample(list(TransferMode.values), rng.randint(1, 3)),
        price=price,
        pricing_method=pricing,
        teaser=record["abstract"].strip(),
        confidential_details=SYNTHETIC["confidential_details"],
        nda_text=SYNTHETIC["nda_text"],
    )


def achievement_rows(data_dir: Path) -> Iterator[dict[str, Any]]:
    """The sample research abstracts (title, abstract, keywords, discipline, category)."""
    with (data_dir / ACHIEVEMENT_FILE).open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                yield json.loads(line)


@dataclass(frozen=True)
class DemoDemand:
    organization: str  #: a DemoOrg key
    title: str
    description: str
    field: str
    ipc_hints: list[str]
    budget_max: int
    collaboration_mode: str
    urgency: str
    is_anonymous: bool
    budget_min: int | None = None

    def __post_init__(self) -> None:
        CollaborationMode(self.collaboration_mode)
        Urgency(self.urgency)


@dataclass(frozen=True)
class DemoExpert:
    organization: str  #: a DemoOrg key
    name: str
    title: str
    fields: list[str]
    bio: str


DEMO_DEMANDS = tuple(DemoDemand(**row) for row in _table("demands")["demand"])
DEMO_EXPERTS = tuple(DemoExpert(**row) for row in _table("experts")["expert"])


def _demand_build(
    index: int, spec: DemoDemand, organizations: dict[str, Organization], creators: dict[int, User]
) -> Demand:
    owner = organizations[spec.organization]
    return Demand(
        owner=owner,
        created_by=creators[owner.pk],
        status=ListingStatus.PUBLISHED,
        published_at=PUBLISHED_AT,
        source_key=f"demo-demand:{index}",
        synthetic_fields=["all"],
        title=spec.title,
        description=spec.description,
        field=spec.field,
        ipc_hints=spec.ipc_hints,
        budget_min=Decimal(spec.budget_min) if spec.budget_min else None,
        budget_max=Decimal(spec.budget_max) if spec.budget_max else None,
        deadline=date(2027, 6, 30) + timedelta(days=30 * index),
        collaboration_mode=spec.collaboration_mode,
        urgency=spec.urgency,
        is_anonymous=spec.is_anonymous,
    )


def _in_batches(items: list, size: int) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _load(
    model: type[Listing],
    candidates: Iterable[Listing],
    progress: Callable[..., Any],
    description: str,
    batch_size: int = 1000,
) -> int:
    """Create the candidates whose source keys are new, with one `published` event each, batch by batch."""
    existing = set(model._default_manager.exclude(source_key=None).values_list("source_key", flat=True))
    new = [item for item in candidates if item.source_key not in existing]
    published = listing_class(ListingPublished, model.__name__.lower())
    with progress(total=len(new), desc=description, unit="rec") as bar:
        for batch in _in_batches(new, batch_size):
            with transaction.atomic():
                created = model._default_manager.bulk_create(batch)
                publish_many([published.of(item) for item in created])
            bar.update(len(batch))
    return len(new)


def market_seed(*, data_dir: Path, progress: Callable[..., Any], limit: int | None = None) -> dict[str, int]:
    """Load everything, then the demo deals (deals.py); returns how many records of each kind were new."""
    organizations = organizations_seed()
    users = users_seed(organizations)
    creators = {}
    for user in users:
        if user.organization_id and user.organization_id not in creators:
            creators[user.organization_id] = user
    supply = _Supply(owners=(organizations["uni"], organizations["inst"]), creators=creators)

    taken = set(Patent.objects.values_list("application_number", flat=True))
    patents = (_patent_build(row, supply, taken) for row in islice(patent_rows(data_dir), limit))
    achievements = (_achievement_build(row, supply) for row in islice(achievement_rows(data_dir), limit))
    demands = (_demand_build(index, spec, organizations, creators) for index, spec in enumerate(DEMO_DEMANDS))
    counts = {
        "patents": _load(Patent, patents, progress, "patents"),
        "achievements": _load(Achievement, achievements, progress, "achievements"),
        "demands": _load(Demand, demands, progress, "demands"),
    }
    new_experts = 0
    for demo in DEMO_EXPERTS:
        with transaction.atomic():
            expert, created = Expert.objects.get_or_create(
                organization=organizations[demo.organization],
                name=demo.name,
                defaults={
                    "title": demo.title,
                    "fields": demo.fields,
                    "bio": demo.bio,
                    "email": f"expert{len(demo.name)}@example.org",
                },
            )
            if created:
                publish(ExpertCreated.of(expert))
        new_experts += created
    counts["experts"] = new_experts
    people = {user.username: user for user in users}
    buyers = [
        (organizations["ent"], people["ent_member"]),
        (organizations["ent2"], people["ent2_member"]),
        *buyers_seed(_credit_code),
    ]
    listings: list[Patent | Achievement] = [
        *Patent.objects.exclude(source_key=None).select_related("owner").order_by("id"),
        *Achievement.objects.exclude(source_key=None).select_related("owner").order_by("id"),
    ]
    counts["deals"] = deals_seed(
        listings=listings, buyers=buyers, people=people, rng=_rng("deals"), progress=progress
    )
    return counts
