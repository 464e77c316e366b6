"""The bureau's transaction-volume dashboard: the figures of `GET /api/v1/stats/` (its parameters validated by
the same serializer), a chart of value per period, breakdowns, the plan's progress and a region drill-down
(province → city → county), with the API's CSV and XLSX exports of the same question."""

from calendar import monthrange
from dataclasses import replace
from datetime import date
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from market.common.errors import ApplicationError
from market.trading.models import ContractType
from market.web.access import login_required, signed_in_user
from services.stats import selectors
from services.stats.apis import can_read_statistics
from services.stats.exports import metric_labels
from services.stats.selectors import StatsQuery
from services.stats.serializers import StatsParamsSerializer, stats_query

#: the breakdowns the page shows, each by one dimension
BREAKDOWNS = {
    "contract_type": _("By contract type"),
    "source": _("By how the deal was made"),
    "field": _("By technical field"),
}
VALUE_LABELS: dict[str, dict[str, Any]] = {
    "contract_type": dict(ContractType.choices),
    "source": {
        "auction": _("Auction"),
        "offer": _("Offer"),
        "purchase": _("Purchase at the listed price"),
        "proposal": _("Proposal to a demand"),
    },
}
#: the figures each breakdown and region row shows
ROW_METRICS = ("deals", "amount", "contracts", "contract_value", "technology_value")
#: the money figures the chart draws per period
CHART_METRICS = ("amount", "contract_value", "technology_value")
PERIOD_LABELS = {"day": _("Day"), "month": _("Month"), "quarter": _("Quarter"), "year": _("Year")}
#: what a region rolled up from organizations without a region code reads as
NO_REGION = ("", "000000")


def _defaults(params: QueryDict) -> QueryDict:
    """The current year in whole months unless asked otherwise: a question by two dimensions (a breakdown
    inside a region) is kept by month only, so whole months keep every section answerable."""
    params = params.copy()
    today = timezone.localdate()
    params.setdefault("from", date(today.year, 1, 1).isoformat())
    params.setdefault("to", today.replace(day=monthrange(today.year, today.month)[1]).isoformat())
    return params


def _region_grouping(code: str | None) -> str:
    """The next level down from a region filter: provinces, a province's cities, a city's counties."""
    if not code:
        return "seller_province"
    return "seller_city" if code.endswith("0000") else "seller_region"


def _section(call: Any) -> tuple[Any, str | None]:
    """A section's answer, or the reason the figures cannot answer it (shown in its place)."""
    try:
        return call(), None
    except ApplicationError as error:
        reasons = [f"{name}: {message}" for name, messages in error.fields.items() for message in messages]
        return None, " ".join(reasons) or str(error.message)


def _labelled(rows: list[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    labels = VALUE_LABELS.get(name, {})
    return [{**row, "value": row[name], "label": labels.get(row[name], row[name]) or "—"} for row in rows]


def _link(params: QueryDict, **changes: str | None) -> str:
    query = QueryDict(mutable=True)
    for name in params:
        query.setlist(name, params.getlist(name))
    for name, value in changes.items():
        query.pop(name, None)
        if value:
            query[name] = value
    return query.urlencode()


def _trail(params: QueryDict, code: str | None) -> list[dict[str, str]]:
    """The drill-down's breadcrumbs below "all regions": the province and the city the filter is within, and
    the filter's own region, each with the link that shows it."""
    if not code:
        return []
    codes = [f"{code[:2]}0000"]
    if not code.endswith("0000"):
        codes.append(f"{code[:4]}00")
    if not code.endswith("00"):
        codes.append(code)
    return [{"code": step, "link": _link(params, seller_region=step)} for step in codes]


def _chart(rows: list[dict[str, Any]]) -> dict[str, Any]:
    labels = metric_labels()
    return {
        "labels": [row["period"] for row in rows],
        "datasets": [
            {"label": labels[name], "data": [float(row[name]) for row in rows]} for name in CHART_METRICS
        ],
    }


def _plan() -> list[dict[str, Any]]:
    targets = list(selectors.plan_target_list())
    achieved = selectors.targets_achieved(targets)
    return [
        {
            "target": target,
            "achieved": achieved[target.pk],
            "percent": round(float(achieved[target.pk] / target.target) * 100, 1),
            "meter_value": min(achieved[target.pk], target.target),
        }
        for target in targets
    ]


@login_required
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    """Platform administrators and members of government organizations (others 403, as the API)."""
    if not can_read_statistics(signed_in_user(request)):
        raise PermissionDenied
    params = _defaults(request.GET)
    params.pop("group_by", None)  # each section groups by its own dimension
    serializer = StatsParamsSerializer(data=params)
    if not serializer.is_valid():
        errors = [
            f"{name}: {' '.join(str(m) for m in messages)}" for name, messages in serializer.errors.items()
        ]
        return render(request, "web/dashboard/page.html", {"errors": errors, "params": params}, status=400)
    query: StatsQuery = stats_query(dict(serializer.validated_data))
    figures, problem = _section(lambda: selectors.stats_figures(query))
    if figures is None:
        return render(request, "web/dashboard/page.html", {"errors": [problem], "params": params}, status=400)
    region = query.filters.get("seller_region")
    grouping = _region_grouping(region)
    regions, regions_problem = _section(
        lambda: selectors.stats_group_totals(replace(query, group_by=(grouping,)))
    )
    breakdowns = []
    for name, title in BREAKDOWNS.items():
        rows, reason = _section(
            lambda name=name: selectors.stats_group_totals(replace(query, group_by=(name,)))
        )
        breakdowns.append(
            {"name": name, "title": title, "rows": _labelled(rows or [], name), "problem": reason}
        )
    rate = figures["auctions"]["success_rate"]
    export_query = _link(params)
    return render(
        request,
        "web/dashboard/page.html",
        {
            "params": params,
            "query": query,
            "figures": figures,
            "success_percent": None if rate is None else round(rate * 100, 1),
            "labels": metric_labels(),
            "row_columns": [metric_labels()[name] for name in ROW_METRICS],
            "chart_columns": [metric_labels()[name] for name in CHART_METRICS],
            "chart": _chart(figures["rows"]),
            "periods": PERIOD_LABELS.items(),
            "breakdowns": breakdowns,
            "region": region,
            "region_trail": _trail(params, region),
            "region_grouping": grouping,
            "regions": [
                {
                    **row,
                    "code": row[grouping] if row[grouping] not in NO_REGION else None,
                    "link": _link(params, seller_region=row[grouping])
                    if row[grouping] not in NO_REGION
                    else None,
                }
                for row in regions or []
            ],
            "regions_problem": regions_problem,
            "drills": grouping != "seller_region",
            "top_link": _link(params, seller_region=None),
            "plan": _plan(),
            "exports": [
                (
                    _("Figures (CSV)"),
                    reverse("stats-export", kwargs={"extension": "csv"}) + "?" + export_query,
                ),
                (
                    _("Figures (XLSX)"),
                    reverse("stats-export", kwargs={"extension": "xlsx"}) + "?" + export_query,
                ),
                (
                    _("Registered contracts (CSV)"),
                    reverse("stats-deal-register", kwargs={"extension": "csv"})
                    + "?"
                    + _link(params, registered="true"),
                ),
                (
                    _("Registered contracts (XLSX)"),
                    reverse("stats-deal-register", kwargs={"extension": "xlsx"})
                    + "?"
                    + _link(params, registered="true"),
                ),
            ],
        },
    )
