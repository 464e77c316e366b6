"""Reading the figures: sums over the rollups (never over the deals), activity counts, lead-time medians, the
consumer's position and the plan's progress.

A question names a period (day, month, quarter, year), a date range, up to two dimensions to group by and
filters on dimensions. Daily rollups hold every single dimension; monthly ones also every pair. So a
question over at most one dimension in all reads the monthly rows when the range is whole months and the
period is not a day (few rows), the daily rows otherwise; a question over two (grouped or filtered) needs the
monthly pair rows, and so whole months and a period of a month or more. Regions are county codes in the
rollups: a city or province is the codes under it (GB/T 2260 prefixes), for grouping and for filters."""

from calendar import monthrange
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import QuerySet, Sum
from django.utils.translation import gettext as _

from market.common.errors import Invalid
from services.stats.consumer import CONSUMER
from services.stats.models import Activity, ActivityCount, Indicator, LeadTime, PlanTarget, Position, Rollup
from services.stats.rollups import DIMENSIONS, METRICS

PERIODS = ("day", "month", "quarter", "year")
REGION_DIMENSIONS = ("seller_region", "buyer_region")
#: a region dimension rolled up: name -> (the county dimension, how many leading digits name the level)
ROLLED_UP_REGIONS = {
    "seller_city": ("seller_region", 4),
    "seller_province": ("seller_region", 2),
    "buyer_city": ("buyer_region", 4),
    "buyer_province": ("buyer_region", 2),
}
GROUPINGS = (*DIMENSIONS, *ROLLED_UP_REGIONS)
MONEY_METRICS = frozenset({"amount", "contract_value", "technology_value"})
SUPPLIER_ORG_TYPES = ("university", "institute")


@dataclass(frozen=True)
class StatsQuery:
    period: str
    start: date
    end: date
    group_by: tuple[str, ...] = ()
    filters: dict[str, str] = field(default_factory=dict)

    @property
    def dimensions(self) -> tuple[str, ...]:
        """The stored dimensions the question touches, in rollup order."""
        used = {ROLLED_UP_REGIONS.get(name, (name, 0))[0] for name in self.group_by} | set(self.filters)
        return tuple(name for name in DIMENSIONS if name in used)


def _whole_months(query: StatsQuery) -> bool:
    return query.start.day == 1 and query.end.day == monthrange(query.end.year, query.end.month)[1]


def stats_query_check(query: StatsQuery) -> str:
    """The grain the question is answered from ("d" or "m"), or a 400 naming the field that makes it
    unanswerable."""
    if query.end < query.start:
        raise Invalid({"to": [_("Must not be before from.")]})
    if len(query.dimensions) > 2:
        raise Invalid(
            {"group_by": [_("At most two dimensions in all, grouped by or filtered on.")]},
            message=_("The figures are kept by at most two dimensions at a time."),
        )
    if len(query.dimensions) == 2:
        if query.period == "day":
            raise Invalid(
                {"period": [_("Figures by two dimensions are kept by month: use month or longer.")]}
            )
        if not _whole_months(query):
            raise Invalid(
                {
                    "from": [
                        _("Figures by two dimensions are kept by month: from and to must span whole months.")
                    ]
                }
            )
        return "m"
    return "m" if query.period != "day" and _whole_months(query) else "d"


def _value_column(query: StatsQuery, dimension: str) -> str:
    return "value_a" if query.dimensions.index(dimension) == 0 else "value_b"


def _grouping_expression(query: StatsQuery, name: str) -> str:
    base, digits = ROLLED_UP_REGIONS.get(name, (name, 0))
    column = _value_column(query, base)
    return f"rpad(left({column}, {digits}), 6, '0')" if digits else column


def _filter_condition(query: StatsQuery, dimension: str, value: str, params: list[Any]) -> str:
    column = _value_column(query, dimension)
    if dimension in REGION_DIMENSIONS and value.endswith("00"):
        prefix = value[:2] if value.endswith("0000") else value[:4]
        params.append(prefix + "%")
        return f"{column} LIKE %s"
    params.append(value)
    return f"{column} = %s"


def _money(value: Decimal | int | None) -> str:
    return f"{Decimal(value or 0):.2f}"


def _figures(row: tuple[Any, ...]) -> dict[str, Any]:
    return {
        name: _money(value) if name in MONEY_METRICS else int(value or 0)
        for name, value in zip(METRICS, row, strict=True)
    }


def stats_rows(query: StatsQuery) -> list[dict[str, Any]]:
    """One row per period (and group), in order: its start day, the group's values, the figures."""
    grain = stats_query_check(query)
    dims = (*query.dimensions, "", "")[:2]
    params: list[Any] = [query.period, grain, dims[0], dims[1], query.start, query.end]
    conditions = [_filter_condition(query, name, value, params) for name, value in query.filters.items()]
    groups = [_grouping_expression(query, name) for name in query.group_by]
    selected = ", ".join(["date_trunc(%s, period)::date AS bucket", *groups])
    sums = ", ".join(f"sum({name})" for name in METRICS)
    group_by = ", ".join(str(position) for position in range(1, 2 + len(groups)))
    sql = f"""
        SELECT {selected}, {sums} FROM {Rollup._meta.db_table}
        WHERE grain = %s AND dim_a = %s AND dim_b = %s AND period BETWEEN %s AND %s
        {"".join(f" AND {condition}" for condition in conditions)}
        GROUP BY {group_by} ORDER BY {group_by}
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        found = cursor.fetchall()
    width = 1 + len(groups)
    return [
        {
            "period": row[0].isoformat(),
            **dict(zip(query.group_by, row[1:width], strict=True)),
            **_figures(row[width:]),
        }
        for row in found
    ]


def _totals(rows: list[dict[str, Any]]) -> dict[str, Any]:
    totals: dict[str, Any] = {}
    for name in METRICS:
        total = sum((Decimal(row[name]) for row in rows), Decimal(0))
        totals[name] = _money(total) if name in MONEY_METRICS else int(total)
    return totals


def stats_group_totals(query: StatsQuery) -> list[dict[str, Any]]:
    """The figures of each group over the whole range (`stats_rows` summed over the periods), the groups
    with most deals first: what a breakdown by a dimension shows."""
    grouped: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    for row in stats_rows(query):
        grouped.setdefault(tuple(row[name] for name in query.group_by), []).append(row)
    totals = [
        {**dict(zip(query.group_by, key, strict=True)), **_totals(rows)} for key, rows in grouped.items()
    ]
    return sorted(totals, key=lambda row: (-row["deals"], [str(row[name]) for name in query.group_by]))


def activity_counts(*, start: date, end: date) -> dict[str, int]:
    """How many of each activity the range saw, and supplier listings (by universities and institutes)."""
    found = ActivityCount.objects.filter(day__range=(start, end))
    counts = {activity: 0 for activity in Activity.values}
    for row in found.values("activity").annotate(total=Sum("count")):
        counts[row["activity"]] = int(row["total"])
    supplier = found.filter(
        activity__in=(Activity.PATENT_PUBLISHED, Activity.ACHIEVEMENT_PUBLISHED),
        org_type__in=SUPPLIER_ORG_TYPES,
    ).aggregate(total=Sum("count"))["total"]
    counts["supplier_listings"] = int(supplier or 0)
    return counts


def median_days_to_deal(*, start: date, end: date) -> float | None:
    """The median days from a listing's publication to its deal, over deals opened in the range's months."""
    buckets = list(
        LeadTime.objects.filter(month__range=(start.replace(day=1), end), deals__gt=0)
        .order_by("days")
        .values_list("days", "deals")
    )
    total = sum(deals for _days, deals in buckets)
    if not total:
        return None
    positions = ((total - 1) // 2, total // 2)  # the middle one, or the two middle ones
    values: list[int] = []
    seen = 0
    for days, deals in buckets:
        values += [days for position in positions if seen <= position < seen + deals]
        seen += deals
    return sum(values) / len(values)


def current_to() -> datetime | None:
    """The time of the newest event the stats consumer applied: figures are true up to then."""
    return Position.objects.filter(consumer=CONSUMER).values_list("current_to", flat=True).first()


def stats_figures(query: StatsQuery) -> dict[str, Any]:
    """The whole answer of `/api/v1/stats/`."""
    rows = stats_rows(query)
    counts = activity_counts(start=query.start, end=query.end)
    won, failed = counts[Activity.AUCTION_WON], counts[Activity.AUCTION_FAILED]
    return {
        "current_to": current_to(),
        "period": query.period,
        "from": query.start,
        "to": query.end,
        "group_by": list(query.group_by),
        "filters": query.filters,
        "totals": _totals(rows),
        "rows": rows,
        "auctions": {
            "won": won,
            "failed": failed,
            "success_rate": round(won / (won + failed), 4) if won + failed else None,
        },
        "published": {
            "patent": counts[Activity.PATENT_PUBLISHED],
            "achievement": counts[Activity.ACHIEVEMENT_PUBLISHED],
            "demand": counts[Activity.DEMAND_PUBLISHED],
            "expert": counts[Activity.EXPERT_PUBLISHED],
            "proposal": counts[Activity.PROPOSAL_SUBMITTED],
        },
        # kept for all deals only: with a filter it would not be the filtered deals' median
        "median_days_to_deal": None
        if query.filters
        else median_days_to_deal(start=query.start, end=query.end),
    }


def indicator_achieved(*, indicator: str, start: date, end: date) -> Decimal:
    """How far the market got on an indicator over a range: counted from the daily totals and activities."""
    if indicator in (Indicator.SUPPLIER_LISTINGS, Indicator.DEMANDS_COLLECTED):
        counts = activity_counts(start=start, end=end)
        key = "supplier_listings" if indicator == Indicator.SUPPLIER_LISTINGS else Activity.DEMAND_PUBLISHED
        return Decimal(counts[key])
    metric = {
        Indicator.INVENTIONS_INDUSTRIALISED: "inventions",
        Indicator.TECHNOLOGY_TRANSACTION_VALUE: "technology_value",
        Indicator.CONTRACTS_REGISTERED: "contracts",
    }[Indicator(indicator)]
    total = Rollup.objects.filter(grain="d", dim_a="", dim_b="", period__range=(start, end)).aggregate(
        total=Sum(metric)
    )["total"]
    return Decimal(total or 0)


def plan_target_list() -> QuerySet[PlanTarget]:
    """The plan's targets, by indicator and period (the model's order)."""
    return PlanTarget.objects.all()


def targets_achieved(targets: Iterable[PlanTarget]) -> dict[int, Decimal]:
    """How far the market got on each target's indicator over the target's own period, by target id."""
    return {
        target.pk: indicator_achieved(indicator=target.indicator, start=target.starts_on, end=target.ends_on)
        for target in targets
    }
