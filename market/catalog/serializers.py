"""Input and output shapes of the catalog API. Inputs only parse; rules live in the services."""

from typing import Any
from urllib.parse import urlencode

from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from market.accounts.identity import reader
from market.catalog.models import (
    Achievement,
    AchievementStage,
    CollaborationMode,
    Demand,
    Expert,
    IpForm,
    LegalStatus,
    ListingStatus,
    Patent,
    PatentType,
    PricingMethod,
    TransferMode,
    Urgency,
)
from market.catalog.selectors import demand_owner_visible
from market.catalog.snapshots import (
    AchievementSnapshot,
    DemandSnapshot,
    ExpertSnapshot,
    PatentSnapshot,
    own_fields,
)
from market.common.fields import CalendarDateField

MONEY: dict[str, Any] = {"max_digits": 14, "decimal_places": 2, "min_value": 0}


class OwnerSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    org_type = serializers.CharField()
    province_code = serializers.CharField()
    city_code = serializers.CharField()
    county_code = serializers.CharField()


LISTING_READ_FIELDS = (
    "id",
    "owner",
    "status",
    "review_reason",
    "published_at",
    "created_at",
    "updated_at",
    "version",
    "synthetic_fields",
)


@extend_schema_field({"type": "string", "format": "uri-reference", "nullable": True, "readOnly": True})
class SimilarLinkField(serializers.Field):
    """Where a published patent's or achievement's detail page finds listings like it (the search service's
    "more like this"); null while the listing is not published, because only published ones are indexed."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        super().__init__(source="*", read_only=True)

    def to_representation(self, value: Any) -> str | None:
        if value.status != ListingStatus.PUBLISHED:
            return None
        return f"{reverse('search-similar')}?{urlencode({'type': self.kind, 'id': value.pk})}"


# ---- patents -----------------------------------------------------------------------------------------------


class PatentInputSerializer(serializers.Serializer):
    application_number = serializers.CharField(max_length=20)
    publication_number = serializers.CharField(
        max_length=20, required=False, allow_blank=True, allow_null=True
    )
    patent_type = serializers.ChoiceField(choices=PatentType.choices, required=False)
    title = serializers.CharField(max_length=300)
    abstract = serializers.CharField(required=False, allow_blank=True, max_length=20000)
    claims_summary = serializers.CharField(required=False, allow_blank=True, max_length=20000)
    ipc_codes = serializers.ListField(
        child=serializers.CharField(max_length=20), required=False, max_length=30
    )
    applicants = serializers.ListField(
        child=serializers.CharField(max_length=200), required=False, max_length=30
    )
    inventors = serializers.ListField(
        child=serializers.CharField(max_length=100), required=False, max_length=50
    )
    filing_date = CalendarDateField()
    publication_date = CalendarDateField(required=False, allow_null=True)
    grant_date = CalendarDateField(required=False, allow_null=True)
    legal_status = serializers.ChoiceField(choices=LegalStatus.choices, required=False)
    field = serializers.CharField(max_length=100, required=False, allow_blank=True)
    price = serializers.DecimalField(**MONEY, required=False, allow_null=True)


class PatentOutputSerializer(serializers.ModelSerializer):
    owner = OwnerSerializer()
    similar = SimilarLinkField("patent")

    class Meta:
        model = Patent
        fields = (*LISTING_READ_FIELDS, *own_fields(PatentSnapshot), "availability", "similar")


# ---- achievements ------------------------------------------------------------------------------------------


class AchievementInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=300)
    keywords = serializers.ListField(
        child=serializers.CharField(max_length=60), required=False, max_length=20
    )
    completing_units = serializers.ListField(
        child=serializers.CharField(max_length=200), required=False, max_length=20
    )
    registration_number = serializers.CharField(
        max_length=40, required=False, allow_blank=True, allow_null=True
    )
    field = serializers.CharField(max_length=100)
    category = serializers.CharField(max_length=50, required=False, allow_blank=True)
    trl = serializers.IntegerField(min_value=1, max_value=9)
    stage = serializers.ChoiceField(choices=AchievementStage.choices)
    ip_forms = serializers.ListField(
        child=serializers.ChoiceField(choices=IpForm.choices), required=False, max_length=len(IpForm.choices)
    )
    patent_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1), required=False, max_length=100
    )
    transfer_modes = serializers.ListField(
        child=serializers.ChoiceField(choices=TransferMode.choices),
        required=False,
        max_length=len(TransferMode.choices),
    )
    price = serializers.DecimalField(**MONEY, required=False, allow_null=True)
    pricing_method = serializers.ChoiceField(choices=PricingMethod.choices)
    teaser = serializers.CharField(max_length=5000)
    confidential_details = serializers.CharField(required=False, allow_blank=True, max_length=50000)
    nda_text = serializers.CharField(required=False, allow_blank=True, max_length=20000)

    def validate_registration_number(self, value: str | None) -> str | None:
        return value or None


class AchievementOutputSerializer(serializers.ModelSerializer):
    owner = OwnerSerializer()
    similar = SimilarLinkField("achievement")
    patent_ids = serializers.SerializerMethodField()
    nda_required = serializers.SerializerMethodField()

    class Meta:
        model = Achievement
        fields: tuple[str, ...] = (
            *LISTING_READ_FIELDS,
            *own_fields(AchievementSnapshot),
            "availability",
            "nda_required",
            "similar",
        )

    def get_patent_ids(self, achievement: Achievement) -> list[int]:
        return sorted(patent.pk for patent in achievement.patents.all())

    def get_nda_required(self, achievement: Achievement) -> bool:
        return bool(achievement.nda_text)


class AchievementDetailSerializer(AchievementOutputSerializer):
    """The detail view adds the NDA text and, for those allowed, the confidential details."""

    confidential_details = serializers.SerializerMethodField()
    confidential_access = serializers.SerializerMethodField()

    class Meta(AchievementOutputSerializer.Meta):
        fields = (
            *AchievementOutputSerializer.Meta.fields,
            "nda_text",
            "confidential_access",
            "confidential_details",
        )

    def get_confidential_access(self, achievement: Achievement) -> bool:
        return bool(self.context.get("confidential_allowed"))

    def get_confidential_details(self, achievement: Achievement) -> str | None:
        return achievement.confidential_details if self.context.get("confidential_allowed") else None


# ---- demands -----------------------------------------------------------------------------------------------


class DemandInputSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=300)
    description = serializers.CharField(max_length=20000)
    field = serializers.CharField(max_length=100)
    ipc_hints = serializers.ListField(
        child=serializers.CharField(max_length=20), required=False, max_length=20
    )
    budget_min = serializers.DecimalField(**MONEY, required=False, allow_null=True)
    budget_max = serializers.DecimalField(**MONEY, required=False, allow_null=True)
    deadline = CalendarDateField(required=False, allow_null=True)
    collaboration_mode = serializers.ChoiceField(choices=CollaborationMode.choices)
    urgency = serializers.ChoiceField(choices=Urgency.choices, required=False)
    is_anonymous = serializers.BooleanField(required=False)


class DemandOutputSerializer(serializers.ModelSerializer):
    owner = serializers.SerializerMethodField()

    class Meta:
        model = Demand
        fields = (*LISTING_READ_FIELDS, *own_fields(DemandSnapshot))

    def get_owner(self, demand: Demand) -> dict[str, Any] | None:
        """An anonymous demand names its enterprise only to the enterprise itself and to reviewers."""
        user = reader(self.context["request"])
        if demand.is_anonymous and not demand_owner_visible(owner_id=demand.owner_id, user=user):
            return None
        return OwnerSerializer(demand.owner).data


# ---- experts -----------------------------------------------------------------------------------------------


class ExpertInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    title = serializers.CharField(max_length=100, required=False, allow_blank=True)
    # the API's name for an expert's fields of work; DRF's metaclass takes it out of the class, so the
    # serializer's own `fields` stays intact
    fields = serializers.ListField(  # type: ignore[assignment]
        child=serializers.CharField(max_length=100), required=False, max_length=20
    )
    bio = serializers.CharField(required=False, allow_blank=True, max_length=20000)
    achievements_summary = serializers.CharField(required=False, allow_blank=True, max_length=20000)
    email = serializers.EmailField(required=False, allow_blank=True)
    phone = serializers.CharField(max_length=30, required=False, allow_blank=True)
    is_public = serializers.BooleanField(required=False)


class ExpertCreateInputSerializer(ExpertInputSerializer):
    for_self = serializers.BooleanField(default=True, help_text=_("Create the caller's own profile"))


class ExpertOutputSerializer(serializers.ModelSerializer):
    organization = OwnerSerializer()
    contact = serializers.SerializerMethodField()

    class Meta:
        model = Expert
        fields = (
            "id",
            "organization",
            "user",
            *own_fields(ExpertSnapshot),
            "contact",
            "created_at",
            "updated_at",
            "version",
        )

    def get_contact(self, expert: Expert) -> dict[str, str] | None:
        """Contact details only for signed-in users."""
        if not self.context["request"].user.is_authenticated:
            return None
        return {"email": expert.email, "phone": expert.phone}
