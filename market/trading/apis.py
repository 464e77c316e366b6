"""Trading endpoints. Each view parses input, calls one service or selector, and serializes the result."""

from django.http import Http404
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import mixins, status, viewsets
from rest_framework import serializers as drf_serializers
from rest_framework.decorators import action
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from market.accounts.identity import reader, signed_in_user
from market.accounts.permissions import IsRegistrar, IsReviewer
from market.catalog.models import Demand, ListingStatus
from market.common.apis import validated
from market.common.filters import ParameterFilterBackend
from market.common.ordering import MappedOrderingFilter
from market.common.pagination import CursorPagination
from market.trading import filters, selectors, serializers
from market.trading.models import Auction, Deal, DealMilestone, DealObjection, Offer, Proposal, Purchase
from market.trading.services import auctions, deals, offers, proposals, purchases


class BidPagination(CursorPagination):
    """Bid history, newest first, in the auction's strict order."""

    ordering = ("-sequence",)


class AuctionViewSet(viewsets.ReadOnlyModelViewSet):
    """Auctions are public; owners open them, signed-up enterprises bid."""

    queryset = Auction.objects.none()
    serializer_class = serializers.AuctionOutputSerializer
    filter_backends = [ParameterFilterBackend, MappedOrderingFilter]
    filterset_class = filters.AuctionFilter
    ordering_map = {"ends_at": "ends_at", "created_at": "created_at", "current_price": "starting_price"}
    ordering = ("-created_at",)

    def get_queryset(self):
        return selectors.auction_list()

    @extend_schema(
        request=serializers.AuctionInputSerializer, responses={201: serializers.AuctionOutputSerializer}
    )
    def create(self, request: Request) -> Response:
        auction = auctions.auction_open(
            user=signed_in_user(request), **validated(serializers.AuctionInputSerializer, request.data)
        )
        return Response(self.get_serializer(auction).data, status=status.HTTP_201_CREATED)

    @extend_schema(methods=["get"], responses=serializers.RegistrationOutputSerializer(many=True))
    @extend_schema(methods=["post"], request=None, responses={201: serializers.RegistrationOutputSerializer})
    @action(detail=True, methods=["get", "post"], permission_classes=[IsAuthenticated], pagination_class=None)
    def registrations(self, request: Request, pk: str) -> Response:
        """Sign up to bid (enterprises; accept a confidential achievement's NDA first), or list sign-ups."""
        auction = self.get_object()
        if request.method == "GET":
            queryset = selectors.registration_list(auction=auction, user=reader(request))
            return Response(serializers.RegistrationOutputSerializer(queryset, many=True).data)
        registration, created = auctions.auction_register(auction=auction, user=signed_in_user(request))
        return Response(
            serializers.RegistrationOutputSerializer(registration).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )

    @extend_schema(request=None, responses=serializers.RegistrationOutputSerializer)
    @action(
        detail=True,
        methods=["post"],
        url_path=r"registrations/(?P<registration_id>[0-9]+)/confirm-deposit",
        permission_classes=[IsAuthenticated],
    )
    def confirm_deposit(self, request: Request, pk: str, registration_id: str) -> Response:
        """The owner confirms a bidder's deposit arrived."""
        registration = get_object_or_404(self.get_object().registrations, pk=registration_id)
        registration = auctions.registration_confirm_deposit(
            registration=registration, user=signed_in_user(request)
        )
        return Response(serializers.RegistrationOutputSerializer(registration).data)

    @extend_schema(methods=["get"], responses=serializers.BidOutputSerializer(many=True))
    @extend_schema(
        methods=["post"],
        request=serializers.BidInputSerializer,
        responses={201: serializers.BidOutputSerializer},
    )
    @action(detail=True, methods=["get", "post"], filter_backends=[], pagination_class=BidPagination)
    def bids(self, request: Request, pk: str) -> Response:
        """Public bid history, newest first, bidders masked; or place a bid (409 when outbid or too low)."""
        auction = self.get_object()
        if request.method == "GET":
            page = self.paginate_queryset(selectors.bid_history(auction=auction))
            return self.get_paginated_response(serializers.BidOutputSerializer(page, many=True).data)
        bid = auctions.bid_place(
            auction_id=auction.pk,
            user=signed_in_user(request),
            **validated(serializers.BidInputSerializer, request.data),
        )
        return Response(serializers.BidOutputSerializer(bid).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=serializers.AuctionCancelInputSerializer, responses=serializers.AuctionOutputSerializer
    )
    @action(detail=True, methods=["post"], permission_classes=[IsAuthenticated])
    def cancel(self, request: Request, pk: str) -> Response:
        """The owner cancels before the first bid; a platform administrator at any time, with a reason.
        Deposits are released and everyone signed up is told."""
        auction = auctions.auction_cancel(
            auction_id=self.get_object().pk,
            user=signed_in_user(request),
            **validated(serializers.AuctionCancelInputSerializer, request.data),
        )
        return Response(self.get_serializer(selectors.auction_list().get(pk=auction.pk)).data)

    def get_permissions(self):
        if self.action in ("create", "bids") and self.request.method == "POST":
            return [IsAuthenticated()]
        return super().get_permissions()


class OfferViewSet(viewsets.ReadOnlyModelViewSet):
    """Negotiations the caller's organization takes part in, as buyer or owner."""

    queryset = Offer.objects.none()
    serializer_class = serializers.OfferOutputSerializer
    permission_classes = [IsAuthenticated]
    filter_backends = [ParameterFilterBackend, MappedOrderingFilter]
    filterset_class = filters.OfferFilter
    ordering_map = {"created_at": "created_at", "updated_at": "updated_at"}

    def get_queryset(self):
        return selectors.offer_list(user=reader(self.request))

    def _done(self, offer: Offer, code: int = status.HTTP_200_OK) -> Response:
        offer = selectors.offer_list(user=reader(self.request)).get(pk=offer.pk)
        return Response(self.get_serializer(offer).data, status=code)

    @extend_schema(
        request=serializers.OfferInputSerializer, responses={201: serializers.OfferOutputSerializer}
    )
    def create(self, request: Request) -> Response:
        offer = offers.offer_make(
            user=signed_in_user(request), **validated(serializers.OfferInputSerializer, request.data)
        )
        return self._done(offer, status.HTTP_201_CREATED)

    @extend_schema(request=serializers.CounterInputSerializer, responses=serializers.OfferOutputSerializer)
    @action(detail=True, methods=["post"])
    def counter(self, request: Request, pk: str) -> Response:
        """Put a new amount on the table (only the side whose turn it is)."""
        data = validated(serializers.CounterInputSerializer, request.data)
        return self._done(offers.offer_counter(offer=self.get_object(), user=signed_in_user(request), **data))

    @extend_schema(request=None, responses=serializers.OfferOutputSerializer)
    @action(detail=True, methods=["post"])
    def accept(self, request: Request, pk: str) -> Response:
        """Accept the amount on the table; a deal opens (with a public notice where the rules need one)."""
        return self._done(offers.offer_accept(offer=self.get_object(), user=signed_in_user(request)))

    @extend_schema(request=serializers.DeclineInputSerializer, responses=serializers.OfferOutputSerializer)
    @action(detail=True, methods=["post"])
    def decline(self, request: Request, pk: str) -> Response:
        """End the negotiation with a structured reason."""
        data = validated(serializers.DeclineInputSerializer, request.data)
        return self._done(offers.offer_decline(offer=self.get_object(), user=signed_in_user(request), **data))

    @extend_schema(
        responses=inline_serializer(
            "DeclineSummary", {"reasons": drf_serializers.DictField(child=drf_serializers.IntegerField())}
        )
    )
    @action(
        detail=False, methods=["get"], url_path="decline-reasons", pagination_class=None, filter_backends=[]
    )
    def decline_reasons(self, request: Request) -> Response:
        """Why buyers passed on your organization's listings, counted by reason."""
        return Response({"reasons": selectors.offer_decline_summary(user=reader(request))})


class PurchaseViewSet(viewsets.ReadOnlyModelViewSet):
    """Purchases at the listed price (挂牌) the caller's organization made or received."""

    queryset = Purchase.objects.none()
    serializer_class = serializers.PurchaseOutputSerializer
    permission_classes = [IsAuthenticated]
    filter_backends = [MappedOrderingFilter]
    ordering_map = {"created_at": "created_at"}
    ordering = ("-created_at",)

    def get_queryset(self):
        return selectors.purchase_list(user=reader(self.request))

    @extend_schema(
        request=serializers.PurchaseInputSerializer, responses={201: serializers.PurchaseOutputSerializer}
    )
    def create(self, request: Request) -> Response:
        """Accept the listed price (send it as `amount`): the first valid acceptance opens a deal and reserves
        the listing, with a public notice (公示) where the rules need one."""
        purchase = purchases.purchase_make(
            user=signed_in_user(request), **validated(serializers.PurchaseInputSerializer, request.data)
        )
        fresh = selectors.purchase_list(user=reader(request)).get(pk=purchase.pk)
        return Response(self.get_serializer(fresh).data, status=status.HTTP_201_CREATED)


class DemandProposalsApi(GenericAPIView):
    """`/demands/{id}/proposals/`: universities and institutes propose (揭榜); the enterprise reads them."""

    queryset = Proposal.objects.none()
    serializer_class = serializers.ProposalOutputSerializer
    permission_classes = [IsAuthenticated]

    def _demand(self, demand_id: int) -> Demand:
        demand = get_object_or_404(Demand.objects.select_related("owner"), pk=demand_id)
        if (
            demand.status != ListingStatus.PUBLISHED
            and demand.owner_id != signed_in_user(self.request).organization_id
        ):
            raise Http404
        return demand

    @extend_schema(responses=serializers.ProposalOutputSerializer(many=True))
    def get(self, request: Request, demand_id: int) -> Response:
        demand = self._demand(demand_id)
        queryset = selectors.proposal_list(user=reader(request)).filter(demand=demand)
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(
        request=serializers.ProposalInputSerializer, responses={201: serializers.ProposalOutputSerializer}
    )
    def post(self, request: Request, demand_id: int) -> Response:
        data = validated(serializers.ProposalInputSerializer, request.data)
        proposal = proposals.proposal_submit(
            demand=self._demand(demand_id), user=signed_in_user(request), **data
        )
        return Response(self.get_serializer(proposal).data, status=status.HTTP_201_CREATED)


class ProposalViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = Proposal.objects.none()
    serializer_class = serializers.ProposalOutputSerializer
    permission_classes = [IsAuthenticated]

    def get_queryset(self):
        return selectors.proposal_list(user=reader(self.request))

    @extend_schema(request=None, responses=serializers.ProposalOutputSerializer)
    @action(detail=True, methods=["post"])
    def shortlist(self, request: Request, pk: str) -> Response:
        proposal = proposals.proposal_shortlist(proposal=self.get_object(), user=signed_in_user(request))
        return Response(self.get_serializer(proposal).data)

    @extend_schema(
        request=serializers.ProposalAcceptInputSerializer, responses=serializers.ProposalOutputSerializer
    )
    @action(detail=True, methods=["post"])
    def accept(self, request: Request, pk: str) -> Response:
        """Accept one shortlisted proposal: a deal opens, the demand closes as solved, and the other proposals
        are not selected (their proposers are told, with the optional `reason`)."""
        data = validated(serializers.ProposalAcceptInputSerializer, request.data)
        proposal = proposals.proposal_accept(proposal=self.get_object(), user=signed_in_user(request), **data)
        return Response(self.get_serializer(proposal).data)


class DealViewSet(viewsets.ReadOnlyModelViewSet):
    """Deals: the parties and their broker see one, and oversight reads it (platform administrators every
    deal, government members their region's); who takes each step is the model's `DEAL_STEPS`."""

    queryset = Deal.objects.none()
    permission_classes = [IsAuthenticated]
    filter_backends = [ParameterFilterBackend, MappedOrderingFilter]
    filterset_class = filters.DealFilter
    ordering_map = {"created_at": "created_at", "updated_at": "updated_at", "registered_on": "registered_on"}

    def get_queryset(self):
        if self.action == "list":
            return selectors.deal_list(user=reader(self.request))
        return selectors.deal_detail(user=reader(self.request))

    def get_serializer_class(self):
        return serializers.DealOutputSerializer if self.action == "list" else serializers.DealDetailSerializer

    def _done(self, deal: Deal, code: int = status.HTTP_200_OK) -> Response:
        fresh = selectors.deal_detail(user=reader(self.request)).filter(pk=deal.pk).first()
        return Response(serializers.DealDetailSerializer(fresh or deal).data, status=code)

    def _milestone(self, milestone_id: str) -> DealMilestone:
        return get_object_or_404(DealMilestone, pk=milestone_id, deal=self.get_object())

    @extend_schema(request=None, responses=serializers.DealDetailSerializer)
    @action(detail=True, methods=["post"])
    def sign(self, request: Request, pk: str) -> Response:
        """A party's own member confirms the contract is signed (after any public notice); the deal is
        contract_signed once both parties have confirmed."""
        return self._done(deals.deal_sign(deal=self.get_object(), user=signed_in_user(request)))

    @extend_schema(request=serializers.AdvanceInputSerializer, responses=serializers.DealDetailSerializer)
    @action(detail=True, methods=["post"])
    def advance(self, request: Request, pk: str) -> Response:
        """paid (the seller confirms receipt), completed (the buyer accepts delivery; every milestone done or
        waived)."""
        data = validated(serializers.AdvanceInputSerializer, request.data)
        return self._done(deals.deal_advance(deal=self.get_object(), user=signed_in_user(request), **data))

    @extend_schema(
        request=serializers.RegistrationSubmitInputSerializer, responses=serializers.DealDetailSerializer
    )
    @action(detail=True, methods=["post"])
    def registration(self, request: Request, pk: str) -> Response:
        """A party (or its broker) submits the signed contract for registration (技术合同认定登记), or
        resubmits it corrected after a return."""
        data = validated(serializers.RegistrationSubmitInputSerializer, request.data)
        return self._done(
            deals.deal_registration_submit(deal=self.get_object(), user=signed_in_user(request), **data)
        )

    @extend_schema(
        request=serializers.RegistrationApproveInputSerializer, responses=serializers.DealDetailSerializer
    )
    @action(detail=True, methods=["post"], url_path="registration/approve")
    def registration_approve(self, request: Request, pk: str) -> Response:
        """A registrar over the seller's region (or a platform administrator) approves the registration and
        assigns its number."""
        data = validated(serializers.RegistrationApproveInputSerializer, request.data)
        return self._done(
            deals.deal_registration_approve(deal=self.get_object(), user=signed_in_user(request), **data)
        )

    @extend_schema(request=serializers.ReasonInputSerializer, responses=serializers.DealDetailSerializer)
    @action(detail=True, methods=["post"], url_path="registration/return")
    def registration_return(self, request: Request, pk: str) -> Response:
        """The registrar returns the submission for correction, with a reason."""
        data = validated(serializers.ReasonInputSerializer, request.data)
        return self._done(
            deals.deal_registration_return(deal=self.get_object(), user=signed_in_user(request), **data)
        )

    @extend_schema(request=serializers.ReasonInputSerializer, responses=serializers.DealDetailSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str) -> Response:
        """A party walks away, with a reason, before the contract is registered."""
        data = validated(serializers.ReasonInputSerializer, request.data)
        return self._done(deals.deal_cancel(deal=self.get_object(), user=signed_in_user(request), **data))

    @extend_schema(request=serializers.BrokerInputSerializer, responses=serializers.DealDetailSerializer)
    @action(detail=True, methods=["post"])
    def broker(self, request: Request, pk: str) -> Response:
        """A party mandates a broker (a member of an approved intermediary) for its side."""
        data = validated(serializers.BrokerInputSerializer, request.data)
        return self._done(
            deals.deal_broker_assign(deal=self.get_object(), user=signed_in_user(request), **data)
        )

    @extend_schema(
        request=serializers.MilestoneInputSerializer, responses={201: serializers.MilestoneSerializer}
    )
    @action(detail=True, methods=["post"])
    def milestones(self, request: Request, pk: str) -> Response:
        data = validated(serializers.MilestoneInputSerializer, request.data)
        milestone = deals.deal_milestone_add(deal=self.get_object(), user=signed_in_user(request), **data)
        return Response(serializers.MilestoneSerializer(milestone).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=serializers.MilestoneSerializer)
    @action(detail=True, methods=["post"], url_path=r"milestones/(?P<milestone_id>[0-9]+)/done")
    def milestone_done(self, request: Request, pk: str, milestone_id: str) -> Response:
        milestone = deals.deal_milestone_done(
            milestone=self._milestone(milestone_id), user=signed_in_user(request)
        )
        return Response(serializers.MilestoneSerializer(milestone).data)

    @extend_schema(request=serializers.ReasonInputSerializer, responses=serializers.MilestoneSerializer)
    @action(detail=True, methods=["post"], url_path=r"milestones/(?P<milestone_id>[0-9]+)/waive")
    def milestone_waive(self, request: Request, pk: str, milestone_id: str) -> Response:
        """A party gives up on an open milestone, with a reason (the other party is told)."""
        data = validated(serializers.ReasonInputSerializer, request.data)
        milestone = deals.deal_milestone_waive(
            milestone=self._milestone(milestone_id), user=signed_in_user(request), **data
        )
        return Response(serializers.MilestoneSerializer(milestone).data)

    @extend_schema(
        request=serializers.DocumentInputSerializer, responses={201: serializers.DocumentSerializer}
    )
    @action(detail=True, methods=["post"])
    def documents(self, request: Request, pk: str) -> Response:
        data = validated(serializers.DocumentInputSerializer, request.data)
        document = deals.deal_document_add(deal=self.get_object(), user=signed_in_user(request), **data)
        return Response(serializers.DocumentSerializer(document).data, status=status.HTTP_201_CREATED)


class RegistrationQueuePagination(CursorPagination):
    """The registrar's queue, first come first served: oldest submission first."""

    ordering = ("registration_submitted_at", "id")


class RegistrationQueueViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """`/registrations/`: the registrar's queue, the contracts awaiting a decision (`status=` returned or
    registered for those), oldest submission first: a registrar's of sellers in their jurisdiction, a
    platform administrator's all."""

    queryset = Deal.objects.none()
    serializer_class = serializers.DealOutputSerializer
    permission_classes = [IsRegistrar]
    filter_backends = [ParameterFilterBackend]
    filterset_class = filters.RegistrationFilter
    pagination_class = RegistrationQueuePagination

    def get_queryset(self):
        return selectors.registration_queue(user=reader(self.request))


class NoticeViewSet(viewsets.ReadOnlyModelViewSet):
    """Public notices (公示) of negotiated deals; anyone signed in may object while one runs."""

    queryset = Deal.objects.none()
    serializer_class = serializers.NoticeSerializer

    def get_queryset(self):
        return selectors.notice_list()

    @extend_schema(
        request=serializers.ObjectionInputSerializer, responses={201: serializers.ObjectionSerializer}
    )
    @action(detail=True, methods=["post"], permission_classes=[IsAuthenticated])
    def objections(self, request: Request, pk: str) -> Response:
        data = validated(serializers.ObjectionInputSerializer, request.data)
        objection = deals.objection_lodge(deal=self.get_object(), user=signed_in_user(request), **data)
        return Response(serializers.ObjectionSerializer(objection).data, status=status.HTTP_201_CREATED)


class ObjectionViewSet(viewsets.ReadOnlyModelViewSet):
    """The objections queue: platform administrators see (and rule on) every objection, government members
    read those on their region's deals, anyone else the objections they lodged. Filter by `status`, `deal`."""

    queryset = DealObjection.objects.none()
    serializer_class = serializers.ObjectionQueueSerializer
    permission_classes = [IsAuthenticated]
    filter_backends = [ParameterFilterBackend, MappedOrderingFilter]
    filterset_class = filters.ObjectionFilter
    ordering_map = {"created_at": "created_at"}

    def get_queryset(self):
        return selectors.objection_list(user=reader(self.request))

    @extend_schema(request=serializers.RulingInputSerializer, responses=serializers.ObjectionQueueSerializer)
    @action(detail=True, methods=["post"], permission_classes=[IsReviewer])
    def rule(self, request: Request, pk: str) -> Response:
        """A platform administrator rules on an objection; upholding it cancels the deal."""
        data = validated(serializers.RulingInputSerializer, request.data)
        objection = deals.objection_rule(
            objection=self.get_object(), reviewer=signed_in_user(request), **data
        )
        return Response(self.get_serializer(objection).data)
