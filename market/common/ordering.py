"""`?ordering=` with public names mapped to sortable expressions.

Cursor pagination keys its position on the first ordering field, so that field must never be NULL; views
map a public name (`price`) to a coalesced annotation (`price_sort`) their selector provides."""

from collections.abc import Mapping
from typing import Any

from django.db.models import QuerySet
from rest_framework.filters import OrderingFilter
from rest_framework.request import Request


class MappedOrderingFilter(OrderingFilter):
    """Reads `view.ordering_map` ({public name: queryset expression}); always ends with an `id` tiebreak."""

    def get_valid_fields(
        self, queryset: QuerySet, view: Any, context: Mapping[str, Any] | None = None
    ) -> list:
        return [(name, name) for name in getattr(view, "ordering_map", {})]

    def get_ordering(self, request: Request, queryset: QuerySet, view: Any) -> list[str]:
        mapping: dict[str, str] = getattr(view, "ordering_map", {})
        params = request.query_params.get(self.ordering_param)
        chosen: list[str] = []
        if params:
            for term in (part.strip() for part in params.split(",")):
                descending = term.startswith("-")
                name = term.lstrip("-")
                if name in mapping:
                    chosen.append(("-" if descending else "") + mapping[name])
        if not chosen:
            chosen = list(getattr(view, "ordering", None) or ("-created_at",))
        if not any(term.lstrip("-") == "id" for term in chosen):
            chosen.append("-id" if chosen[0].startswith("-") else "id")
        return chosen
