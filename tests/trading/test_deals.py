"""Deal steps: who may take each (the model's `DEAL_STEPS`: parties, their broker for procedural steps, the
registrar for the registration), in which order, with an audit row and an event per change; signing by both
parties, completion with every milestone done or waived, contract registration submitted by a party and
decided by a registrar; the public notice period of negotiated public-institution achievements."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from market.accounts.models import OrganizationType, OrgRole
from market.trading.models import Deal, DealAudit, DealStage
from market.trading.services import deals
from tests import factories
from tests.trading.helpers import deal_between, events_of, noticed_deal

pytestmark = pytest.mark.django_db

SUBMISSION = {
    "contract_type": "transfer",
    "contract_value": "300000",
    "technology_transaction_value": "250000",
}


@pytest.fixture
def deal(cast) -> Deal:
    """A deal from an accepted offer on a patent without notice: university sells, enterprise buys."""
    return deal_between(cast.uni_member, cast.ent_member)


def _post(api, user, deal, step, body=None):
    return api(user).post(f"/api/v1/deals/{deal.pk}/{step}/", body or {}, format="json")


def _advance(api, user, deal, to):
    return _post(api, user, deal, "advance", {"to": to})


def _sign_both(api, cast, deal):
    for party in (cast.ent_member, cast.uni_member):
        assert _post(api, party, deal, "sign").status_code == 200


def _mandate(api, party, deal, broker):
    response = _post(api, party, deal, "broker", {"broker_id": broker.pk})
    assert response.status_code == 200, response.content


def test_only_parties_and_their_broker_see_a_deal(cast, api, deal):
    for outsider in (cast.ent2_member, cast.inst_member, cast.broker):
        assert api(outsider).get(f"/api/v1/deals/{deal.pk}/").status_code == 404
        assert deal.pk not in [row["id"] for row in api(outsider).get("/api/v1/deals/").json()["results"]]
        assert _post(api, outsider, deal, "sign").status_code == 404
    assert api(None).get("/api/v1/deals/").status_code == 401
    for party in (cast.uni_member, cast.uni_admin, cast.ent_member):
        assert api(party).get(f"/api/v1/deals/{deal.pk}/").status_code == 200
    assigned = _post(
        api, cast.ent_member, deal, "broker", {"broker_id": cast.broker.pk, "commission": "9000"}
    )
    assert assigned.status_code == 200 and assigned.json()["broker_mandate"] == "buyer"
    assert api(cast.broker).get(f"/api/v1/deals/{deal.pk}/").status_code == 200
    assert events_of("market.deal.updated.v1")[-1]["broker_user_id"] == cast.broker.pk


def test_a_broker_must_belong_to_an_approved_intermediary(cast, api, deal):
    response = _post(api, cast.ent_member, deal, "broker", {"broker_id": cast.ent2_member.pk})
    assert response.status_code == 400 and "broker_id" in response.json()["error"]["fields"]
    assert _post(api, cast.ent_member, deal, "broker", {"broker_id": 10**9}).status_code == 400


def test_the_happy_path_with_each_step_taken_by_the_right_party(cast, api, deal):
    """Each step refused to who may not take it (403), refused out of order (409), then taken."""
    _mandate(api, cast.ent_member, deal, cast.broker)  # the buyer's broker
    steps = [
        ("sign", {}, (cast.broker, cast.registrar, cast.gov_member), cast.ent_member, "negotiating"),
        ("sign", {}, (), cast.uni_member, "contract_signed"),
        ("registration", SUBMISSION, (cast.gov_member, cast.registrar), cast.uni_member, "contract_signed"),
        (
            "registration/approve",
            {"registration_number": "3301062026000123"},
            (cast.uni_member, cast.ent_member, cast.broker, cast.gov_member),
            cast.registrar,
            "contract_registered",
        ),
        ("advance", {"to": "paid"}, (cast.ent_member, cast.broker, cast.registrar), cast.uni_member, "paid"),
        ("advance", {"to": "completed"}, (cast.uni_member, cast.registrar), cast.broker, "completed"),
    ]
    early = _advance(api, cast.uni_member, deal, "paid")
    assert early.status_code == 409 and early.json()["error"]["code"] == "invalid_transition"
    for step, body, forbidden, taker, stage in steps:
        for user in forbidden:
            assert _post(api, user, deal, step, body).status_code == 403, (step, user.username)
        response = _post(api, taker, deal, step, body)
        assert response.status_code == 200, (step, response.content)
        assert response.json()["stage"] == stage
    deal.refresh_from_db()
    assert deal.stage == DealStage.COMPLETED
    assert deal.contract_value == Decimal("300000") and deal.technology_transaction_value == Decimal("250000")
    assert deal.registration_number == "3301062026000123" and deal.registered_on == timezone.localdate()
    audit = list(
        DealAudit.objects.filter(deal=deal).values_list("action", "from_stage", "to_stage", "acting_as")
    )
    assert audit == [
        ("opened", "", "negotiating", "seller"),
        ("broker_assigned", "negotiating", "negotiating", "buyer"),
        ("sign", "negotiating", "negotiating", "buyer"),
        ("sign", "negotiating", "contract_signed", "seller"),
        ("submit_registration", "contract_signed", "contract_signed", "seller"),
        ("approve_registration", "contract_signed", "contract_registered", "registrar"),
        ("advance", "contract_registered", "paid", "seller"),
        ("advance", "paid", "completed", "broker:buyer"),
    ]
    assert [e["stage"] for e in events_of("market.deal.advanced.v1")] == ["contract_signed", "paid"]
    [confirmed] = events_of("market.deal.signing_confirmed.v1")
    assert (confirmed["side"], confirmed["awaiting_side"]) == ("buyer", "seller")
    [registered] = events_of("market.deal.contract_registered.v1")
    assert registered["actor_user_id"] == cast.registrar.pk
    assert registered["technology_transaction_value"] == "250000.00"
    assert events_of("market.deal.completed.v1")[0]["actor_user_id"] == cast.broker.pk
    # finished: nothing moves any more
    cancelled = _post(api, cast.ent_member, deal, "cancel", {"reason": "x"})
    assert cancelled.status_code == 409 and cancelled.json()["error"]["code"] == "deal_finished"


def test_each_party_confirms_the_signing_itself(cast, api, deal):
    """Item 5: one side's word (least of all its broker's) does not make a contract signed."""
    _mandate(api, cast.ent_member, deal, cast.broker)
    refused = _post(api, cast.broker, deal, "sign")
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "permission_denied"
    first = _post(api, cast.ent_member, deal, "sign")
    assert first.status_code == 200
    assert first.json()["stage"] == "negotiating" and first.json()["buyer_signed_at"] is not None
    assert first.json()["seller_signed_at"] is None
    again = _post(api, cast.ent_admin, deal, "sign")  # the same side, another member
    assert again.status_code == 409 and again.json()["error"]["code"] == "already_confirmed"
    blocked = _post(api, cast.uni_member, deal, "registration", SUBMISSION)
    assert blocked.status_code == 409 and blocked.json()["error"]["code"] == "invalid_transition"
    second = _post(api, cast.uni_admin, deal, "sign")
    assert second.status_code == 200 and second.json()["stage"] == "contract_signed"
    assert [e["stage"] for e in events_of("market.deal.advanced.v1")] == ["contract_signed"]
    assert [e["side"] for e in events_of("market.deal.signing_confirmed.v1")] == ["buyer"]


def _to_paid(api, cast, deal):
    _sign_both(api, cast, deal)
    assert _post(api, cast.uni_member, deal, "registration", SUBMISSION).status_code == 200
    approved = _post(
        api, cast.registrar, deal, "registration/approve", {"registration_number": f"R{deal.pk}"}
    )
    assert approved.status_code == 200
    assert _advance(api, cast.uni_member, deal, "paid").status_code == 200


def test_a_deal_completes_only_when_every_milestone_is_done_or_waived(cast, api, deal):
    """Item 5: an open milestone blocks completion; a party (not its broker) waives one with a reason."""
    _mandate(api, cast.uni_member, deal, cast.broker)
    ids = [
        _post(api, cast.ent_member, deal, "milestones", {"title": title}).json()["id"]
        for title in ("首付款", "技术培训")
    ]
    assert _post(api, cast.uni_member, deal, f"milestones/{ids[0]}/done").status_code == 200
    _to_paid(api, cast, deal)
    blocked = _advance(api, cast.ent_member, deal, "completed")
    assert blocked.status_code == 409 and blocked.json()["error"]["code"] == "milestones_open"
    assert (
        "技术培训" in blocked.json()["error"]["message"]
        and "首付款" not in blocked.json()["error"]["message"]
    )

    waive = f"milestones/{ids[1]}/waive"
    assert _post(api, cast.broker, deal, waive, {"reason": "不需要"}).status_code == 403
    unexplained = _post(api, cast.ent_member, deal, waive, {"reason": "  "})
    assert unexplained.status_code == 400 and "reason" in unexplained.json()["error"]["fields"]
    waived = _post(api, cast.ent_member, deal, waive, {"reason": "企业已自行完成培训"})
    assert waived.status_code == 200
    assert waived.json()["waived_at"] is not None and waived.json()["waive_reason"] == "企业已自行完成培训"
    assert (
        _post(api, cast.ent_member, deal, waive, {"reason": "x"}).json()["error"]["code"]
        == "milestone_waived"
    )
    done = _post(api, cast.uni_member, deal, f"milestones/{ids[1]}/done")
    assert done.status_code == 409 and done.json()["error"]["code"] == "milestone_waived"
    [event] = events_of("market.deal.milestone_waived.v1")
    assert (event["milestone_id"], event["reason"]) == (ids[1], "企业已自行完成培训")
    assert event["actor_user_id"] == cast.ent_member.pk

    assert _advance(api, cast.ent_member, deal, "completed").status_code == 200
    assert DealAudit.objects.filter(deal=deal, action="waive_milestone", acting_as="buyer").exists()


def test_a_broker_takes_the_mandating_partys_procedural_steps_only(cast, api, deal):
    _mandate(api, cast.uni_member, deal, cast.broker)
    assert _post(api, cast.broker, deal, "sign").status_code == 403  # a party signs for itself
    assert (
        _post(api, cast.broker, deal, "cancel", {"reason": "x"}).status_code == 403
    )  # and walks away itself
    _sign_both(api, cast, deal)
    assert _post(api, cast.broker, deal, "registration", SUBMISSION).status_code == 200
    assert (
        _post(api, cast.registrar, deal, "registration/approve", {"registration_number": "N1"}).status_code
        == 200
    )
    assert _advance(api, cast.broker, deal, "paid").status_code == 200
    assert _advance(api, cast.broker, deal, "completed").status_code == 403  # the buyer's step
    acting = list(DealAudit.objects.filter(deal=deal, actor=cast.broker).values_list("acting_as", flat=True))
    assert acting == ["broker:seller"] * 2


def test_registration_input_is_checked(cast, api, deal):
    early = _post(api, cast.uni_member, deal, "registration", SUBMISSION)
    assert early.status_code == 409 and early.json()["error"]["code"] == "invalid_transition"
    _sign_both(api, cast, deal)
    over = _post(
        api,
        cast.uni_member,
        deal,
        "registration",
        {**SUBMISSION, "technology_transaction_value": "300000.01"},
    )
    assert over.status_code == 400 and "technology_transaction_value" in over.json()["error"]["fields"]
    wrong_type = _post(api, cast.uni_member, deal, "registration", {**SUBMISSION, "contract_type": "sale"})
    assert wrong_type.status_code == 400 and "contract_type" in wrong_type.json()["error"]["fields"]
    assert _advance(api, cast.uni_member, deal, "contract_registered").status_code == 400
    assert _advance(api, cast.uni_member, deal, "contract_signed").status_code == 400
    not_yet = _post(api, cast.registrar, deal, "registration/approve", {"registration_number": "N1"})
    assert not_yet.status_code == 409 and not_yet.json()["error"]["code"] == "registration_not_submitted"
    assert _post(api, cast.uni_member, deal, "registration", SUBMISSION).status_code == 200
    blank = _post(api, cast.registrar, deal, "registration/approve", {"registration_number": " "})
    assert blank.status_code == 400 and "registration_number" in blank.json()["error"]["fields"]


def test_a_registration_is_submitted_returned_corrected_and_approved_by_the_registrar(cast, api, deal):
    """Item 6: a party submits, a registrar over the seller's region returns it with a reason or approves it
    with the number; the registrar's queue holds what awaits a decision."""
    buyers_bureau = factories.organization(OrganizationType.GOVERNMENT, county_code="330127")
    registrar_elsewhere = factories.user(buyers_bureau, role=OrgRole.REGISTRAR)
    _sign_both(api, cast, deal)
    submitted = _post(api, cast.ent_member, deal, "registration", SUBMISSION)
    assert submitted.status_code == 200 and submitted.json()["registration_status"] == "submitted"
    twice = _post(api, cast.uni_member, deal, "registration", SUBMISSION)
    assert twice.status_code == 409 and twice.json()["error"]["code"] == "registration_pending"

    def queue(user, **params):
        response = api(user).get("/api/v1/registrations/", params)
        return response.status_code, [row["id"] for row in response.json().get("results", [])]

    assert queue(cast.registrar) == (200, [deal.pk])
    assert queue(cast.platform_admin) == (200, [deal.pk])
    assert queue(registrar_elsewhere) == (200, [])  # it sees the deal (the buyer is local), not the filing
    for user in (cast.gov_member, cast.uni_member, cast.ent_member):
        assert queue(user)[0] == 403
    assert queue(None)[0] == 401
    # registered where the seller is: the buyer's bureau reads the deal but does not decide
    assert api(registrar_elsewhere).get(f"/api/v1/deals/{deal.pk}/").status_code == 200
    assert _post(api, registrar_elsewhere, deal, "registration/return", {"reason": "x"}).status_code == 403
    assert _post(api, cast.gov_member, deal, "registration/return", {"reason": "x"}).status_code == 403

    unexplained = _post(api, cast.registrar, deal, "registration/return", {"reason": ""})
    assert unexplained.status_code == 400 and "reason" in unexplained.json()["error"]["fields"]
    returned = _post(api, cast.registrar, deal, "registration/return", {"reason": "技术交易额应扣除设备费"})
    assert returned.status_code == 200
    assert returned.json()["registration_status"] == "returned"
    assert returned.json()["registration_return_reason"] == "技术交易额应扣除设备费"
    assert returned.json()["stage"] == "contract_signed"
    assert queue(cast.registrar) == (200, []) and queue(cast.registrar, status="returned") == (200, [deal.pk])
    approve = {"registration_number": "3301062026000456"}
    assert _post(api, cast.registrar, deal, "registration/approve", approve).status_code == 409

    corrected = {**SUBMISSION, "technology_transaction_value": "200000"}
    assert _post(api, cast.uni_member, deal, "registration", corrected).status_code == 200
    approved = _post(api, cast.registrar, deal, "registration/approve", approve)
    assert approved.status_code == 200, approved.content
    body = approved.json()
    assert (body["stage"], body["registration_status"]) == ("contract_registered", "registered")
    assert body["registration_number"] == approve["registration_number"]
    assert body["registered_on"] == timezone.localdate().isoformat()
    assert body["registered_by"] == cast.registrar.pk and body["technology_transaction_value"] == "200000.00"
    assert queue(cast.registrar) == (200, []) and queue(cast.registrar, status="registered") == (
        200,
        [deal.pk],
    )

    submissions = events_of("market.deal.registration_submitted.v1")
    assert [(e["resubmission"], e["technology_transaction_value"]) for e in submissions] == [
        (False, "250000.00"),
        (True, "200000.00"),
    ]
    assert [e["reason"] for e in events_of("market.deal.registration_returned.v1")] == [
        "技术交易额应扣除设备费"
    ]
    [registered] = events_of("market.deal.contract_registered.v1")
    assert registered["registration_number"] == approve["registration_number"]
    assert registered["actor_user_id"] == cast.registrar.pk

    # a registration number belongs to one contract
    other = deal_between(cast.inst_member, cast.ent2_member)
    _post(api, cast.ent2_member, other, "sign")
    _post(api, cast.inst_member, other, "sign")
    assert _post(api, cast.inst_member, other, "registration", SUBMISSION).status_code == 200
    taken = _post(api, cast.platform_admin, other, "registration/approve", approve)
    assert taken.status_code == 409 and "registration_number" in taken.json()["error"]["fields"]


def test_the_registration_queue_serves_the_oldest_submission_first(cast, api):
    """First come, first served: by submission, not by when the deals opened (neither way round)."""
    a, b, c = (deal_between(cast.uni_member, cast.ent_member) for _ in range(3))
    for deal in (b, c, a):
        _sign_both(api, cast, deal)
        assert _post(api, cast.uni_member, deal, "registration", SUBMISSION).status_code == 200
    queue = api(cast.registrar).get("/api/v1/registrations/").json()["results"]
    assert [row["id"] for row in queue] == [b.pk, c.pk, a.pk]


def test_cancel_before_registration_only_and_with_a_reason(cast, api, deal):
    assert _post(api, cast.ent_member, deal, "cancel", {"reason": ""}).status_code == 400
    assert _post(api, cast.ent2_member, deal, "cancel", {"reason": "x"}).status_code == 404
    response = _post(api, cast.ent_member, deal, "cancel", {"reason": "预算调整"})
    assert response.status_code == 200 and response.json()["stage"] == "cancelled"
    [cancelled] = events_of("market.deal.cancelled.v1")
    assert cancelled["reason"] == "预算调整"
    assert _post(api, cast.uni_member, deal, "sign").status_code == 409


def test_milestones_and_documents_by_parties(cast, api, deal):
    created = _post(api, cast.ent_member, deal, "milestones", {"title": "首付款", "amount": "100000"})
    assert created.status_code == 201
    done = f"milestones/{created.json()['id']}/done"
    assert _post(api, cast.ent2_member, deal, done).status_code == 404
    assert _post(api, cast.uni_member, deal, done).status_code == 200
    assert _post(api, cast.uni_member, deal, done).status_code == 409
    doc = _post(
        api, cast.uni_member, deal, "documents", {"title": "合同草案", "url": "https://example.org/c.pdf"}
    )
    assert doc.status_code == 201
    detail = api(cast.ent_member).get(f"/api/v1/deals/{deal.pk}/").json()
    assert len(detail["milestones"]) == 1 and len(detail["documents"]) == 1
    changes = [e["change"] for e in events_of("market.deal.updated.v1")]
    assert changes == ["milestone_added", "milestone_done", "document_added"]


@pytest.fixture
def noticed(cast) -> Deal:
    """An accepted negotiated offer on a university's achievement: under public notice."""
    return noticed_deal(cast.uni_member, cast.ent_member, mode="licence_exclusive")


def _notice_over(deal):
    Deal.objects.filter(pk=deal.pk).update(notice_ends_at=timezone.now() - timedelta(seconds=1))


def test_public_notice_blocks_signing_until_it_ends(cast, api, noticed, settings):
    assert noticed.notice_ends_at - noticed.notice_starts_at == timedelta(days=15)
    [opened] = events_of("market.deal.opened.v1")
    assert opened["notice_ends_at"] == noticed.notice_ends_at.isoformat()
    blocked = _post(api, cast.ent_member, noticed, "sign")
    assert blocked.status_code == 409 and blocked.json()["error"]["code"] == "notice_period"
    notices = api(None).get("/api/v1/notices/").json()["results"]
    assert [row["id"] for row in notices] == [noticed.pk] and notices[0]["amount"] == "480000.00"
    _notice_over(noticed)
    _sign_both(api, cast, noticed)


def test_objections_during_notice_and_the_ruling(cast, api, noticed):
    url = f"/api/v1/notices/{noticed.pk}/objections/"
    assert api(None).post(url, {"text": "价格明显偏低"}, format="json").status_code == 401
    first = api(cast.inst_member).post(url, {"text": "价格明显偏低"}, format="json")
    assert first.status_code == 201
    rule = f"/api/v1/objections/{first.json()['id']}/rule/"
    assert api(cast.uni_member).post(rule, {"upheld": False}, format="json").status_code == 403
    assert api(cast.gov_member).post(rule, {"upheld": False}, format="json").status_code == 403
    _notice_over(noticed)
    blocked = _post(api, cast.ent_member, noticed, "sign")
    assert blocked.status_code == 409 and blocked.json()["error"]["code"] == "objection_open"
    assert api(cast.gov_member).post(url, {"text": "late"}, format="json").status_code == 409  # notice over
    dismissed = api(cast.platform_admin).post(rule, {"upheld": False, "ruling": "定价合理"}, format="json")
    assert dismissed.status_code == 200 and dismissed.json()["status"] == "dismissed"
    assert api(cast.platform_admin).post(rule, {"upheld": True}, format="json").status_code == 409
    _sign_both(api, cast, noticed)


def test_an_upheld_objection_cancels_the_deal(cast, api, noticed):
    objection = deals.objection_lodge(deal=noticed, user=cast.gov_member, text="未履行集体决策程序")
    deals.objection_rule(objection=objection, reviewer=cast.platform_admin, upheld=True, ruling="程序不合规")
    noticed.refresh_from_db()
    assert noticed.stage == DealStage.CANCELLED and noticed.cancel_reason == "程序不合规"
    assert events_of("market.deal.cancelled.v1")[0]["actor_user_id"] == cast.platform_admin.pk
    assert DealAudit.objects.filter(deal=noticed, acting_as="reviewer", to_stage="cancelled").exists()
