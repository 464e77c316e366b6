"""Pieces every API module uses."""

from typing import Any

from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.serializers import Serializer

from market.common.permissions import is_reviewer


class IsReviewer(BasePermission):
    """Platform administrators only (401 for anonymous callers, 403 for others)."""

    def has_permission(self, request: Request, view: Any) -> bool:
        return is_reviewer(request.user)


def validated(serializer_class: type[Serializer], data: Any, *, partial: bool = False) -> dict[str, Any]:
    """The one way an API parses input: the input serializer's validated data, or a 400 naming the fields."""
    serializer = serializer_class(data=data, partial=partial)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)
