"""The deal room in a real browser: a deal opened by an accepted offer taken by its parties, their broker and
the registrar through contract registration and on to completion; what each role is offered and may see; a
refusal shown beside its field. Every page checked for console errors and accessibility, and photographed."""

from decimal import Decimal

import pytest
from django.test import Client

from market.trading.models import Deal, DealStage, RegistrationStatus
from market.trading.selectors import deal_steps_open
from market.trading.services import deals
from tests.trading.helpers import deal_between, noticed_deal

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def deal(cast) -> Deal:
    """The Lin'an enterprise's accepted offer for a patent of the Xihu university: a deal, negotiating."""
    return deal_between(cast.uni_member, cast.ent_member, amount="300000")


def _post(page, form_action: str) -> None:
    """Submit the form posting to `form_action` (the end of its URL) and wait for the page it leads to."""
    with page.expect_navigation():
        page.locator(f"form[action$='{form_action}'] button[type=submit]").click()


def test_a_deal_goes_from_the_offer_to_a_registered_contract_and_completion(visit, cast, deal) -> None:
    room = f"/deals/{deal.pk}/"

    # the buyer mandates the broker, with a commission
    buyer = visit(cast.ent_member)
    page = buyer.open("/deals/")
    assert page.get_by_role("link", name=deal.title).is_visible()
    buyer.check("deal-list")
    page.get_by_role("link", name=deal.title).click()
    page.wait_for_url(f"**{room}")
    page.locator("#id_broker-broker_id").select_option(str(cast.broker.pk))
    page.locator("#id_broker-commission").fill("15000")
    _post(page, "/broker/")
    assert page.locator("#broker-name").inner_text() == cast.broker.username
    assert page.locator("#broker-commission").inner_text().replace(",", "") == "15000.00"

    # the broker adds a milestone and a document, but is not offered the parties' own steps
    broker = visit(cast.broker)
    page = broker.open(room)
    assert page.locator("form[action$='/sign/']").count() == 0
    assert page.locator("form[action$='/broker/']").count() == 0
    page.locator("#id_milestone-title").fill("交付技术资料")
    page.locator("#id_milestone-amount").fill("50000")
    _post(page, "/milestones/")
    page.locator("#id_document-title").fill("技术转让合同（草案）")
    page.locator("#id_document-url").fill("https://files.example.org/contract-draft.pdf")
    _post(page, "/documents/")
    assert page.locator("tr.milestone").inner_text().startswith("交付技术资料")
    assert page.get_by_role("link", name="技术转让合同（草案）").is_visible()

    # both parties confirm the signing
    page = buyer.open(room)
    _post(page, "/sign/")
    assert page.locator("form[action$='/sign/']").count() == 0  # the buyer's side has confirmed
    seller = visit(cast.uni_member)
    page = seller.open(room)
    _post(page, "/sign/")
    deal.refresh_from_db()
    assert deal.stage == DealStage.CONTRACT_SIGNED

    # the broker submits the contract; a technology value above the contract value is refused beside it
    page = broker.open(room)
    page.locator("#id_registration-contract_type").select_option("transfer")
    page.locator("#id_registration-contract_value").fill("300000")
    page.locator("#id_registration-technology_transaction_value").fill("400000")
    _post(page, "/registration/")
    field = page.locator("#id_registration-technology_transaction_value")
    assert field.get_attribute("aria-invalid") == "true"
    described = field.get_attribute("aria-describedby") or ""
    assert any(page.locator(f"#{ident}").count() for ident in described.split())
    page.locator("#id_registration-technology_transaction_value").fill("250000")
    _post(page, "/registration/")
    deal.refresh_from_db()
    assert deal.registration_status == RegistrationStatus.SUBMITTED
    seller.open(room)
    seller.check("deal-room")  # the broker's tab logged the refused submission's 400

    # the registrar over the seller's county approves it from the queue
    registrar = visit(cast.registrar)
    page = registrar.open("/deals/registrations/")
    assert page.get_by_role("link", name=deal.title).is_visible()
    registrar.check("registration-queue")
    page.locator(f"#id_approve-{deal.pk}-registration_number").fill("3301062025000123")
    _post(page, f"/deals/{deal.pk}/registration/approve/")
    page.wait_for_url("**/deals/registrations/")
    assert page.get_by_role("link", name=deal.title).count() == 0  # no longer awaiting a decision

    # the deal shows as registered
    page = buyer.open(room)
    assert page.locator("#registration-number").inner_text() == "3301062025000123"
    assert page.locator("#deal-registration").inner_text() == str(RegistrationStatus.REGISTERED.label)
    assert page.locator(".stages li[aria-current=step]").inner_text().strip() == str(
        DealStage.CONTRACT_REGISTERED.label
    )

    # the seller confirms the money; the buyer completes once the milestone is done
    page = seller.open(room)
    _post(page, "/paid/")
    page = buyer.open(room)
    assert page.locator("form[action$='/complete/']").count() == 0  # a milestone is open
    _post(page, "/done/")
    _post(page, "/complete/")
    deal.refresh_from_db()
    assert deal.stage == DealStage.COMPLETED
    actions = page.locator("tr.history-entry").count()
    assert actions == deal.audit.count()
    buyer.check("deal-room-completed")


def test_who_sees_a_deal_and_what_they_are_offered(visit, cast, deal) -> None:
    room = f"/deals/{deal.pk}/"
    stranger = visit(cast.ent2_member)
    response = stranger.page.goto(stranger.base_url + room)
    assert response is not None and response.status == 404
    assert stranger.open("/deals/").get_by_role("link", name=deal.title).count() == 0

    # oversight reads the deal but takes no step
    overseer = visit(cast.gov_member)
    page = overseer.open(room)
    assert page.locator("h1").inner_text() == deal.title
    assert page.locator("main form[method=post]").count() == 0

    # a step posted by someone not allowed to take it is refused by the service, not only hidden
    client = Client()
    client.force_login(cast.gov_member)
    response = client.post(f"{room}sign/")
    assert response.status_code == 403  # as the API answers a step the user may not take
    deal.refresh_from_db()
    assert deal.seller_signed_at is None and deal.buyer_signed_at is None

    # the registration queue is the registrars' and administrators'
    client.force_login(cast.ent_member)
    assert client.get("/deals/registrations/").status_code == 403
    client.logout()
    assert client.get(room).status_code == 302  # to the sign-in page


def test_the_steps_offered_follow_the_deal_s_rules(cast) -> None:
    """`deal_steps_open`: each side signs once; the broker takes only the steps a mandate covers; the
    registrar decides only a submitted contract over their region; nobody completes with a milestone open."""
    deal = deal_between(cast.uni_member, cast.ent_member)
    assert deal_steps_open(deal=deal, user=cast.ent_member) >= {"sign", "mandate_broker", "cancel"}
    assert deal_steps_open(deal=deal, user=cast.registrar) == frozenset()
    deals.deal_broker_assign(deal=deal, user=cast.ent_member, broker_id=cast.broker.pk, commission=Decimal(1))
    deal.refresh_from_db()
    assert deal_steps_open(deal=deal, user=cast.broker) == {"add_milestone", "milestone_done", "add_document"}
    assert "mandate_broker" not in deal_steps_open(
        deal=deal, user=cast.uni_member
    )  # the buyer's broker is on
    deals.deal_sign(deal=deal, user=cast.ent_member)
    deal.refresh_from_db()
    assert "sign" not in deal_steps_open(deal=deal, user=cast.ent_member)
    deals.deal_sign(deal=deal, user=cast.uni_member)
    deal.refresh_from_db()
    assert "submit_registration" in deal_steps_open(deal=deal, user=cast.broker)
    assert "approve_registration" not in deal_steps_open(deal=deal, user=cast.registrar)
    deals.deal_registration_submit(
        deal=deal,
        user=cast.uni_member,
        contract_type="transfer",
        contract_value=deal.amount,
        technology_transaction_value=deal.amount,
    )
    deal.refresh_from_db()
    assert "submit_registration" not in deal_steps_open(deal=deal, user=cast.broker)
    assert deal_steps_open(deal=deal, user=cast.registrar) == {"approve_registration", "return_registration"}
    assert deal_steps_open(deal=deal, user=cast.gov_member) == frozenset()


def test_a_deal_under_public_notice_shows_its_objections(visit, cast) -> None:
    deal = noticed_deal(cast.uni_member, cast.ent_member)
    assert deal.notice_ends_at is not None
    deals.objection_lodge(deal=deal, user=cast.ent2_member, text="该成果的权属存在争议。")
    assert "sign" not in deal_steps_open(deal=deal, user=cast.ent_member)
    visitor = visit(cast.ent_member)
    page = visitor.open(f"/deals/{deal.pk}/")
    assert "该成果的权属存在争议。" in page.locator(".objections").inner_text()
    assert page.locator("form[action$='/sign/']").count() == 0
    visitor.check("deal-room-notice")


def test_the_administrator_rules_on_an_objection_in_the_deal_room(visit, cast) -> None:
    deal = noticed_deal(cast.uni_member, cast.ent_member)
    kept = deals.objection_lodge(deal=deal, user=cast.ent2_member, text="报价低于评估价。")
    upheld = deals.objection_lodge(deal=deal, user=cast.ent2_member, text="该成果的权属存在争议。")
    party = visit(cast.ent_member)
    assert party.open(f"/deals/{deal.pk}/").locator(".objections form").count() == 0  # parties do not rule

    admin = visit(cast.platform_admin)
    page = admin.open(f"/deals/{deal.pk}/")
    assert page.locator(".objections form").count() == 2
    admin.check("deal-room-objections")
    first = page.locator(f"form[action$='/objections/{kept.pk}/rule/']")
    first.get_by_label("驳回异议：交易继续").check()
    first.get_by_label("理由").fill("评估价仅供参考。")
    _post(page, f"/objections/{kept.pk}/rule/")
    deal.refresh_from_db()
    assert deal.stage == DealStage.NEGOTIATING
    second = page.locator(f"form[action$='/objections/{upheld.pk}/rule/']")
    second.get_by_label("支持异议：取消交易").check()
    _post(page, f"/objections/{upheld.pk}/rule/")
    deal.refresh_from_db()
    assert deal.stage == DealStage.CANCELLED
    assert "评估价仅供参考。" in page.locator(".objections").inner_text()
    assert page.locator(".objections form").count() == 0

    # the service refuses a ruling from anyone else, whatever the page shows
    client = Client()
    client.force_login(cast.gov_member)
    other = noticed_deal(cast.uni_member, cast.ent2_member)
    objection = deals.objection_lodge(deal=other, user=cast.ent_member, text="异议")
    response = client.post(
        f"/deals/{other.pk}/objections/{objection.pk}/rule/",
        {f"ruling-{objection.pk}-upheld": "true"},
    )
    assert response.status_code == 403
    objection.refresh_from_db()
    assert objection.status == "open"
