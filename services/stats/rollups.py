"""A deal's figures and the rollups they add up to: the arithmetic, and one SQL statement per table to apply.

A deal counts, by its classification (`DIMENSIONS`), on up to three days: the day it opened (a deal and its
amount), the day its technology contract was registered (a contract, its value and the technology-transaction
value within it; not once the deal is cancelled), and the day it closed (completed, and then an invention
patent industrialised if it traded one; or cancelled). Its lead time is the days from its listing's
publication to the day it opened.

The rollups hold those sums for every slice: per day for all deals and for each single dimension's values,
per month also for every pair of dimensions. When a deal's next fact arrives, the difference between its new
figures and the ones it had (`DealContribution`) is added: a correction, a cancellation after registration or
a new classification moves exactly what changed, and a replayed or older fact (version not newer) changes
nothing."""

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from itertools import combinations
from typing import Any

from django.db import connection

from market.events.catalogue import DealProfile
from services.stats.models import DealContribution, LeadTime, Rollup

#: what a deal is classified by, as its rollup dimension names
DIMENSIONS = (
    "contract_type",
    "source",
    "field",
    "ipc",
    "seller_type",
    "seller_region",
    "buyer_region",
    "broker",
)
#: the slices kept per day (all deals, each dimension) and per month (also each pair of dimensions)
DAILY_SLICES: tuple[tuple[str, ...], ...] = ((), *((name,) for name in DIMENSIONS))
MONTHLY_SLICES: tuple[tuple[str, ...], ...] = (*DAILY_SLICES, *combinations(DIMENSIONS, 2))
GRAINS = {"d": DAILY_SLICES, "m": MONTHLY_SLICES}
#: the summed figures, in the order of a figure vector
METRICS = (
    "deals",
    "amount",
    "contracts",
    "contract_value",
    "technology_value",
    "completed",
    "inventions",
    "cancelled",
)
ZERO = Decimal(0)
Vector = tuple[int | Decimal, ...]
#: (grain, period, dim_a, value_a, dim_b, value_b)
SliceKey = tuple[str, date, str, str, str, str]


@dataclass(frozen=True)
class DealFigures:
    """What one deal contributes (the columns of `DealContribution`)."""

    deal_id: int
    version: int
    contract_type: str
    source: str
    field: str
    ipc: str
    seller_type: str
    seller_region: str
    buyer_region: str
    broker: str
    opened_on: date
    amount: Decimal
    registered_on: date | None
    contract_value: Decimal
    technology_value: Decimal
    closed_on: date | None
    completed: bool
    invention: bool
    cancelled: bool
    lead_days: int | None

    @property
    def dimensions(self) -> tuple[str, ...]:
        return tuple(getattr(self, name) for name in DIMENSIONS)

    def entries(self) -> list[tuple[date, Vector]]:
        """The days this deal counts on, each with its figure vector (METRICS order)."""
        counted: list[tuple[date, Vector]] = [(self.opened_on, (1, self.amount, 0, ZERO, ZERO, 0, 0, 0))]
        if self.registered_on is not None:
            counted.append(
                (self.registered_on, (0, ZERO, 1, self.contract_value, self.technology_value, 0, 0, 0))
            )
        if self.closed_on is not None and (self.completed or self.cancelled):
            counted.append(
                (
                    self.closed_on,
                    (0, ZERO, 0, ZERO, ZERO, int(self.completed), int(self.invention), int(self.cancelled)),
                )
            )
        return counted

    def lead(self) -> tuple[date, int] | None:
        return None if self.lead_days is None else (month_of(self.opened_on), self.lead_days)


def month_of(day: date) -> date:
    return day.replace(day=1)


def _day(text: str | None) -> date | None:
    return None if text is None else date.fromisoformat(text)


def figures_of(
    *, deal_id: int, version: int, stage: str, amount: Decimal, profile: DealProfile
) -> DealFigures:
    """A deal's figures from its stage, amount and profile (the module docstring says what counts where)."""
    opened_on = date.fromisoformat(profile.opened_on)
    listed_on = _day(profile.listed_on)
    completed, cancelled = stage == "completed", stage == "cancelled"
    registered = profile.registration_status == "registered" and profile.registered_on is not None
    counts_contract = registered and not cancelled
    return DealFigures(
        deal_id=deal_id,
        version=version,
        contract_type=profile.contract_type,
        source=profile.source,
        field=profile.technical_field,
        ipc=profile.ipc_section,
        seller_type=profile.seller_type,
        seller_region=profile.seller_region,
        buyer_region=profile.buyer_region,
        broker="" if profile.broker_org_id is None else str(profile.broker_org_id),
        opened_on=opened_on,
        amount=Decimal(amount),
        registered_on=_day(profile.registered_on) if counts_contract else None,
        contract_value=Decimal(profile.contract_value or 0) if counts_contract else ZERO,
        technology_value=Decimal(profile.technology_transaction_value or 0) if counts_contract else ZERO,
        closed_on=_day(profile.closed_on) if completed or cancelled else None,
        completed=completed,
        invention=completed and profile.patent_type == "invention",
        cancelled=cancelled,
        lead_days=None if listed_on is None else max(0, (opened_on - listed_on).days),
    )


def _add(target: dict[Any, list[int | Decimal]], key: Any, vector: Vector, sign: int) -> None:
    current = target.get(key)
    if current is None:
        target[key] = [value * sign for value in vector]
    else:
        for index, value in enumerate(vector):
            current[index] += value * sign


class RollupDelta:
    """What a batch of figure changes adds to the rollups and the lead-time histogram."""

    def __init__(self) -> None:
        self._entries: dict[tuple[tuple[str, ...], date], list[int | Decimal]] = {}
        self.lead: dict[tuple[date, int], int] = defaultdict(int)

    def change(self, old: DealFigures | None, new: DealFigures) -> None:
        """Move a deal from its `old` figures (None: it never counted) to its `new` ones."""
        for figures, sign in ((old, -1), (new, 1)):
            if figures is None:
                continue
            dimensions = figures.dimensions
            for day, vector in figures.entries():
                _add(self._entries, (dimensions, day), vector, sign)
            lead = figures.lead()
            if lead is not None:
                self.lead[lead] += sign

    def slices(self) -> dict[SliceKey, list[int | Decimal]]:
        """The changed entries spread over every slice they count in (zero changes are dropped)."""
        rows: dict[SliceKey, list[int | Decimal]] = {}
        for (dimensions, day), vector in self._entries.items():
            if not any(vector):
                continue
            values = dict(zip(DIMENSIONS, dimensions, strict=True))
            for grain, slices in GRAINS.items():
                period = day if grain == "d" else month_of(day)
                for names in slices:
                    dim_a, dim_b = (*names, "", "")[:2]
                    key = (grain, period, dim_a, values.get(dim_a, ""), dim_b, values.get(dim_b, ""))
                    _add(rows, key, tuple(vector), 1)
        return {key: vector for key, vector in rows.items() if any(vector)}


def _columns(rows: Sequence[Sequence[object]]) -> list[list[object]]:
    return [list(column) for column in zip(*rows, strict=True)] if rows else []


_ROLLUP_UPSERT = f"""
INSERT INTO {Rollup._meta.db_table} (grain, period, dim_a, value_a, dim_b, value_b, {", ".join(METRICS)})
SELECT * FROM unnest(%s::text[], %s::date[], %s::text[], %s::text[], %s::text[], %s::text[],
                     %s::bigint[], %s::numeric[], %s::bigint[], %s::numeric[], %s::numeric[],
                     %s::bigint[], %s::bigint[], %s::bigint[])
ON CONFLICT (grain, dim_a, dim_b, period, value_a, value_b) DO UPDATE SET
{", ".join(f"{name} = {Rollup._meta.db_table}.{name} + excluded.{name}" for name in METRICS)}
"""
_LEAD_UPSERT = f"""
INSERT INTO {LeadTime._meta.db_table} (month, days, deals)
SELECT * FROM unnest(%s::date[], %s::int[], %s::bigint[])
ON CONFLICT (month, days) DO UPDATE SET deals = {LeadTime._meta.db_table}.deals + excluded.deals
"""
_CONTRIBUTION_FIELDS = [field.column for field in DealContribution._meta.concrete_fields]
_CONTRIBUTION_UPSERT = f"""
INSERT INTO {DealContribution._meta.db_table} ({", ".join(_CONTRIBUTION_FIELDS)})
VALUES ({", ".join(["%s"] * len(_CONTRIBUTION_FIELDS))})
ON CONFLICT (deal_id) DO UPDATE SET
{", ".join(f"{name} = excluded.{name}" for name in _CONTRIBUTION_FIELDS if name != "deal_id")}
"""


def rollups_apply(delta: RollupDelta) -> int:
    """Add a delta to the tables, in key order (concurrent consumers lock rows in the same order). Returns
    how many rollup rows it touched."""
    rows = sorted(delta.slices().items())
    lead = sorted((key, count) for key, count in delta.lead.items() if count)
    with connection.cursor() as cursor:
        if rows:
            cursor.execute(_ROLLUP_UPSERT, _columns([(*key, *vector) for key, vector in rows]))
        if lead:
            cursor.execute(_LEAD_UPSERT, _columns([(month, days, count) for (month, days), count in lead]))
    return len(rows)


def contributions_read(deal_ids: Iterable[int]) -> dict[int, DealFigures]:
    """The figures the deals count with now, locked until the transaction ends."""
    names = [field.attname for field in DealContribution._meta.concrete_fields]
    found = (
        DealContribution.objects.select_for_update().filter(deal_id__in=list(deal_ids)).values_list(*names)
    )
    return {row[0]: DealFigures(**dict(zip(names, row, strict=True))) for row in found}


def contributions_write(figures: Iterable[DealFigures]) -> None:
    rows = [
        tuple(getattr(item, field.attname) for field in DealContribution._meta.concrete_fields)
        for item in figures
    ]
    if rows:
        with connection.cursor() as cursor:
            cursor.executemany(_CONTRIBUTION_UPSERT, rows)
