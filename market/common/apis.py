"""Pieces every API module uses."""

from typing import Any

from rest_framework import serializers
from rest_framework.serializers import Serializer


class RejectInputSerializer(serializers.Serializer):
    """The reason of a reviewer's rejection (of an organization or a listing)."""

    reason = serializers.CharField(max_length=2000)


def validated(
    serializer_class: type[Serializer],
    data: Any,
    *,
    partial: bool = False,
    context: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The one way an API parses input: the input serializer's validated data, or a 400 naming the fields."""
    serializer = serializer_class(data=data, partial=partial, context=context or {})
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)
