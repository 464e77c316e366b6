"""Cursor pagination everywhere: stable under inserts, constant cost at any depth."""

from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Field, QuerySet
from rest_framework import pagination
from rest_framework.exceptions import NotFound
from rest_framework.request import Request


class CursorPagination(pagination.CursorPagination):
    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100
    ordering = ("-created_at", "-id")

    def paginate_queryset(self, queryset: QuerySet, request: Request, view: Any = None) -> list | None:
        cursor = self.decode_cursor(request)
        if cursor is not None and cursor.position is not None:
            self._check_position(queryset, self.get_ordering(request, queryset, view)[0], cursor.position)
        return super().paginate_queryset(queryset, request, view)

    def _check_position(self, queryset: QuerySet, order: str, position: str) -> None:
        """A cursor is opaque but not signed: its position is compared with the sort key in SQL, so a
        hand-made one (or one from another ordering) must fit the key's type, or the database fails."""
        name = order.lstrip("-")
        annotation = queryset.query.annotations.get(name)
        field: Field = (
            annotation.output_field if annotation is not None else queryset.model._meta.get_field(name)
        )
        try:
            if "\x00" in position:
                raise ValidationError("NUL character")
            field.run_validators(field.to_python(position))
        except ValidationError as error:
            raise NotFound(self.invalid_cursor_message) from error


class ReviewPagination(CursorPagination):
    """Review queues are worked oldest first."""

    ordering = ("updated_at", "id")
