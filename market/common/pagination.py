"""Cursor pagination everywhere: stable under inserts, constant cost at any depth."""

from rest_framework import pagination


class CursorPagination(pagination.CursorPagination):
    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100
    ordering = ("-created_at", "-id")


class ReviewPagination(CursorPagination):
    """Review queues are worked oldest first."""

    ordering = ("updated_at", "id")
