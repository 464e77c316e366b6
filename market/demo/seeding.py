"""Loads the real sample data (../shared/data) plus demo organizations, users, demands and experts.

The real fields (patent titles, publication numbers, IPC subclasses; paper titles, abstracts, keywords,
disciplines) are kept as they are. What the sources lack (applicants, inventors, dates, legal status,
application numbers, TRL, prices) is generated from a fixed seed per record and listed in each record's
`synthetic_fields`, so nobody mistakes it for fact. Records are keyed by `source_key`: loading twice changes
nothing."""

import csv
import hashlib
import json
import random
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
from market.catalog.services import _add_years, _fact
from market.catalog.snapshots import listing_snapshot
from market.common.validators import application_number_check_char, parse_publication_number
from market.events.catalogue import ListingCreated, ListingPublished
from market.events.publishing import publish, publish_many

SEED = 20261126
#: a fixed publication moment, so a second import produces identical rows
PUBLISHED_AT = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
PATENT_FILE = "cn_patents_ipc.csv"
ACHIEVEMENT_FILE = "csl_achievements.jsonl"

#: IPC sections (WIPO's official titles, in Chinese) used as the patent's technical field
IPC_SECTIONS = {
    "A": "人类生活必需",
    "B": "作业；运输",
    "C": "化学；冶金",
    "D": "纺织；造纸",
    "E": "固定建筑物",
    "F": "机械工程；照明；加热；武器；爆破",
    "G": "物理",
    "H": "电学",
}
_SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
)
_GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国志红玲浩宇晨博文斌鹏飞雪梅海燕"


def demo_password() -> str:
    return getattr(settings, "MARKET_DEMO_PASSWORD", "demo-market-2026")


@dataclass(frozen=True)
class DemoOrg:
    key: str
    name: str
    org_type: str
    county_code: str
    description: str


DEMO_ORGS = (
    DemoOrg(
        "uni",
        "示范理工大学（示例）",
        OrganizationType.UNIVERSITY,
        "330106",
        "示例高校：技术转移中心负责专利与科技成果的挂牌转化。",
    ),
    DemoOrg(
        "inst",
        "示范工业技术研究院（示例）",
        OrganizationType.INSTITUTE,
        "330110",
        "示例科研院所：面向制造业的应用研究与中试。",
    ),
    DemoOrg(
        "ent",
        "示范新能源科技有限公司（示例）",
        OrganizationType.ENTERPRISE,
        "330127",
        "示例企业：锂电池与储能系统制造。",
    ),
    DemoOrg(
        "ent2",
        "示范精密机械股份有限公司（示例）",
        OrganizationType.ENTERPRISE,
        "330127",
        "示例企业：数控机床与自动化装备。",
    ),
    DemoOrg(
        "broker",
        "示范技术转移服务中心（示例）",
        OrganizationType.INTERMEDIARY,
        "330106",
        "示例中介机构：技术经纪、评估与交易撮合。",
    ),
    DemoOrg(
        "gov",
        "示范县科学技术局（示例）",
        OrganizationType.GOVERNMENT,
        "330127",
        "示例政府部门：县级科技主管部门。",
    ),
)

#: username -> (organization key or None, org role, platform admin?, display name)
DEMO_USERS: dict[str, tuple[str | None, str, bool, str]] = {
    "admin": (None, OrgRole.MEMBER, True, "平台管理员"),
    "uni_admin": ("uni", OrgRole.ORG_ADMIN, False, "高校技术转移中心主任"),
    "uni_member": ("uni", OrgRole.MEMBER, False, "高校科研人员"),
    "inst_member": ("inst", OrgRole.MEMBER, False, "研究院成果转化专员"),
    "ent_admin": ("ent", OrgRole.ORG_ADMIN, False, "企业研发经理"),
    "ent_member": ("ent", OrgRole.MEMBER, False, "企业工程师"),
    "ent2_member": ("ent2", OrgRole.MEMBER, False, "机械企业技术主管"),
    "broker": ("broker", OrgRole.MEMBER, False, "技术经纪人"),
    "gov_viewer": ("gov", OrgRole.MEMBER, False, "县科技局工作人员"),
}


def _rng(key: str) -> random.Random:
    return random.Random(f"{SEED}:{key}")


def _credit_code(key: str) -> str:
    """A valid, clearly synthetic unified social credit code (registration authority 9, type 1)."""
    rng = _rng(f"uscc:{key}")
    body = "91" + "330127" + "".join(rng.choice("0123456789ABCDEFGHJKLMNPQRTUWXY") for _ in range(9))
    return body + uscc.calc_check_digit(body)


def _person_name(rng: random.Random) -> str:
    return rng.choice(_SURNAMES) + "".join(rng.choice(_GIVEN) for _ in range(rng.choice((1, 2))))


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
    for username, (org_key, role, platform_admin, display_name) in DEMO_USERS.items():
        user = User.objects.filter(username=username).first()
        if user is None:
            user = User(
                username=username,
                organization=organizations.get(org_key) if org_key else None,
                org_role=role,
                is_platform_admin=platform_admin,
                is_staff=platform_admin,
                is_superuser=platform_admin,
                display_name=display_name,
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
NDA_TEXT = (
    "本人/本单位承诺：对通过本平台获取的成果保密信息仅用于评估合作，不向第三方披露，"
    "未经成果持有方书面同意不得使用。（示例保密协议）"
)


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
        confidential_details="（示例保密信息）工艺参数、关键配方与中试数据，签署保密协议后可见。",
        nda_text=NDA_TEXT,
    )


def achievement_rows(data_dir: Path) -> Iterator[dict[str, Any]]:
    """The sample research abstracts (title, abstract, keywords, discipline, category)."""
    with (data_dir / ACHIEVEMENT_FILE).open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                yield json.loads(line)


DEMO_DEMANDS = (
    (
        "ent",
        "高镍三元正极材料循环寿命提升技术",
        "现有高镍NCM811电池在1C循环800次后容量保持率低于80%，寻求表面包覆或掺杂改性方案，"
        "目标1000次循环保持率≥85%。",
        "电学",
        ["H01M"],
        500000,
        2000000,
        CollaborationMode.JOINT_DEVELOPMENT,
        Urgency.HIGH,
        False,
    ),
    (
        "ent",
        "储能电站电池簇热失控早期预警算法",
        "需要基于电压、温度与气体传感数据的热失控早期预警模型，误报率低于1%，可部署在BMS边缘端。",
        "电学",
        ["H02J", "G01R"],
        300000,
        800000,
        CollaborationMode.COMMISSIONED,
        Urgency.URGENT,
        False,
    ),
    (
        "ent",
        "锂电池极片涂布厚度在线检测",
        "涂布线速度60米/分钟条件下，面密度在线检测精度需达到±0.5%，寻求成熟技术许可或联合开发。",
        "物理",
        ["G01B", "G01N"],
        200000,
        600000,
        CollaborationMode.LICENCE,
        Urgency.NORMAL,
        True,
    ),
    (
        "ent2",
        "五轴数控机床热误差补偿",
        "机床连续加工8小时后主轴热伸长导致精度下降，寻求热误差建模与实时补偿技术。",
        "机械工程；照明；加热；武器；爆破",
        ["B23Q", "G05B"],
        400000,
        1200000,
        CollaborationMode.JOINT_DEVELOPMENT,
        Urgency.HIGH,
        False,
    ),
    (
        "ent2",
        "精密减速器齿轮低噪声修形设计",
        "RV减速器在额定负载下噪声超过70分贝，需要齿形修形设计与试验验证服务。",
        "机械工程；照明；加热；武器；爆破",
        ["F16H"],
        150000,
        500000,
        CollaborationMode.SERVICE,
        Urgency.NORMAL,
        False,
    ),
    (
        "ent2",
        "工业视觉表面缺陷检测",
        "需要对金属加工件表面划痕、凹坑进行自动检测，检出率≥99%，节拍小于1秒。",
        "物理",
        ["G06T", "G01N"],
        None,
        300000,
        CollaborationMode.TRANSFER,
        Urgency.LOW,
        True,
    ),
)


def _demand_build(
    index: int, spec: tuple, organizations: dict[str, Organization], creators: dict[int, User]
) -> Demand:
    org_key, title, description, field, ipc, low, high, mode, urgency, anonymous = spec
    owner = organizations[org_key]
    return Demand(
        owner=owner,
        created_by=creators[owner.pk],
        status=ListingStatus.PUBLISHED,
        published_at=PUBLISHED_AT,
        source_key=f"demo-demand:{index}",
        synthetic_fields=["all"],
        title=title,
        description=description,
        field=field,
        ipc_hints=ipc,
        budget_min=Decimal(low) if low else None,
        budget_max=Decimal(high) if high else None,
        deadline=date(2027, 6, 30) + timedelta(days=30 * index),
        collaboration_mode=mode,
        urgency=urgency,
        is_anonymous=anonymous,
    )


DEMO_EXPERTS = (
    ("uni", "李振华", "教授", ["电化学储能", "锂离子电池"], "长期从事锂离子电池正极材料研究。"),
    ("uni", "陈雪梅", "研究员", ["机器视觉", "工业检测"], "研究方向为工业视觉检测与深度学习。"),
    ("inst", "王建国", "高级工程师", ["数控机床", "精密制造"], "主持多项机床热误差补偿项目。"),
    ("broker", "张敏", "高级技术经纪人", ["技术转移", "知识产权运营"], "从事技术经纪与专利运营十余年。"),
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
    with progress(total=len(new), desc=description, unit="rec") as bar:
        for batch in _in_batches(new, batch_size):
            with transaction.atomic():
                created = model._default_manager.bulk_create(batch)
                publish_many(
                    [
                        ListingPublished(
                            aggregate=model.__name__.lower(),
                            aggregate_id=item.pk,
                            version=item.version,
                            status=item.status,
                            owner_org_id=item.owner_id,
                            snapshot=listing_snapshot(item),
                        )
                        for item in created
                    ]
                )
            bar.update(len(batch))
    return len(new)


def market_seed(*, data_dir: Path, progress: Callable[..., Any], limit: int | None = None) -> dict[str, int]:
    """Load everything; returns how many records of each kind were new."""
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
    for org_key, name, title, fields, bio in DEMO_EXPERTS:
        with transaction.atomic():
            expert, created = Expert.objects.get_or_create(
                organization=organizations[org_key],
                name=name,
                defaults={
                    "title": title,
                    "fields": fields,
                    "bio": bio,
                    "email": f"expert{len(name)}@example.org",
                },
            )
            if created:
                publish(_fact(ListingCreated, expert))
        new_experts += created
    counts["experts"] = new_experts
    return counts
