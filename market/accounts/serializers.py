"""Input and output shapes of the accounts API."""

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from market.accounts.models import Organization, OrganizationType, OrgRole, User


class OrganizationRegisterInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    org_type = serializers.ChoiceField(choices=OrganizationType.choices)
    credit_code = serializers.CharField(
        max_length=40, help_text=_("Unified social credit code, 18 characters")
    )
    county_code = serializers.CharField(max_length=6, help_text=_("6-digit county-level administrative code"))
    address = serializers.CharField(max_length=300, required=False, allow_blank=True)
    website = serializers.URLField(required=False, allow_blank=True)
    description = serializers.CharField(max_length=5000, required=False, allow_blank=True)
    admin_username = serializers.RegexField(r"^[\w.@+-]+\Z", max_length=150)
    admin_password = serializers.CharField(write_only=True, max_length=128)
    admin_email = serializers.EmailField(required=False, allow_blank=True)


class OrganizationOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = Organization
        fields = (
            "id",
            "name",
            "org_type",
            "credit_code",
            "province_code",
            "city_code",
            "county_code",
            "address",
            "website",
            "description",
            "status",
            "review_reason",
            "created_at",
            "version",
        )


class MemberCreateInputSerializer(serializers.Serializer):
    username = serializers.RegexField(r"^[\w.@+-]+\Z", max_length=150)
    password = serializers.CharField(write_only=True, max_length=128)
    org_role = serializers.ChoiceField(choices=OrgRole.choices, default=OrgRole.MEMBER)
    email = serializers.EmailField(required=False, allow_blank=True)
    display_name = serializers.CharField(max_length=100, required=False, allow_blank=True)


class UserOutputSerializer(serializers.ModelSerializer):
    organization = OrganizationOutputSerializer()

    class Meta:
        model = User
        fields = (
            "id",
            "username",
            "display_name",
            "email",
            "phone",
            "first_name",
            "last_name",
            "organization",
            "org_role",
            "is_platform_admin",
        )


class MemberOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ("id", "username", "display_name", "email", "org_role")


class UserUnlockInputSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)


class UserUnlockOutputSerializer(serializers.Serializer):
    username = serializers.CharField()
    had_failed_sign_ins = serializers.BooleanField(help_text=_("Whether there were failed sign-ins to clear"))


class UserUpdateInputSerializer(serializers.Serializer):
    display_name = serializers.CharField(max_length=100, required=False, allow_blank=True)
    email = serializers.EmailField(required=False, allow_blank=True)
    phone = serializers.CharField(max_length=30, required=False, allow_blank=True)
    first_name = serializers.CharField(max_length=150, required=False, allow_blank=True)
    last_name = serializers.CharField(max_length=150, required=False, allow_blank=True)
