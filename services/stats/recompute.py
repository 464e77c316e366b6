"""Rebuild every deal figure from the deal rows, in SQL, and compare it with what the consumer kept.

This is the brute force the incremental rollups are checked against: the deal rows (not the events) give each
deal's contribution, the contributions give the rollups by plain GROUP BY GROUPING SETS, and any slice whose
sums differ from the kept rollup is a difference. The rules are those of `rollups.figures_of` and
`Deal.profile`, written a second time in SQL on purpose: the property tests hold the two to each other.

While it runs, the stats tables are locked against writes (the consumer waits; the API still reads)."""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.backends.utils import CursorWrapper

from market.accounts.models import Organization, User
from market.catalog.models import Achievement, Demand, Patent
from market.trading.models import DEAL_SOURCES, Deal
from services.stats.models import DealContribution, LeadTime, Rollup
from services.stats.rollups import DIMENSIONS, GRAINS, METRICS

#: deals per statement while contributions are rebuilt (one progress step each)
CHUNK = 50_000

_DEAL = Deal._meta.db_table
_CONTRIBUTION = DealContribution._meta.db_table
_ROLLUP = Rollup._meta.db_table
_LEAD = LeadTime._meta.db_table
_SOURCE = (
    "CASE "
    + " ".join(f"WHEN d.{name}_id IS NOT NULL THEN '{name}'" for name in DEAL_SOURCES)
    + " ELSE '' END"
)


def _listing(column_by_kind: dict[str, str]) -> str:
    """The traded listing's column: the patent's, else the achievement's, else the demand's (as in
    Deal.profile)."""
    whens = " ".join(f"WHEN d.{kind}_id IS NOT NULL THEN {column}" for kind, column in column_by_kind.items())
    return f"CASE {whens} END"


def _local_day(column: str) -> str:
    return f"({column} AT TIME ZONE %(tz)s)::date"


_LISTED_ON = _local_day(
    _listing({"patent": "p.published_at", "achievement": "a.published_at", "demand": "dm.published_at"})
)
_OPENED_ON = _local_day("d.created_at")
_COUNTS_CONTRACT = (
    "d.registration_status = 'registered' AND d.registered_on IS NOT NULL AND d.stage <> 'cancelled'"
)
_CLOSES = "d.stage IN ('completed', 'cancelled')"

_FRESH_CONTRIBUTIONS = f"""
INSERT INTO stats_fresh_contribution
SELECT d.id, d.version, d.contract_type, {_SOURCE},
       coalesce({_listing({"patent": "p.field", "achievement": "a.field", "demand": "dm.field"})}, ''),
       coalesce(left({_listing({"patent": "p.ipc_codes[1]", "demand": "dm.ipc_hints[1]"})}, 1), ''),
       s.org_type, s.county_code, b.county_code, coalesce(u.organization_id::text, ''),
       {_OPENED_ON}, d.amount,
       CASE WHEN {_COUNTS_CONTRACT} THEN d.registered_on END,
       CASE WHEN {_COUNTS_CONTRACT} THEN coalesce(d.contract_value, 0) ELSE 0 END,
       CASE WHEN {_COUNTS_CONTRACT} THEN coalesce(d.technology_transaction_value, 0) ELSE 0 END,
       CASE WHEN {_CLOSES} THEN {_local_day("d.closed_at")} END,
       d.stage = 'completed', d.stage = 'completed' AND coalesce(p.patent_type = 'invention', false),
       d.stage = 'cancelled',
       CASE WHEN {_LISTED_ON} IS NOT NULL THEN greatest(0, {_OPENED_ON} - {_LISTED_ON}) END
FROM {_DEAL} d
JOIN {Organization._meta.db_table} s ON s.id = d.seller_id
JOIN {Organization._meta.db_table} b ON b.id = d.buyer_id
LEFT JOIN {Patent._meta.db_table} p ON p.id = d.patent_id
LEFT JOIN {Achievement._meta.db_table} a ON a.id = d.achievement_id
LEFT JOIN {Demand._meta.db_table} dm ON dm.id = d.demand_id
LEFT JOIN {User._meta.db_table} u ON u.id = d.broker_id
WHERE d.id >= %(low)s AND d.id < %(high)s
"""

_DIMS = ", ".join(DIMENSIONS)
_ENTRIES = f"""
CREATE TEMP TABLE stats_fresh_entry ON COMMIT DROP AS
SELECT {_DIMS}, opened_on AS day, 1::bigint AS deals, amount, 0::bigint AS contracts,
       0::numeric AS contract_value, 0::numeric AS technology_value, 0::bigint AS completed,
       0::bigint AS inventions, 0::bigint AS cancelled
FROM stats_fresh_contribution
UNION ALL
SELECT {_DIMS}, registered_on, 0, 0, 1, contract_value, technology_value, 0, 0, 0
FROM stats_fresh_contribution WHERE registered_on IS NOT NULL
UNION ALL
SELECT {_DIMS}, closed_on, 0, 0, 0, 0, 0, completed::int, invention::int, cancelled::int
FROM stats_fresh_contribution WHERE closed_on IS NOT NULL AND (completed OR cancelled)
"""


def _mask(names: tuple[str, ...]) -> int:
    """GROUPING(dim, ...)'s value for a slice: a bit set (leftmost dimension highest) for each dimension not
    grouped by."""
    return sum(
        1 << (len(DIMENSIONS) - 1 - index) for index, name in enumerate(DIMENSIONS) if name not in names
    )


def _grouped(grain: str) -> str:
    """The expected rollup rows of one grain, as INSERT … SELECT … GROUP BY GROUPING SETS."""
    slices = GRAINS[grain]
    sets = ", ".join("(" + ", ".join(("period", *names)) + ")" for names in slices)

    def case(position: int, value: Callable[[str], str]) -> str:
        whens = " ".join(
            f"WHEN {_mask(names)} THEN {value(names[position])}" for names in slices if len(names) > position
        )
        # a grain without pairs has no second dimension: nothing to choose from (CASE with no WHEN is no SQL)
        return f"CASE g {whens} ELSE '' END" if whens else "''"

    period = "day" if grain == "d" else "date_trunc('month', day)::date"
    return f"""
INSERT INTO stats_expected
SELECT '{grain}', period, {case(0, lambda name: f"'{name}'")}, {case(0, lambda name: name)},
       {case(1, lambda name: f"'{name}'")}, {case(1, lambda name: name)}, {", ".join(METRICS)}
FROM (
    SELECT GROUPING({_DIMS}) AS g, period, {_DIMS}, {", ".join(f"sum({name}) AS {name}" for name in METRICS)}
    FROM (SELECT {period} AS period, * FROM stats_fresh_entry) entry
    GROUP BY GROUPING SETS ({sets})
) grouped
"""


_KEY = ("grain", "period", "dim_a", "value_a", "dim_b", "value_b")
_KEPT = ", ".join(f"coalesce(r.{m}, 0)" for m in METRICS)
_EXPECTED = ", ".join(f"coalesce(e.{m}, 0)" for m in METRICS)
_DIFFERENCES = f"""
SELECT {", ".join(f"coalesce(e.{k}, r.{k})" for k in _KEY)}, {_KEPT}, {_EXPECTED}
FROM stats_expected e FULL JOIN {_ROLLUP} r USING ({", ".join(_KEY)})
WHERE ({_EXPECTED}) IS DISTINCT FROM ({_KEPT})
"""
_LEAD_EXPECTED = """
CREATE TEMP TABLE stats_expected_lead ON COMMIT DROP AS
SELECT date_trunc('month', opened_on)::date AS month, lead_days AS days, count(*)::bigint AS deals
FROM stats_fresh_contribution WHERE lead_days IS NOT NULL GROUP BY 1, 2
"""
_LEAD_DIFFERENCES = f"""
SELECT coalesce(e.month, r.month), coalesce(e.days, r.days), coalesce(r.deals, 0), coalesce(e.deals, 0)
FROM stats_expected_lead e FULL JOIN {_LEAD} r USING (month, days)
WHERE coalesce(e.deals, 0) <> coalesce(r.deals, 0)
"""


@dataclass(frozen=True)
class Difference:
    """A slice whose kept sums (`kept`) are not what the deal rows give (`expected`), in METRICS order (or a
    lead-time bucket: `key` is (month, days) and the vectors hold one count)."""

    key: tuple[object, ...]
    kept: tuple[object, ...]
    expected: tuple[object, ...]


def _differing(
    cursor: CursorWrapper, differences_sql: str, result: "Recomputation", *, listed: int, order: str
) -> list[tuple[Any, ...]]:
    """Count the rows of a differences query into `result`, and return the first `listed` of them."""
    cursor.execute(f"SELECT count(*) FROM ({differences_sql}) differing")
    result.difference_count += cursor.fetchone()[0]
    cursor.execute(f"{differences_sql} ORDER BY {order} LIMIT %s", [listed])
    return cursor.fetchall()


@dataclass
class Recomputation:
    deals: int = 0
    rollup_rows: int = 0
    #: how many slices (and lead-time buckets) differ
    difference_count: int = 0
    #: the first of them, in key order (at most `listed`)
    differences: list[Difference] = field(default_factory=list)
    replaced: bool = False


def stats_recompute(
    *, replace: bool = True, listed: int = 100, progress: Callable[[int], None] = lambda _deals: None
) -> Recomputation:
    """Rebuild the contributions and rollups from the deal rows, count the slices that differ from the kept
    ones and list the first `listed` of them (a first build over existing deals differs everywhere: the
    differences are counted in the database, not fetched), and (unless `replace` is False) put the rebuilt
    tables in their place. `progress` is called with the number of deals done after each chunk."""
    result = Recomputation()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"LOCK TABLE {_CONTRIBUTION}, {_ROLLUP}, {_LEAD} IN EXCLUSIVE MODE")
        # left by an earlier call in the same (outer) transaction: they are dropped only on commit
        cursor.execute(
            "DROP TABLE IF EXISTS stats_fresh_contribution, stats_fresh_entry, stats_expected, "
            "stats_expected_lead"
        )
        cursor.execute(
            f"CREATE TEMP TABLE stats_fresh_contribution (LIKE {_CONTRIBUTION} INCLUDING DEFAULTS) "
            "ON COMMIT DROP"
        )
        cursor.execute(f"SELECT coalesce(min(id), 0), coalesce(max(id), -1) FROM {_DEAL}")
        low, high = cursor.fetchone()
        for start in range(low, high + 1, CHUNK):
            cursor.execute(
                _FRESH_CONTRIBUTIONS, {"tz": settings.TIME_ZONE, "low": start, "high": start + CHUNK}
            )
            result.deals += cursor.rowcount
            progress(result.deals)
        cursor.execute(_ENTRIES)
        cursor.execute(f"CREATE TEMP TABLE stats_expected (LIKE {_ROLLUP} INCLUDING DEFAULTS) ON COMMIT DROP")
        cursor.execute("ALTER TABLE stats_expected DROP COLUMN id")
        for grain in GRAINS:
            cursor.execute(_grouped(grain))
        cursor.execute("SELECT count(*) FROM stats_expected")
        result.rollup_rows = cursor.fetchone()[0]
        width = len(METRICS)
        for row in _differing(cursor, _DIFFERENCES, result, listed=listed, order="1, 2, 3, 4, 5, 6"):
            result.differences.append(
                Difference(key=row[:6], kept=row[6 : 6 + width], expected=row[6 + width :])
            )
        cursor.execute(_LEAD_EXPECTED)
        lead_listed = max(0, listed - len(result.differences))
        for month, days, kept, expected in _differing(
            cursor, _LEAD_DIFFERENCES, result, listed=lead_listed, order="1, 2"
        ):
            result.differences.append(Difference(key=(month, days), kept=(kept,), expected=(expected,)))
        if replace:
            columns = ", ".join(f.column for f in DealContribution._meta.concrete_fields)
            cursor.execute(f"DELETE FROM {_CONTRIBUTION}")
            cursor.execute(
                f"INSERT INTO {_CONTRIBUTION} ({columns}) SELECT {columns} FROM stats_fresh_contribution"
            )
            rollup_columns = ", ".join((*_KEY, *METRICS))
            cursor.execute(f"DELETE FROM {_ROLLUP}")
            cursor.execute(
                f"INSERT INTO {_ROLLUP} ({rollup_columns}) SELECT {rollup_columns} FROM stats_expected"
            )
            cursor.execute(f"DELETE FROM {_LEAD}")
            cursor.execute(
                f"INSERT INTO {_LEAD} (month, days, deals) SELECT month, days, deals FROM stats_expected_lead"
            )
            result.replaced = True
    return result
