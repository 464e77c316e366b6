from django.contrib import admin

from market.trading.models import (
    Auction,
    AuctionRegistration,
    Bid,
    Deal,
    DealAudit,
    DealObjection,
    Offer,
    Proposal,
    Purchase,
)


@admin.register(Auction)
class AuctionAdmin(admin.ModelAdmin):
    list_display = ("title", "owner", "status", "starts_at", "ends_at", "current_price", "bid_count")
    list_filter = ("status", "listing_kind")
    search_fields = ("title",)
    raw_id_fields = ("owner", "created_by", "patent", "achievement", "leading_bid")
    readonly_fields = ("version", "current_price", "bid_count", "closed_at", "cancel_reason")


@admin.register(AuctionRegistration)
class AuctionRegistrationAdmin(admin.ModelAdmin):
    list_display = ("auction", "organization", "paddle_number", "deposit_status")
    raw_id_fields = ("auction", "organization", "user")


@admin.register(Bid)
class BidAdmin(admin.ModelAdmin):
    list_display = ("auction", "sequence", "amount", "organization", "placed_at")
    raw_id_fields = ("auction", "registration", "organization", "user")


@admin.register(Offer)
class OfferAdmin(admin.ModelAdmin):
    list_display = ("title", "buyer", "owner", "amount", "status", "awaiting", "decline_reason")
    list_filter = ("status", "decline_reason")
    raw_id_fields = ("owner", "buyer", "buyer_user", "patent", "achievement")


@admin.register(Purchase)
class PurchaseAdmin(admin.ModelAdmin):
    list_display = ("title", "buyer", "owner", "amount", "transaction_mode", "created_at")
    list_filter = ("transaction_mode", "listing_kind")
    raw_id_fields = ("owner", "buyer", "buyer_user", "patent", "achievement")


@admin.register(Proposal)
class ProposalAdmin(admin.ModelAdmin):
    list_display = ("summary", "demand", "proposer", "amount", "status")
    list_filter = ("status",)
    raw_id_fields = ("demand", "proposer", "proposer_user")


class DealAuditInline(admin.TabularInline):
    model = DealAudit
    extra = 0
    can_delete = False
    readonly_fields = ("action", "from_stage", "to_stage", "actor", "acting_as", "note", "at")


@admin.register(Deal)
class DealAdmin(admin.ModelAdmin):
    list_display = (
        "title",
        "seller",
        "buyer",
        "amount",
        "stage",
        "registration_status",
        "registration_number",
    )
    list_filter = ("stage", "registration_status", "transaction_mode", "contract_type")
    search_fields = ("title", "registration_number")
    raw_id_fields = (
        "seller",
        "buyer",
        "patent",
        "achievement",
        "demand",
        "auction",
        "offer",
        "proposal",
        "purchase",
        "broker",
        "registered_by",
    )
    inlines = [DealAuditInline]


@admin.register(DealObjection)
class DealObjectionAdmin(admin.ModelAdmin):
    list_display = ("deal", "user", "status", "created_at")
    raw_id_fields = ("deal", "user")
