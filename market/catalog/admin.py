from django.contrib import admin

from market.catalog.models import Achievement, Demand, Expert, NdaAcceptance, Patent

LISTING_READONLY = (
    "version",
    "created_at",
    "updated_at",
    "reviewed_at",
    "published_at",
    "synthetic_fields",
    "source_key",
)


@admin.register(Patent)
class PatentAdmin(admin.ModelAdmin):
    list_display = ("application_number", "title", "patent_type", "legal_status", "status", "owner")
    list_filter = ("status", "availability", "patent_type", "legal_status")
    search_fields = ("application_number", "publication_number", "title")
    list_select_related = ("owner",)
    raw_id_fields = ("owner", "created_by", "reviewed_by")
    readonly_fields = (*LISTING_READONLY, "availability", "expiry_date")


@admin.register(Achievement)
class AchievementAdmin(admin.ModelAdmin):
    list_display = ("name", "field", "trl", "pricing_method", "price", "status", "owner")
    list_filter = ("status", "availability", "stage", "pricing_method", "category")
    search_fields = ("name", "registration_number")
    list_select_related = ("owner",)
    raw_id_fields = ("owner", "created_by", "reviewed_by", "patents")
    readonly_fields = (*LISTING_READONLY, "availability")


@admin.register(Demand)
class DemandAdmin(admin.ModelAdmin):
    list_display = ("title", "field", "collaboration_mode", "urgency", "deadline", "status", "owner")
    list_filter = ("status", "urgency", "collaboration_mode", "is_anonymous")
    search_fields = ("title",)
    list_select_related = ("owner",)
    raw_id_fields = ("owner", "created_by", "reviewed_by")
    readonly_fields = LISTING_READONLY


@admin.register(Expert)
class ExpertAdmin(admin.ModelAdmin):
    list_display = ("name", "title", "organization", "is_public")
    list_filter = ("is_public",)
    search_fields = ("name",)
    list_select_related = ("organization",)
    raw_id_fields = ("organization", "user")


@admin.register(NdaAcceptance)
class NdaAcceptanceAdmin(admin.ModelAdmin):
    list_display = ("achievement", "user", "accepted_at")
    raw_id_fields = ("achievement", "user")
