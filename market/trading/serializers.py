"""Input and output shapes of the trading API. Inputs only parse; rules live in the services."""

from decimal import Decimal

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from market.common.fields import CalendarDateField, CalendarDateTimeField
from market.trading.models import (
    ADVANCE_STEPS,
    MONEY,
    Auction,
    AuctionRegistration,
    Bid,
    ContractType,
    Deal,
    DealAudit,
    DealDocument,
    DealMilestone,
    DealObjection,
    DeclineReason,
    ListingKind,
    Offer,
    OfferRound,
    Proposal,
    Purchase,
    TransactionMode,
)
from market.trading.selectors import mask_name

POSITIVE_MONEY = {**MONEY, "min_value": Decimal("0.01")}


class OrgRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


# ---- auctions ----------------------------------------------------------------------------------------------


class AuctionInputSerializer(serializers.Serializer):
    listing_kind = serializers.ChoiceField(choices=ListingKind.choices)
    listing_id = serializers.IntegerField(min_value=1, max_value=2**31 - 1)
    starts_at = CalendarDateTimeField()
    ends_at = CalendarDateTimeField()
    starting_price = serializers.DecimalField(**MONEY, min_value=0)
    bid_increment = serializers.DecimalField(**POSITIVE_MONEY)
    reserve_price = serializers.DecimalField(**MONEY, min_value=0, required=False, allow_null=True)
    deposit_amount = serializers.DecimalField(**MONEY, min_value=0, required=False)
    snipe_window_minutes = serializers.IntegerField(min_value=0, max_value=120, required=False)
    extension_minutes = serializers.IntegerField(min_value=1, max_value=120, required=False)
    transaction_mode = serializers.ChoiceField(choices=TransactionMode.choices, required=False)


class AuctionOutputSerializer(serializers.ModelSerializer):
    """The reserve price stays hidden; `reserve_met` says only whether the top bid reaches it."""

    owner = OrgRefSerializer()
    listing_id = serializers.IntegerField()
    reserve_met = serializers.SerializerMethodField()
    minimum_next_bid = serializers.SerializerMethodField()
    leading_bidder = serializers.SerializerMethodField()

    class Meta:
        model = Auction
        fields = (
            "id",
            "listing_kind",
            "listing_id",
            "title",
            "owner",
            "status",
            "starts_at",
            "ends_at",
            "scheduled_end",
            "starting_price",
            "bid_increment",
            "deposit_amount",
            "snipe_window_minutes",
            "extension_minutes",
            "transaction_mode",
            "current_price",
            "minimum_next_bid",
            "bid_count",
            "leading_bidder",
            "reserve_met",
            "failure_reason",
            "cancel_reason",
            "closed_at",
            "version",
            "created_at",
        )

    def get_reserve_met(self, auction: Auction) -> bool | None:
        return auction.reserve_met

    def get_minimum_next_bid(self, auction: Auction) -> str:
        return f"{auction.minimum_next_bid:.2f}"

    def get_leading_bidder(self, auction: Auction) -> int | None:
        """The leader's bidder number (竞买号), never its name."""
        return auction.leading_bid.registration.paddle_number if auction.leading_bid else None


class AuctionCancelInputSerializer(serializers.Serializer):
    reason = serializers.CharField(
        max_length=2000,
        required=False,
        allow_blank=True,
        help_text=_("Why the auction is cancelled; required when an administrator cancels it"),
    )


class RegistrationOutputSerializer(serializers.ModelSerializer):
    organization = OrgRefSerializer()

    class Meta:
        model = AuctionRegistration
        fields = ("id", "auction", "organization", "paddle_number", "deposit_status", "created_at")


class BidInputSerializer(serializers.Serializer):
    amount = serializers.DecimalField(**POSITIVE_MONEY)


class BidOutputSerializer(serializers.ModelSerializer):
    """Public bid history: the bidder number and a masked organization name."""

    bidder = serializers.SerializerMethodField()
    bidder_number = serializers.IntegerField(source="registration.paddle_number")

    class Meta:
        model = Bid
        fields = ("id", "sequence", "amount", "bidder_number", "bidder", "placed_at")

    def get_bidder(self, bid: Bid) -> str:
        return mask_name(bid.organization.name)


# ---- offers ------------------------------------------------------------------------------------------------


class ListingTradeInputSerializer(serializers.Serializer):
    """What an offer and a purchase name alike: the listing and the transaction mode."""

    listing_kind = serializers.ChoiceField(choices=ListingKind.choices)
    listing_id = serializers.IntegerField(min_value=1, max_value=2**31 - 1)
    transaction_mode = serializers.ChoiceField(choices=TransactionMode.choices)


class ListingTradeOutputSerializer(serializers.ModelSerializer):
    """What an offer and a purchase show alike: the listing traded, its owner, the buyer, amount and mode."""

    FIELDS = ("id", "listing_kind", "listing_id", "title", "owner", "buyer", "amount", "transaction_mode")

    owner = OrgRefSerializer()
    buyer = OrgRefSerializer()
    listing_id = serializers.IntegerField()


class OfferInputSerializer(ListingTradeInputSerializer):
    amount = serializers.DecimalField(**POSITIVE_MONEY)
    message = serializers.CharField(max_length=5000, required=False, allow_blank=True)


class CounterInputSerializer(serializers.Serializer):
    amount = serializers.DecimalField(**POSITIVE_MONEY)
    message = serializers.CharField(max_length=5000, required=False, allow_blank=True)


class DeclineInputSerializer(serializers.Serializer):
    reason_code = serializers.ChoiceField(choices=DeclineReason.choices)
    reason_text = serializers.CharField(max_length=2000, required=False, allow_blank=True)


class OfferRoundSerializer(serializers.ModelSerializer):
    class Meta:
        model = OfferRound
        fields = ("side", "amount", "message", "created_at")


class OfferOutputSerializer(ListingTradeOutputSerializer):
    rounds = OfferRoundSerializer(many=True)
    deal_id = serializers.SerializerMethodField()

    class Meta:
        model = Offer
        fields = (
            *ListingTradeOutputSerializer.FIELDS,
            "status",
            "awaiting",
            "decline_reason",
            "decline_text",
            "declined_by",
            "rounds",
            "deal_id",
            "version",
            "created_at",
        )

    def get_deal_id(self, offer: Offer) -> int | None:
        deal = getattr(offer, "deal", None)
        return deal.pk if deal else None


# ---- purchases ---------------------------------------------------------------------------------------------


class PurchaseInputSerializer(ListingTradeInputSerializer):
    amount = serializers.DecimalField(
        **MONEY, min_value=0, help_text=_("the listed price as the buyer saw it; a changed price is refused")
    )


class PurchaseOutputSerializer(ListingTradeOutputSerializer):
    deal_id = serializers.IntegerField(source="deal.pk")
    notice_ends_at = serializers.DateTimeField(source="deal.notice_ends_at", allow_null=True)

    class Meta:
        model = Purchase
        fields = (
            *ListingTradeOutputSerializer.FIELDS,
            "deal_id",
            "notice_ends_at",
            "version",
            "created_at",
        )


# ---- proposals ---------------------------------------------------------------------------------------------


class ProposalInputSerializer(serializers.Serializer):
    summary = serializers.CharField(max_length=300)
    approach = serializers.CharField(max_length=20000)
    amount = serializers.DecimalField(**POSITIVE_MONEY)
    transaction_mode = serializers.ChoiceField(choices=TransactionMode.choices)


class ProposalAcceptInputSerializer(serializers.Serializer):
    reason = serializers.CharField(
        max_length=2000,
        required=False,
        default="",
        allow_blank=True,
        help_text=_("Told to the proposers whose proposals were not selected (optional)."),
    )


class ProposalOutputSerializer(serializers.ModelSerializer):
    proposer = OrgRefSerializer()

    class Meta:
        model = Proposal
        fields = (
            "id",
            "demand",
            "proposer",
            "summary",
            "approach",
            "amount",
            "transaction_mode",
            "status",
            "not_selected_reason",
            "version",
            "created_at",
        )


# ---- deals -------------------------------------------------------------------------------------------------


class AdvanceInputSerializer(serializers.Serializer):
    to = serializers.ChoiceField(
        choices=tuple(ADVANCE_STEPS),
        help_text=_("paid or completed; signing, registration and cancellation have their own steps"),
    )


class RegistrationSubmitInputSerializer(serializers.Serializer):
    contract_type = serializers.ChoiceField(choices=ContractType.choices)
    contract_value = serializers.DecimalField(**MONEY, min_value=0)
    technology_transaction_value = serializers.DecimalField(**MONEY, min_value=0)


class RegistrationApproveInputSerializer(serializers.Serializer):
    registration_number = serializers.CharField(
        max_length=40, help_text=_("the technology contract registration number the registrar assigns")
    )


class ReasonInputSerializer(serializers.Serializer):
    """Cancelling a deal, returning a registration, waiving a milestone: each says why."""

    reason = serializers.CharField(max_length=2000)


class BrokerInputSerializer(serializers.Serializer):
    broker_id = serializers.IntegerField(min_value=1, max_value=2**31 - 1)
    commission = serializers.DecimalField(**MONEY, min_value=0, required=False, allow_null=True)


class MilestoneInputSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    due_on = CalendarDateField(required=False, allow_null=True)
    amount = serializers.DecimalField(**MONEY, min_value=0, required=False, allow_null=True)


class DocumentInputSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    url = serializers.URLField(max_length=500)


class ObjectionInputSerializer(serializers.Serializer):
    text = serializers.CharField(max_length=5000)


class RulingInputSerializer(serializers.Serializer):
    upheld = serializers.BooleanField()
    ruling = serializers.CharField(max_length=5000, required=False, allow_blank=True)


class MilestoneSerializer(serializers.ModelSerializer):
    class Meta:
        model = DealMilestone
        fields = ("id", "title", "due_on", "amount", "done_at", "waived_at", "waive_reason")


class DocumentSerializer(serializers.ModelSerializer):
    class Meta:
        model = DealDocument
        fields = ("id", "title", "url", "uploaded_by", "created_at")


class AuditSerializer(serializers.ModelSerializer):
    class Meta:
        model = DealAudit
        fields = ("action", "from_stage", "to_stage", "actor", "acting_as", "note", "at")


class ObjectionSerializer(serializers.ModelSerializer):
    class Meta:
        model = DealObjection
        fields: tuple[str, ...] = ("id", "deal", "text", "status", "ruling", "created_at")


class ObjectionQueueSerializer(ObjectionSerializer):
    """An objection as oversight reads it: with the deal it concerns and who lodged it."""

    deal_title = serializers.CharField(source="deal.title")
    notice_ends_at = serializers.DateTimeField(source="deal.notice_ends_at")
    objector = serializers.IntegerField(source="user_id")

    class Meta(ObjectionSerializer.Meta):
        fields = (*ObjectionSerializer.Meta.fields, "deal_title", "notice_ends_at", "objector")


class DealOutputSerializer(serializers.ModelSerializer):
    seller = OrgRefSerializer()
    buyer = OrgRefSerializer()

    class Meta:
        model = Deal
        fields: tuple[str, ...] = (
            "id",
            "title",
            "seller",
            "buyer",
            "patent",
            "achievement",
            "demand",
            "auction",
            "offer",
            "proposal",
            "purchase",
            "amount",
            "transaction_mode",
            "stage",
            "broker",
            "broker_mandate",
            "broker_commission",
            "notice_starts_at",
            "notice_ends_at",
            "seller_signed_at",
            "buyer_signed_at",
            "contract_type",
            "contract_value",
            "technology_transaction_value",
            "registration_status",
            "registration_submitted_at",
            "registration_return_reason",
            "registration_number",
            "registered_on",
            "registered_by",
            "cancel_reason",
            "version",
            "created_at",
        )


class DealDetailSerializer(DealOutputSerializer):
    milestones = MilestoneSerializer(many=True)
    documents = DocumentSerializer(many=True)
    audit = AuditSerializer(many=True)
    objections = ObjectionSerializer(many=True)

    class Meta(DealOutputSerializer.Meta):
        fields = (*DealOutputSerializer.Meta.fields, "milestones", "documents", "audit", "objections")


class NoticeSerializer(serializers.ModelSerializer):
    """What a public notice (公示) shows: the deal's subject, parties, amount and window."""

    seller = OrgRefSerializer()
    buyer = OrgRefSerializer()

    class Meta:
        model = Deal
        fields = (
            "id",
            "title",
            "seller",
            "buyer",
            "achievement",
            "amount",
            "notice_starts_at",
            "notice_ends_at",
        )
