"""CSV and XLSX files of a stats view and of the deal register, written as they are read.

CSV streams row by row (a register of any size is never held in memory); XLSX is written by XlsxWriter in its
constant-memory mode to a temporary file, which is then streamed, since a workbook is a zip that can only be
finished at the end. Column headings are the translated labels; the first columns name the period and
groups."""

import csv
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import IO, Any

import xlsxwriter
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from market.trading.models import DEAL_SOURCES, Deal
from services.stats.rollups import METRICS
from services.stats.selectors import MONEY_METRICS, StatsQuery

#: deals read per database round trip while a register is written
REGISTER_CHUNK = 2000


def metric_labels() -> dict[str, str]:
    return {
        "deals": _("Deals opened"),
        "amount": _("Amount agreed (yuan)"),
        "contracts": _("Contracts registered"),
        "contract_value": _("Contract value (yuan)"),
        "technology_value": _("Technology-transaction value (yuan)"),
        "completed": _("Deals completed"),
        "inventions": _("Invention patents industrialised"),
        "cancelled": _("Deals cancelled"),
    }


def stats_table(query: StatsQuery, rows: list[dict[str, Any]]) -> tuple[list[str], Iterator[list[Any]]]:
    """A stats answer's rows as a heading and cell rows."""
    columns = ["period", *query.group_by, *METRICS]
    labels = {"period": _("Period"), **metric_labels()}
    heading = [labels.get(name, name) for name in columns]

    def cells(row: dict[str, Any]) -> list[Any]:
        return [
            date.fromisoformat(row[name])
            if name == "period"
            else Decimal(row[name])
            if name in MONEY_METRICS
            else row[name]
            for name in columns
        ]

    return heading, (cells(row) for row in rows)


def _register_columns() -> list[tuple[str, str]]:
    return [
        ("id", _("Deal")),
        ("title", _("Title")),
        ("source", _("How it was made")),
        ("transaction_mode", _("Transaction mode")),
        ("stage", _("Stage")),
        ("seller", _("Seller")),
        ("seller_region", _("Seller region")),
        ("buyer", _("Buyer")),
        ("buyer_region", _("Buyer region")),
        ("broker", _("Broker organization")),
        ("amount", _("Amount agreed (yuan)")),
        ("opened_on", _("Opened on")),
        ("closed_on", _("Closed on")),
        ("contract_type", _("Contract type")),
        ("contract_value", _("Contract value (yuan)")),
        ("technology_transaction_value", _("Technology-transaction value (yuan)")),
        ("registration_status", _("Contract registration")),
        ("registration_number", _("Registration number")),
        ("registered_on", _("Registered on")),
    ]


def _local_day(moment: datetime | None) -> date | None:
    return timezone.localdate(moment) if moment else None


def register_deals(query: StatsQuery, *, registered: bool) -> QuerySet[Deal]:
    """The deals of a register: opened in the range, or (`registered`) with a contract registered in it; the
    stats filters apply to the deal's own classification."""
    deals = Deal.objects.select_related("seller", "buyer", "broker__organization").order_by("pk")
    if registered:
        deals = deals.filter(registration_status="registered", registered_on__range=(query.start, query.end))
    else:
        deals = deals.filter(created_at__date__range=(query.start, query.end))
    for name, value in query.filters.items():
        deals = deals.filter(_register_filter(name, value))
    return deals


def _region(prefix: str, value: str) -> Q:
    if value.endswith("0000"):
        return Q(**{f"{prefix}__province_code": value})
    if value.endswith("00"):
        return Q(**{f"{prefix}__city_code": value})
    return Q(**{f"{prefix}__county_code": value})


def _register_filter(name: str, value: str) -> Q:
    match name:
        case "contract_type":
            return Q(contract_type=value)
        case "source":
            return Q(**{f"{value}__isnull": False}) if value in DEAL_SOURCES else Q(pk__in=[])
        case "field":
            return Q(patent__field=value) | Q(achievement__field=value) | Q(demand__field=value)
        case "ipc":
            return Q(patent__ipc_codes__0__startswith=value) | Q(
                patent__isnull=True, demand__ipc_hints__0__startswith=value
            )
        case "seller_type":
            return Q(seller__org_type=value)
        case "seller_region":
            return _region("seller", value)
        case "buyer_region":
            return _region("buyer", value)
        case "broker":
            return Q(broker__organization_id=int(value))
    raise ValueError(name)


def register_table(deals: QuerySet[Deal]) -> tuple[list[str], Iterator[list[Any]]]:
    columns = _register_columns()

    def cells(deal: Deal) -> list[Any]:
        values: dict[str, Any] = {
            "id": deal.pk,
            "title": deal.title,
            "source": deal.source,
            "transaction_mode": deal.get_transaction_mode_display(),
            "stage": deal.get_stage_display(),
            "seller": deal.seller.name,
            "seller_region": deal.seller.county_code,
            "buyer": deal.buyer.name,
            "buyer_region": deal.buyer.county_code,
            "broker": deal.broker.organization.name if deal.broker and deal.broker.organization else "",
            "amount": deal.amount,
            "opened_on": _local_day(deal.created_at),
            "closed_on": _local_day(deal.closed_at),
            "contract_type": deal.get_contract_type_display() if deal.contract_type else "",
            "contract_value": deal.contract_value,
            "technology_transaction_value": deal.technology_transaction_value,
            "registration_status": deal.get_registration_status_display(),
            "registration_number": deal.registration_number,
            "registered_on": deal.registered_on,
        }
        return [values[name] for name, _label in columns]

    return [label for _name, label in columns], (cells(deal) for deal in deals.iterator(REGISTER_CHUNK))


class _Echo:
    """A file that hands back what is written, for csv.writer inside a generator."""

    def write(self, value: str) -> str:
        return value


def csv_stream(heading: Sequence[str], rows: Iterable[Sequence[Any]]) -> Iterator[str]:
    """The rows as CSV text, piece by piece; a byte-order mark first so that spreadsheet programs read the
    Chinese text as UTF-8."""
    writer = csv.writer(_Echo())
    yield "\ufeff" + writer.writerow(heading)
    for row in rows:
        yield writer.writerow(["" if value is None else value for value in row])


def xlsx_file(heading: Sequence[str], rows: Iterable[Sequence[Any]], *, sheet: str) -> IO[bytes]:
    """A workbook with one sheet of the rows (numbers as numbers, days as dates), in a temporary file opened
    at its start; memory stays flat whatever the number of rows."""
    target = tempfile.TemporaryFile()  # noqa: SIM115 (the response streams it, then closes it)
    workbook = xlsxwriter.Workbook(target, {"constant_memory": True, "in_memory": False})
    worksheet = workbook.add_worksheet(sheet[:31])
    bold = workbook.add_format({"bold": True})
    money = workbook.add_format({"num_format": "#,##0.00"})
    day = workbook.add_format({"num_format": "yyyy-mm-dd"})
    worksheet.write_row(0, 0, list(heading), bold)
    for number, row in enumerate(rows, start=1):
        for column, value in enumerate(row):
            if isinstance(value, Decimal):
                worksheet.write_number(number, column, float(value), money)
            elif isinstance(value, date):
                worksheet.write_datetime(number, column, datetime(value.year, value.month, value.day), day)
            elif value is not None:
                worksheet.write(number, column, value)
    workbook.close()
    target.seek(0)
    return target
