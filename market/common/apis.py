"""Pieces every API module uses."""

from rest_framework import serializers


class RejectInputSerializer(serializers.Serializer):
    """The reason of a reviewer's rejection (of an organization or a listing)."""

    reason = serializers.CharField(max_length=2000)
