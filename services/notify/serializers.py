"""Input validation and output shapes of the subscription and notification endpoints."""

from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from market.accounts.models import OrganizationType
from market.catalog.models import LegalStatus, TransferMode
from market.common.filters import IPC_PREFIX_PATTERN
from services.notify.links import search_link
from services.notify.matching import DOCUMENT_KINDS, earlier_matches_search, ipc_normalize
from services.notify.models import (
    Channel,
    DeliveryAttempt,
    Frequency,
    Notification,
    NotificationKind,
    Preference,
    Subscription,
    SubscriptionKind,
    WebhookEndpoint,
)
from services.notify.selectors import FOLLOWABLE_KINDS


class SearchParamsSerializer(serializers.Serializer):
    """The parameters of /api/v1/search/ a saved search keeps; unknown ones are refused, not ignored."""

    q = serializers.CharField(max_length=100, required=False, allow_blank=True)
    type = serializers.CharField(max_length=60, required=False, allow_blank=True)
    ipc = serializers.RegexField(IPC_PREFIX_PATTERN, required=False)
    field = serializers.CharField(max_length=100, required=False)
    region = serializers.RegexField(r"^[1-8][0-9]{5}$", required=False)
    owner_type = serializers.ChoiceField(choices=OrganizationType.choices, required=False)
    trl_min = serializers.IntegerField(min_value=1, max_value=9, required=False)
    trl_max = serializers.IntegerField(min_value=1, max_value=9, required=False)
    price_min = serializers.DecimalField(max_digits=14, decimal_places=2, min_value=0, required=False)
    price_max = serializers.DecimalField(max_digits=14, decimal_places=2, min_value=0, required=False)
    transfer_mode = serializers.ChoiceField(choices=TransferMode.choices, required=False)
    legal_status = serializers.ChoiceField(choices=LegalStatus.choices, required=False)

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError(
                    {name: [_("Unknown search parameter.")] for name in unknown}
                )
        return super().to_internal_value(data)

    def validate_type(self, value: str) -> str:
        kinds = [kind.strip() for kind in value.split(",") if kind.strip()]
        if any(kind not in DOCUMENT_KINDS for kind in kinds):
            raise serializers.ValidationError(
                _("Use patent, achievement, demand or expert (comma-separated).")
            )
        return ",".join(kinds)

    def validate_ipc(self, value: str) -> str:
        return ipc_normalize(value)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        for low, high in (("trl_min", "trl_max"), ("price_min", "price_max")):
            if attrs.get(low) is not None and attrs.get(high) is not None and attrs[low] > attrs[high]:
                raise serializers.ValidationError({high: [_("Must not be below %(low)s.") % {"low": low}]})
        # stored as JSON: amounts as strings, empty values dropped
        return {
            name: str(value) if name.startswith("price_") else value
            for name, value in attrs.items()
            if value not in ("", None)
        }


class SubscriptionInputSerializer(serializers.Serializer):
    """The shape of a subscription; whether its target may be followed is decided by the service."""

    kind = serializers.ChoiceField(choices=SubscriptionKind.choices)
    name = serializers.CharField(max_length=100, required=False, allow_blank=True)
    params = serializers.DictField(required=False)
    target_kind = serializers.ChoiceField(choices=FOLLOWABLE_KINDS, required=False)
    target_id = serializers.IntegerField(min_value=1, max_value=2**63 - 1, required=False)
    ipc = serializers.RegexField(IPC_PREFIX_PATTERN, required=False)
    channels = serializers.ListField(
        child=serializers.ChoiceField(choices=Channel.choices), min_length=1, max_length=3
    )
    frequency = serializers.ChoiceField(choices=Frequency.choices, default=Frequency.INSTANT)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        kind = attrs["kind"]
        data = {
            "kind": kind,
            "name": attrs.get("name", ""),
            "channels": sorted(set(attrs["channels"])),
            "frequency": attrs["frequency"],
            "params": {},
            "target_kind": "",
            "target_id": None,
        }
        if kind == SubscriptionKind.SEARCH:
            params = SearchParamsSerializer(data=attrs.get("params") or {})
            if not params.is_valid():
                raise serializers.ValidationError({"params": params.errors})
            data["params"] = params.validated_data
        elif kind == SubscriptionKind.IPC:
            if not attrs.get("ipc"):
                raise serializers.ValidationError({"ipc": [_("Name the IPC class to follow.")]})
            data["params"] = {"ipc": ipc_normalize(attrs["ipc"])}
        elif kind == SubscriptionKind.LISTING:
            if not attrs.get("target_kind"):
                raise serializers.ValidationError({"target_kind": [_("Name the kind of listing to follow.")]})
            # whether the user may follow it is the service's question (the catalog's visibility rule)
            data.update(target_kind=attrs["target_kind"], target_id=attrs.get("target_id"))
        else:
            data["target_id"] = attrs.get("target_id")
        return data


class SubscriptionUpdateSerializer(serializers.Serializer):
    """What can change on a subscription: its name, channels, frequency, active flag and search parameters."""

    name = serializers.CharField(max_length=100, required=False, allow_blank=True)
    params = serializers.DictField(required=False)
    channels = serializers.ListField(
        child=serializers.ChoiceField(choices=Channel.choices), min_length=1, max_length=3, required=False
    )
    frequency = serializers.ChoiceField(choices=Frequency.choices, required=False)
    is_active = serializers.BooleanField(required=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        subscription: Subscription = self.context["subscription"]
        if "params" in attrs:
            if subscription.kind != SubscriptionKind.SEARCH:
                raise serializers.ValidationError({"params": [_("Only saved searches have parameters.")]})
            params = SearchParamsSerializer(data=attrs["params"])
            if not params.is_valid():
                raise serializers.ValidationError({"params": params.errors})
            attrs["params"] = params.validated_data
        if "channels" in attrs:
            attrs["channels"] = sorted(set(attrs["channels"]))
        return attrs


class SubscriptionOutputSerializer(serializers.ModelSerializer):
    earlier_matches = serializers.SerializerMethodField(
        help_text=_(
            "A search for what this subscription matches that was published before it was created: "
            "notifications are only sent for what is published afterwards."
        )
    )

    class Meta:
        model = Subscription
        fields = (
            "id",
            "kind",
            "name",
            "params",
            "target_kind",
            "target_id",
            "channels",
            "frequency",
            "is_active",
            "created_at",
            "updated_at",
            "earlier_matches",
        )

    @extend_schema_field({"type": "string", "format": "uri", "nullable": True})
    def get_earlier_matches(self, subscription: Subscription) -> str | None:
        params = earlier_matches_search(subscription)
        return search_link(params) if params is not None else None


class NotificationOutputSerializer(serializers.ModelSerializer):
    is_read = serializers.SerializerMethodField()

    class Meta:
        model = Notification
        fields = (
            "id",
            "kind",
            "event_type",
            "subject",
            "body",
            "link",
            "data",
            "created_at",
            "read_at",
            "is_read",
        )

    def get_is_read(self, notification: Notification) -> bool:
        return notification.read_at is not None


class DeliveryAttemptSerializer(serializers.ModelSerializer):
    """An attempt as its user sees it: a coarse outcome and, for an HTTP answer, its status class (`5xx`);
    never the error's detail (it would make webhooks a scanner of the network the market runs in)."""

    status_class = serializers.SerializerMethodField()

    class Meta:
        model = DeliveryAttempt
        fields = ("attempted_at", "succeeded", "outcome", "status_class", "duration_ms")

    def get_status_class(self, attempt: DeliveryAttempt) -> str | None:
        return f"{attempt.status_code // 100}xx" if attempt.status_code else None


class DeliveryOutputSerializer(serializers.ModelSerializer):
    attempt_log = DeliveryAttemptSerializer(many=True, read_only=True)

    class Meta:
        model = Notification
        fields = (
            "id",
            "kind",
            "channel",
            "subject",
            "status",
            "attempts",
            "next_attempt_at",
            "sent_at",
            "last_error",
            "created_at",
            "attempt_log",
        )


class MarkReadSerializer(serializers.Serializer):
    ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=2**63 - 1), required=False, max_length=500
    )


class DistinctChoicesField(serializers.ListField):
    """A list of choices, each at most once: a repeated one is a mistake of the client, not a wish."""

    default_error_messages = {"repeated": _("Each value at most once; repeated: %(values)s.")}

    def __init__(self, *, choices: list[tuple[str, Any]], **kwargs: Any) -> None:
        super().__init__(child=serializers.ChoiceField(choices=choices), max_length=len(choices), **kwargs)

    def to_internal_value(self, data: Any) -> list[str]:
        values = super().to_internal_value(data)
        repeated = sorted({value for value in values if values.count(value) > 1})
        if repeated:
            self.fail("repeated", values=", ".join(repeated))
        return values


class PreferenceSerializer(serializers.ModelSerializer):
    channels = DistinctChoicesField(choices=Channel.choices, required=False)
    muted_kinds = DistinctChoicesField(choices=NotificationKind.choices, required=False)

    class Meta:
        model = Preference
        fields = ("language", "channels", "muted_kinds", "quiet_start", "quiet_end")


class WebhookInputSerializer(serializers.Serializer):
    """The URL's shape; whether the market may send to it is the service's question."""

    url = serializers.URLField(max_length=500)
    rotate_secret = serializers.BooleanField(default=False)


class WebhookOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = WebhookEndpoint
        fields = ("url", "secret", "is_active", "consecutive_failures", "disabled_at", "created_at")
