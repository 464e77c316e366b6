"""Pieces every API module uses."""

from typing import Any

from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from market.common.permissions import is_reviewer


class IsReviewer(BasePermission):
    """Platform administrators only (401 for anonymous callers, 403 for others)."""

    def has_permission(self, request: Request, view: Any) -> bool:
        return is_reviewer(request.user)
