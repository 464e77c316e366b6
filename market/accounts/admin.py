from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _

from market.accounts.models import Organization, User


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ("name", "org_type", "credit_code", "county_code", "status", "created_at")
    list_filter = ("org_type", "status", "province_code")
    search_fields = ("name", "credit_code")
    readonly_fields = ("version", "created_at", "updated_at")


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ("username", "display_name", "organization", "org_role", "is_platform_admin", "is_active")
    list_filter = ("org_role", "is_platform_admin", "is_active", "organization__org_type")
    list_select_related = ("organization",)
    fieldsets = (
        *(DjangoUserAdmin.fieldsets or ()),
        (_("Market"), {"fields": ("organization", "org_role", "is_platform_admin", "display_name", "phone")}),
    )
