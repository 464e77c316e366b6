"""Deal stages: who may take each step (parties, their broker, nobody else), in which order, with an audit row
and an event per change; and the public notice period of negotiated public-institution achievements."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from market.trading.models import Deal, DealAudit, DealStage
from market.trading.services import deals, offers
from tests import factories
from tests.trading.helpers import events_of

pytestmark = pytest.mark.django_db

REGISTRATION = {
    "contract_type": "transfer",
    "contract_value": "300000",
    "technology_transaction_value": "250000",
    "registration_number": "3301062026000123",
    "registered_on": "2026-01-05",
}


@pytest.fixture
def deal(cast) -> Deal:
    """A deal from an accepted offer on a patent without notice: university sells, enterprise buys."""
    patent = factories.patent(cast.university, price=None)
    offer = offers.offer_make(
        user=cast.ent_member,
        listing_kind="patent",
        listing_id=patent.pk,
        amount=Decimal("300000"),
        transaction_mode="transfer",
    )
    offers.offer_accept(offer=offer, user=cast.uni_member)
    return Deal.objects.get(offer=offer)


def _advance(api, user, deal, to):
    return api(user).post(f"/api/v1/deals/{deal.pk}/advance/", {"to": to}, format="json")


def _register(api, user, deal, **change):
    return api(user).post(
        f"/api/v1/deals/{deal.pk}/register-contract/", {**REGISTRATION, **change}, format="json"
    )


def test_only_parties_and_their_broker_see_a_deal(cast, api, deal):
    for outsider in (cast.ent2_member, cast.inst_member, cast.broker, cast.gov_member, cast.platform_admin):
        assert api(outsider).get(f"/api/v1/deals/{deal.pk}/").status_code == 404
        assert deal.pk not in [row["id"] for row in api(outsider).get("/api/v1/deals/").json()["results"]]
        assert _advance(api, outsider, deal, "contract_signed").status_code == 404
    assert api(None).get("/api/v1/deals/").status_code == 401
    for party in (cast.uni_member, cast.uni_admin, cast.ent_member):
        assert api(party).get(f"/api/v1/deals/{deal.pk}/").status_code == 200
    assigned = api(cast.ent_member).post(
        f"/api/v1/deals/{deal.pk}/broker/", {"broker_id": cast.broker.pk, "commission": "9000"}, format="json"
    )
    assert assigned.status_code == 200 and assigned.json()["broker_mandate"] == "buyer"
    assert api(cast.broker).get(f"/api/v1/deals/{deal.pk}/").status_code == 200
    assert events_of("market.deal.updated.v1")[-1]["broker_user_id"] == cast.broker.pk


def test_a_broker_must_belong_to_an_approved_intermediary(cast, api, deal):
    response = api(cast.ent_member).post(
        f"/api/v1/deals/{deal.pk}/broker/", {"broker_id": cast.ent2_member.pk}, format="json"
    )
    assert response.status_code == 400 and "broker_id" in response.json()["error"]["fields"]
    missing = api(cast.ent_member).post(
        f"/api/v1/deals/{deal.pk}/broker/", {"broker_id": 10**9}, format="json"
    )
    assert missing.status_code == 400


# (step, who may, who may not) — sides by role: seller = university member, buyer = enterprise member
MATRIX = [
    ("contract_signed", ("uni_member", "ent_member"), ()),
    ("contract_registered", ("uni_member",), ("ent_member",)),
    ("paid", ("uni_member",), ("ent_member",)),
    ("completed", ("ent_member",), ("uni_member",)),
]


def _step(api, user, deal, to):
    if to == "contract_registered":
        return _register(api, user, deal)
    return _advance(api, user, deal, to)


def test_the_happy_path_with_each_step_taken_by_the_right_party(cast, api, deal):
    for index, (to, allowed, forbidden) in enumerate(MATRIX):
        for name in forbidden:
            response = _step(api, getattr(cast, name), deal, to)
            assert response.status_code == 403, (to, name)
        # a step that is not next is a conflict, not a jump
        if index + 1 < len(MATRIX):
            later, later_allowed, _ = MATRIX[index + 1]
            jumped = _step(api, getattr(cast, later_allowed[0]), deal, later)
            assert jumped.status_code == 409 and jumped.json()["error"]["code"] == "invalid_transition"
        response = _step(api, getattr(cast, allowed[0]), deal, to)
        assert response.status_code == 200, (to, response.content)
        assert response.json()["stage"] == to
    deal.refresh_from_db()
    assert deal.stage == DealStage.COMPLETED
    assert deal.contract_value == Decimal("300000") and deal.technology_transaction_value == Decimal("250000")
    assert deal.registration_number == REGISTRATION["registration_number"]
    audit = list(DealAudit.objects.filter(deal=deal).values_list("from_stage", "to_stage", "acting_as"))
    assert audit == [
        ("", "negotiating", "seller"),
        ("negotiating", "contract_signed", "seller"),
        ("contract_signed", "contract_registered", "seller"),
        ("contract_registered", "paid", "seller"),
        ("paid", "completed", "buyer"),
    ]
    assert [e["stage"] for e in events_of("market.deal.advanced.v1")] == ["contract_signed", "paid"]
    [registered] = events_of("market.deal.contract_registered.v1")
    assert (
        registered["contract_value"] == "300000.00"
        and registered["technology_transaction_value"] == "250000.00"
    )
    [completed] = events_of("market.deal.completed.v1")
    assert completed["actor_user_id"] == cast.ent_member.pk
    # finished: nothing moves any more
    assert (
        api(cast.ent_member)
        .post(f"/api/v1/deals/{deal.pk}/cancel/", {"reason": "x"}, format="json")
        .status_code
        == 409
    )


def test_a_broker_takes_the_mandating_partys_steps_only(cast, api, deal):
    deals.deal_broker_assign(deal=deal, user=cast.uni_member, broker_id=cast.broker.pk, commission=None)
    assert _advance(api, cast.broker, deal, "contract_signed").status_code == 200
    assert _register(api, cast.broker, deal).status_code == 200  # the seller's filing, on its behalf
    assert _advance(api, cast.broker, deal, "paid").status_code == 200
    assert _advance(api, cast.broker, deal, "completed").status_code == 403  # the buyer's step
    acting = list(DealAudit.objects.filter(deal=deal, actor=cast.broker).values_list("acting_as", flat=True))
    assert acting == ["broker:seller"] * 3  # broker_assigned was the university member's act


def test_registration_input_is_checked(cast, api, deal):
    deals.deal_advance(deal=deal, user=cast.ent_member, to="contract_signed")
    over = _register(api, cast.uni_member, deal, technology_transaction_value="300000.01")
    assert over.status_code == 400 and "technology_transaction_value" in over.json()["error"]["fields"]
    future = _register(
        api, cast.uni_member, deal, registered_on=(date.today() + timedelta(days=3)).isoformat()
    )
    assert future.status_code == 400 and "registered_on" in future.json()["error"]["fields"]
    assert _register(api, cast.uni_member, deal, contract_type="sale").status_code == 400
    assert _advance(api, cast.uni_member, deal, "contract_registered").status_code == 400


def test_cancel_before_registration_only_and_with_a_reason(cast, api, deal):
    url = f"/api/v1/deals/{deal.pk}/cancel/"
    assert api(cast.ent_member).post(url, {"reason": ""}, format="json").status_code == 400
    assert api(cast.ent2_member).post(url, {"reason": "x"}, format="json").status_code == 404
    response = api(cast.ent_member).post(url, {"reason": "预算调整"}, format="json")
    assert response.status_code == 200 and response.json()["stage"] == "cancelled"
    [cancelled] = events_of("market.deal.cancelled.v1")
    assert cancelled["reason"] == "预算调整"
    assert _advance(api, cast.uni_member, deal, "contract_signed").status_code == 409


def test_milestones_and_documents_by_parties(cast, api, deal):
    created = api(cast.ent_member).post(
        f"/api/v1/deals/{deal.pk}/milestones/", {"title": "首付款", "amount": "100000"}, format="json"
    )
    assert created.status_code == 201
    done_url = f"/api/v1/deals/{deal.pk}/milestones/{created.json()['id']}/done/"
    assert api(cast.ent2_member).post(done_url).status_code == 404
    assert api(cast.uni_member).post(done_url).status_code == 200
    assert api(cast.uni_member).post(done_url).status_code == 409
    doc = api(cast.uni_member).post(
        f"/api/v1/deals/{deal.pk}/documents/",
        {"title": "合同草案", "url": "https://example.org/c.pdf"},
        format="json",
    )
    assert doc.status_code == 201
    detail = api(cast.ent_member).get(f"/api/v1/deals/{deal.pk}/").json()
    assert len(detail["milestones"]) == 1 and len(detail["documents"]) == 1
    changes = [e["change"] for e in events_of("market.deal.updated.v1")]
    assert changes == ["milestone_added", "milestone_done", "document_added"]


@pytest.fixture
def noticed(cast) -> Deal:
    """An accepted negotiated offer on a university's achievement: under public notice."""
    achievement = factories.achievement(cast.university, pricing_method="negotiated")
    offer = offers.offer_make(
        user=cast.ent_member,
        listing_kind="achievement",
        listing_id=achievement.pk,
        amount=Decimal("480000"),
        transaction_mode="licence_exclusive",
    )
    offers.offer_accept(offer=offer, user=cast.uni_member)
    return Deal.objects.get(offer=offer)


def test_public_notice_blocks_signing_until_it_ends(cast, api, noticed, settings):
    assert noticed.notice_ends_at - noticed.notice_starts_at == timedelta(days=15)
    [opened] = events_of("market.deal.opened.v1")
    assert opened["notice_ends_at"] == noticed.notice_ends_at.isoformat()
    blocked = _advance(api, cast.ent_member, noticed, "contract_signed")
    assert blocked.status_code == 409 and blocked.json()["error"]["code"] == "notice_period"
    notices = api(None).get("/api/v1/notices/").json()["results"]
    assert [row["id"] for row in notices] == [noticed.pk] and notices[0]["amount"] == "480000.00"
    Deal.objects.filter(pk=noticed.pk).update(notice_ends_at=timezone.now() - timedelta(seconds=1))
    assert _advance(api, cast.ent_member, noticed, "contract_signed").status_code == 200


def test_objections_during_notice_and_the_ruling(cast, api, noticed):
    url = f"/api/v1/notices/{noticed.pk}/objections/"
    assert api(None).post(url, {"text": "价格明显偏低"}, format="json").status_code == 401
    first = api(cast.inst_member).post(url, {"text": "价格明显偏低"}, format="json")
    assert first.status_code == 201
    rule = f"/api/v1/objections/{first.json()['id']}/rule/"
    assert api(cast.uni_member).post(rule, {"upheld": False}, format="json").status_code == 403
    Deal.objects.filter(pk=noticed.pk).update(notice_ends_at=timezone.now() - timedelta(seconds=1))
    blocked = _advance(api, cast.ent_member, noticed, "contract_signed")
    assert blocked.status_code == 409 and blocked.json()["error"]["code"] == "objection_open"
    assert api(cast.gov_member).post(url, {"text": "late"}, format="json").status_code == 409  # notice over
    dismissed = api(cast.platform_admin).post(rule, {"upheld": False, "ruling": "定价合理"}, format="json")
    assert dismissed.status_code == 200 and dismissed.json()["status"] == "dismissed"
    assert api(cast.platform_admin).post(rule, {"upheld": True}, format="json").status_code == 409
    assert _advance(api, cast.ent_member, noticed, "contract_signed").status_code == 200


def test_an_upheld_objection_cancels_the_deal(cast, api, noticed):
    objection = deals.objection_lodge(deal=noticed, user=cast.gov_member, text="未履行集体决策程序")
    deals.objection_rule(objection=objection, reviewer=cast.platform_admin, upheld=True, ruling="程序不合规")
    noticed.refresh_from_db()
    assert noticed.stage == DealStage.CANCELLED and noticed.cancel_reason == "程序不合规"
    assert events_of("market.deal.cancelled.v1")[0]["actor_user_id"] == cast.platform_admin.pk
    assert DealAudit.objects.filter(deal=noticed, acting_as="reviewer", to_stage="cancelled").exists()
