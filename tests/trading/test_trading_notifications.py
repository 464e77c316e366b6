"""Who hears of a purchase at the listed price and of a cancelled auction: the events relayed to the real
broker and read by the real notify consumer, which writes the inbox."""

from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from market.trading.services import auctions
from services.notify.consumer import SPEC
from services.notify.models import Notification
from tests import factories
from tests.events.kit import handle_everything
from tests.trading.helpers import open_auction

pytestmark = pytest.mark.django_db(transaction=True)


def _inbox(kind: str) -> dict[str, tuple[str, str]]:
    """username -> (subject, body) of the in-app notifications of one kind."""
    rows = Notification.objects.filter(kind=kind, channel="in_app").select_related("user")
    return {row.user.username: (row.subject, row.body) for row in rows}


def test_the_seller_hears_of_a_purchase_and_everyone_signed_up_of_a_cancelled_auction(cast, broker):
    listed = factories.patent(cast.university, price=Decimal("260000"), title="一种固态电解质膜")
    buyer = APIClient()
    buyer.force_authenticate(cast.ent_member)
    body = {
        "listing_kind": "patent",
        "listing_id": listed.pk,
        "amount": "260000",
        "transaction_mode": "transfer",
    }
    assert buyer.post("/api/v1/purchases/", body, format="json").status_code == 201

    auctioned = factories.patent(cast.university, price=None, title="一种钠离子电池负极")
    auction = open_auction(cast.uni_member, auctioned, deposit_amount=Decimal("10000"))
    for user in (cast.ent_member, cast.ent2_member):
        auctions.auction_register(auction=auction, user=user)
    admin = APIClient()
    admin.force_authenticate(cast.platform_admin)
    cancelled = admin.post(
        f"/api/v1/auctions/{auction.pk}/cancel/", {"reason": "权属存在争议"}, format="json"
    )
    assert cancelled.status_code == 200

    handle_everything(broker, SPEC)

    sold = _inbox("purchase")
    assert set(sold) == {"uni_member", "uni_admin"}  # the seller's members; the buyer acted itself
    subject, text = sold["uni_member"]
    assert subject == "挂牌成交：一种固态电解质膜"
    assert "260000.00 元" in text and "专利" in text and "/api/v1/deals/" in text

    told = {
        name: message for name, message in _inbox("auction_result").items() if "钠离子电池负极" in message[0]
    }
    assert set(told) == {"ent_member", "ent2_member", "uni_member", "uni_admin"}
    subject, text = told["ent2_member"]
    assert subject == "竞价已取消：一种钠离子电池负极"
    assert "权属存在争议" in text and "保证金" in text
