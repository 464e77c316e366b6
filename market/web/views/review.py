"""The platform administrators' review pages: what awaits review (patents, achievements, demands and
organizations), each item's details, approve, and reject with a reason. The decisions are the catalog's and
accounts' review services; only reviewers open these pages (403 for everyone else, as the review API)."""

from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Model, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.formats import date_format
from django.utils.timezone import localtime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from market.accounts import selectors as accounts
from market.accounts import services as accounts_services
from market.accounts.models import Organization, User
from market.accounts.permissions import is_reviewer
from market.catalog import selectors as catalog
from market.catalog import services as catalog_services
from market.catalog.models import Achievement, Demand, Patent
from market.common.errors import ApplicationError
from market.web.access import login_required, signed_in_user
from market.web.forms import form_attempt
from market.web.supply_forms import ReasonForm
from market.web.views.demand import DEMAND_FIELDS

#: how many items of each kind the queue page shows (the oldest: reviewers work in arrival order)
QUEUE_PAGE = 50


class Kind:
    """One kind of thing under review: where it is read, which fields the reviewer is shown, how it is
    named, and the services that decide it."""

    def __init__(
        self,
        *,
        label: Any,
        model: type[Model],
        queue: Callable[[], QuerySet],
        read: Callable[[User], QuerySet],
        facts: tuple[str, ...],
        approve: Callable[[Any, User], Any],
        reject: Callable[[Any, User, str], Any],
    ) -> None:
        self.label = label
        self.model = model
        self.queue = queue
        self.read = read
        self.facts = facts
        self.approve = approve
        self.reject = reject


def _listing_kind(
    label: Any,
    model: type[Patent | Achievement | Demand],
    selector: Callable[..., QuerySet],
    facts: tuple[str, ...],
) -> Kind:
    return Kind(
        label=label,
        model=model,
        queue=lambda: catalog.review_queue(model=model),
        read=lambda user: selector(user=user).select_related("created_by"),
        facts=("owner", "created_by", "updated_at", *facts),
        approve=lambda item, user: catalog_services.listing_approve(listing=item, reviewer=user),
        reject=lambda item, user, reason: catalog_services.listing_reject(
            listing=item, reviewer=user, reason=reason
        ),
    )


KINDS: dict[str, Kind] = {
    "patents": _listing_kind(
        gettext_lazy("Patents"),
        Patent,
        catalog.patent_list,
        (
            "application_number",
            "patent_type",
            "abstract",
            "ipc_codes",
            "applicants",
            "inventors",
            "filing_date",
            "legal_status",
            "grant_date",
            "field",
            "price",
        ),
    ),
    "achievements": _listing_kind(
        gettext_lazy("Achievements"),
        Achievement,
        catalog.achievement_list,
        (
            "teaser",
            "keywords",
            "completing_units",
            "registration_number",
            "field",
            "category",
            "trl",
            "stage",
            "ip_forms",
            "transfer_modes",
            "pricing_method",
            "price",
            "confidential_details",
            "nda_text",
        ),
    ),
    "demands": _listing_kind(
        gettext_lazy("Technical demands"),
        Demand,
        catalog.demand_list,
        tuple(name for name in DEMAND_FIELDS if name != "title"),
    ),
    "orgs": Kind(
        label=gettext_lazy("Organizations"),
        model=Organization,
        queue=lambda: accounts.organization_review_queue().order_by("created_at", "id"),
        read=lambda user: accounts.organization_list(user=user),
        facts=(
            "org_type",
            "credit_code",
            "county_code",
            "address",
            "website",
            "description",
            "created_at",
        ),
        approve=lambda item, user: accounts_services.organization_review(
            organization=item, reviewer=user, approve=True
        ),
        reject=lambda item, user, reason: accounts_services.organization_review(
            organization=item, reviewer=user, approve=False, reason=reason
        ),
    ),
}


def _reviewer(request: HttpRequest) -> User:
    user = signed_in_user(request)
    if not is_reviewer(user):
        raise PermissionDenied
    return user


def _name(item: Any) -> str:
    return str(getattr(item, "title", None) or getattr(item, "name", None) or item)


def _display(item: Any, name: str) -> Any:
    """A field's value as a reviewer reads it: choices by their label, lists joined, booleans as yes/no."""
    field = item._meta.get_field(name)
    value = getattr(item, name)
    if field.choices and not isinstance(value, list):
        return getattr(item, f"get_{name}_display")()
    if isinstance(value, list):
        labels = dict(field.base_field.choices or []) if hasattr(field, "base_field") else {}
        return "、".join(str(labels.get(entry, entry)) for entry in value)
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, datetime):
        return date_format(localtime(value), "SHORT_DATETIME_FORMAT")
    return value


def _facts(item: Any, kind: Kind) -> list[tuple[Any, Any]]:
    facts = [(item._meta.get_field(name).verbose_name, _display(item, name)) for name in kind.facts]
    return [(label, value) for label, value in facts if value not in (None, "", [])]


@login_required
@require_GET
def queue(request: HttpRequest) -> HttpResponse:
    _reviewer(request)
    counts = catalog.review_counts()
    sections = [
        {
            "key": key,
            "label": kind.label,
            "count": counts[key],
            "items": [(item, _name(item)) for item in kind.queue()[:QUEUE_PAGE]],
        }
        for key, kind in KINDS.items()
    ]
    return render(request, "web/review/queue.html", {"sections": sections, "total": sum(counts.values())})


def _item(request: HttpRequest, kind_key: str, pk: int) -> tuple[User, Kind, Any]:
    user = _reviewer(request)
    if kind_key not in KINDS:
        raise Http404
    kind = KINDS[kind_key]
    return user, kind, get_object_or_404(kind.read(user), pk=pk)


def _detail_page(
    request: HttpRequest, kind_key: str, kind: Kind, item: Any, form: ReasonForm
) -> HttpResponse:
    return render(
        request,
        "web/review/item.html",
        {
            "kind_key": kind_key,
            "kind": kind,
            "item": item,
            "name": _name(item),
            "facts": _facts(item, kind),
            "pending": item.status == "pending",
            "form": form,
        },
    )


@login_required
@require_GET
def item(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    _user, review_kind, found = _item(request, kind, pk)
    return _detail_page(request, kind, review_kind, found, ReasonForm())


@login_required
@require_POST
def approve(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    user, review_kind, found = _item(request, kind, pk)
    try:
        review_kind.approve(found, user)
    except ApplicationError as error:
        messages.error(request, error.message)
        return redirect("web:review-item", kind=kind, pk=pk)
    messages.success(request, _("Approved: “%(name)s”.") % {"name": _name(found)})
    return redirect("web:review")


@login_required
@require_POST
def reject(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    user, review_kind, found = _item(request, kind, pk)
    form = ReasonForm(request.POST)
    if form.is_valid():
        reason = form.cleaned_data["reason"]
        if form_attempt(form, lambda: review_kind.reject(found, user, reason)) is not None:
            messages.success(
                request, _("Rejected: “%(name)s”. The owner sees your reason.") % {"name": _name(found)}
            )
            return redirect("web:review")
    return _detail_page(request, kind, review_kind, found, form)
