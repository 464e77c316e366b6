"""Demo deals (data/deals.toml): completed technology transactions on the sample listings over the two years
before the seeding day, each with a registered contract, so the statistics are not empty on first start.

A deal is written as it ends (completed, version 7, as the services number its steps) and publishes the facts
the services would at the three moments the statistics count on: opened (v1), contract registered (v5) and
completed (v7), each with the deal's profile as it stood then. The stats consumer builds its rollups from
them like from any deal; the steps between (signing, submission, payment) are left out, their facts carry
nothing the newer ones do not. Everything is synthetic and says so (see deals.toml); once demo deals exist,
seeding again adds none."""

import copy
import math
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils import timezone

from market.accounts.models import Organization, OrganizationStatus, OrganizationType, OrgRole, User
from market.catalog.models import Achievement, Patent
from market.events.catalogue import DealCompleted, DealContractRegistered, DealOpened
from market.events.publishing import publish_many
from market.trading.models import Deal, DealStage, Offer, OfferStatus, Purchase, RegistrationStatus
from market.trading.services.availability import availability_refresh

with (Path(__file__).resolve().parent / "data" / "deals.toml").open("rb") as _handle:
    DEALS = tomllib.load(_handle)

#: the prefix of every demo registration number (real ones are digits)
NUMBER_PREFIX = "示例"
#: the versions of a deal's facts, as the services number them: opened, signed by each party, submitted,
#: registered, paid, completed
OPENED, REGISTERED, COMPLETED = 1, 5, 7


@dataclass(frozen=True)
class _Contract:
    contract_type: str
    transaction_mode: str
    weight: int


CONTRACTS = tuple(_Contract(**row) for row in DEALS["contract"])


def buyers_seed(credit_code: Callable[[str], str]) -> list[tuple[Organization, User]]:
    """The invented buyers, each with one inactive account (a purchase or an offer names the user who made
    it); nobody signs in as them and no notification reaches them."""
    buyers = []
    for row in DEALS["buyer"]:
        county = row["county_code"]
        organization, _created = Organization.objects.get_or_create(
            name=row["name"],
            defaults={
                "org_type": OrganizationType.ENTERPRISE,
                "credit_code": credit_code(row["key"]),
                "province_code": county[:2] + "0000",
                "city_code": county[:4] + "00",
                "county_code": county,
                "description": "示例企业：演示交易统计的买方。",
                "status": OrganizationStatus.APPROVED,
            },
        )
        user = User.objects.filter(username=row["key"]).first()
        if user is None:
            user = User(
                username=row["key"], organization=organization, org_role=OrgRole.ORG_ADMIN, is_active=False
            )
            user.set_unusable_password()
            user.save()
        buyers.append((organization, user))
    return buyers


def _local(day: Any, rng: Any) -> datetime:
    """A moment in office hours of a day, in the market's time zone."""
    moment = datetime.combine(day, time(rng.randint(8, 17), rng.randrange(60)))
    return timezone.make_aware(moment)


def _money(value: float) -> Decimal:
    return Decimal(round(value, -2)).quantize(Decimal("0.01"))


def _deal_build(
    index: int,
    listing: Patent | Achievement,
    buyer: tuple[Organization, User],
    broker: User | None,
    rng: Any,
) -> tuple[Deal, Offer | Purchase, datetime]:
    """A completed deal (not saved) on the listing, its source, and the moment it opened."""
    contract = rng.choices(CONTRACTS, weights=[c.weight for c in CONTRACTS])[0]
    today = timezone.localdate()
    to_register, to_complete = rng.randint(7, 45), rng.randint(5, 75)
    opened_on = today - timedelta(days=rng.randint(to_register + to_complete + 1, DEALS["days"]))
    registered_on = opened_on + timedelta(days=to_register)
    closed_on = registered_on + timedelta(days=to_complete)
    amount = _money(min(max(rng.lognormvariate(math.log(400_000), 0.9), 20_000), 30_000_000))
    kind = "patent" if isinstance(listing, Patent) else "achievement"
    organization, user = buyer
    name = listing.title if isinstance(listing, Patent) else listing.name
    title = f"{name[:290]}（示例）"
    link = {kind: listing, "listing_kind": kind, "owner": listing.owner, "buyer": organization}
    common = {**link, "buyer_user": user, "title": title, "amount": amount}
    source: Offer | Purchase = (
        Purchase(**common, transaction_mode=contract.transaction_mode)
        if listing.price is not None and rng.random() < 0.5
        else Offer(**common, transaction_mode=contract.transaction_mode, status=OfferStatus.ACCEPTED)
    )
    deal = Deal(
        title=title,
        seller=listing.owner,
        buyer=organization,
        **{kind: listing},
        amount=amount,
        transaction_mode=contract.transaction_mode,
        stage=DealStage.COMPLETED,
        version=COMPLETED,
        broker=broker,
        broker_mandate="buyer" if broker is not None else "",
        contract_type=contract.contract_type,
        contract_value=amount,
        technology_transaction_value=_money(float(amount) * rng.uniform(0.6, 1.0)),
        seller_signed_at=_local(opened_on + timedelta(days=to_register // 2), rng),
        buyer_signed_at=_local(opened_on + timedelta(days=to_register // 2), rng),
        registration_status=RegistrationStatus.REGISTERED,
        registration_submitted_at=_local(registered_on - timedelta(days=2), rng),
        registration_number=f"{NUMBER_PREFIX}{registered_on.year}{listing.owner.county_code}{index:04d}",
        registered_on=registered_on,
        closed_at=_local(closed_on, rng),
    )
    return deal, source, _local(opened_on, rng)


def _facts(deal: Deal, *, seller: User, buyer: User, registrar: User) -> list[Any]:
    """The facts of the three counted moments, each of the deal as it stood then."""
    opened = copy.copy(deal)
    opened.version, opened.stage, opened.closed_at = OPENED, DealStage.NEGOTIATING, None
    opened.contract_type, opened.contract_value, opened.technology_transaction_value = "", None, None
    opened.registration_status, opened.registration_number, opened.registered_on = "not_submitted", "", None
    registered = copy.copy(deal)
    registered.version, registered.stage, registered.closed_at = (
        REGISTERED,
        DealStage.CONTRACT_REGISTERED,
        None,
    )
    return [
        DealOpened.of(opened, actor=seller, source=deal.source),
        DealContractRegistered.of(registered, actor=registrar),
        DealCompleted.of(deal, actor=buyer),
    ]


def deals_seed(
    *,
    listings: list[Patent | Achievement],
    buyers: list[tuple[Organization, User]],
    people: dict[str, User],
    rng: Any,
    progress: Callable[..., Any],
) -> int:
    """Up to `count` completed deals (no more than half the listings), each on its own listing, unless demo
    deals exist already; returns how many were new."""
    if Deal.objects.filter(registration_number__startswith=NUMBER_PREFIX).exists():
        return 0
    count = min(DEALS["count"], len(listings) // 2)
    chosen = rng.sample(listings, count)
    sellers = {user.organization_id: user for user in people.values() if user.organization_id}
    with progress(total=count, desc="deals", unit="deal") as bar:
        for index, listing in enumerate(chosen):
            buyer = buyers[rng.randrange(len(buyers))]
            broker = people["broker"] if rng.random() < 0.3 else None
            deal, source, opened_at = _deal_build(index, listing, buyer, broker, rng)
            with transaction.atomic():
                source.save()
                setattr(deal, "offer" if isinstance(source, Offer) else "purchase", source)
                deal.save()
                Deal.objects.filter(pk=deal.pk).update(created_at=opened_at)
                deal.created_at = opened_at
                seller = sellers[listing.owner_id]
                publish_many(_facts(deal, seller=seller, buyer=buyer[1], registrar=people["gov_registrar"]))
                availability_refresh(listing)
            bar.update(1)
    return count
