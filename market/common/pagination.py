"""Cursor pagination everywhere: stable under inserts, constant cost at any depth."""

from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Field, QuerySet
from django.utils.translation import gettext_lazy as _
from rest_framework import pagination
from rest_framework.exceptions import NotFound
from rest_framework.request import Request

from market.common.errors import ApplicationError
from market.common.validators import validate_calendar_date

#: the widest UTC offset in use (Kiribati); PostgreSQL refuses offsets past ±15:59 that ISO 8601 allows
MAX_UTC_OFFSET = timedelta(hours=14)


class InvalidCursor(ApplicationError):
    """A cursor the client made or changed: its own mistake, so a 400 naming the parameter."""

    default_code = "invalid_cursor"

    def __init__(self) -> None:
        message = str(_("Invalid cursor."))
        super().__init__(message, fields={"cursor": [message]})


class CursorPagination(pagination.CursorPagination):
    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100
    ordering: tuple[str, ...] = ("-created_at", "-id")

    def decode_cursor(self, request: Request) -> pagination.Cursor | None:
        try:
            return super().decode_cursor(request)
        except NotFound as error:
            raise InvalidCursor() from error

    def paginate_queryset(self, queryset: QuerySet, request: Request, view: Any = None) -> list | None:
        cursor = self.decode_cursor(request)
        if cursor is not None and cursor.position is not None:
            ordering = self.get_ordering(request, queryset, view)
            self._check_position(queryset, ordering[0], str(cursor.position))
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
            value = field.to_python(position)
            field.run_validators(value)
            if isinstance(value, datetime):
                offset = value.utcoffset()
                if offset is not None and abs(offset) > MAX_UTC_OFFSET:
                    raise ValidationError("UTC offset out of range")
                validate_calendar_date(value)
        except (ValidationError, OverflowError) as error:
            raise InvalidCursor() from error


class ReviewPagination(CursorPagination):
    """Review queues are worked oldest first."""

    ordering = ("updated_at", "id")
