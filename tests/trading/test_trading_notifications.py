"""Who hears of a purchase at the listed price, of a cancelled auction, of a contract registration and of an
objection: the events relayed to the real broker and read by the real notify consumer, which writes the
inbox."""

from decimal import Decimal
from urllib.parse import urlsplit

import pytest
from rest_framework.test import APIClient

from market.trading.services import auctions
from services.notify.consumer import SPEC
from services.notify.models import Notification
from tests import factories
from tests.events.kit import handle_everything
from tests.trading.helpers import deal_between, noticed_deal, open_auction

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


def test_registrars_hear_of_submissions_parties_of_returns_and_administrators_of_objections(cast, broker):
    """Contract registration and oversight reach people: the registrars over the seller's region hear of a
    contract submitted for registration (and no one else of the bureau), the parties of its return with the
    registrar's reason, the platform administrators of an objection, linked to the queue that holds it."""
    elsewhere = factories.user(
        factories.organization("government", county_code="440305"), role="registrar", username="far_registrar"
    )
    deal = deal_between(cast.uni_member, cast.ent_member)
    deal.title = "一种固态电池隔膜"
    deal.save(update_fields=["title"])
    buyer, seller, registrar = (_client(user) for user in (cast.ent_member, cast.uni_member, cast.registrar))
    for party in (buyer, seller):
        assert party.post(f"/api/v1/deals/{deal.pk}/sign/").status_code == 200
    submission = {
        "contract_type": "transfer",
        "contract_value": "300000",
        "technology_transaction_value": "300000",
    }
    assert buyer.post(f"/api/v1/deals/{deal.pk}/registration/", submission, format="json").status_code == 200
    reason = "合同缺少技术交易额的计算依据"
    returned = registrar.post(
        f"/api/v1/deals/{deal.pk}/registration/return/", {"reason": reason}, format="json"
    )
    assert returned.status_code == 200
    noticed = noticed_deal(cast.uni_member, cast.ent2_member)
    noticed.title = "高镍正极包覆"
    noticed.save(update_fields=["title"])
    objected = _client(cast.inst_member).post(
        f"/api/v1/notices/{noticed.pk}/objections/", {"text": "定价明显偏低"}, format="json"
    )
    assert objected.status_code == 201

    handle_everything(broker, SPEC)

    pending = _inbox("registration_pending")
    assert set(pending) == {"registrar"}  # not the viewer of the same bureau, not a far registrar
    subject, text = pending["registrar"]
    assert subject == "待登记：技术合同「一种固态电池隔膜」" and "/api/v1/registrations/" in text
    told = Notification.objects.filter(kind="deal", channel="in_app", data__fact="registration_returned")
    assert sorted(told.values_list("user__username", flat=True)) == [
        "ent_admin",
        "ent_member",
        "uni_admin",
        "uni_member",
    ]
    assert {row.subject for row in told} == {"技术合同登记被退回：一种固态电池隔膜"}
    assert all(f"原因：{reason}" in row.body for row in told)
    [(name, (subject, text))] = _inbox("objection").items()
    assert name == "reviewer" and subject == "公示异议待裁决：高镍正极包覆"
    link = Notification.objects.get(kind="objection", channel="in_app").link
    parts = urlsplit(link)
    assert parts.query == f"deal={noticed.pk}&status=open"
    queue = _client(cast.platform_admin).get(f"{parts.path}?{parts.query}")
    assert [row["id"] for row in queue.json()["results"]] == [objected.json()["id"]]
    assert not Notification.objects.filter(user=elsewhere).exists()


def _client(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client
