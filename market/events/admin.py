from django.contrib import admin

from market.events.models import OutboxEvent


@admin.register(OutboxEvent)
class OutboxEventAdmin(admin.ModelAdmin):
    list_display = ("type", "key", "aggregate_version", "created_at", "sent_at", "set_aside_at")
    list_filter = ("type", "topic")
    search_fields = ("key",)
    readonly_fields = [field.name for field in OutboxEvent._meta.fields]
