"""The deal's state machine as a whole: a hypothesis property test that has random people take random steps
of one deal through the API. The model below says, apart from the code, what each request must answer and
what the deal must then be: each party confirms the signing itself, a registrar over the seller's region
decides the registration a party submitted, the deal completes only with every milestone done or waived, and
nothing moves after it finished."""

import itertools
from dataclasses import dataclass, field

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from market.accounts.models import OrganizationType, OrgRole
from market.events.models import OutboxEvent
from market.trading.models import Deal, DealAudit
from market.trading.services import deals
from tests import factories
from tests.trading.helpers import deal_between

pytestmark = pytest.mark.django_db

#: who takes part, by the cast member (or extra user) who plays them
PEOPLE = (
    "seller",
    "seller_admin",
    "buyer",
    "broker",  # mandated by the buyer
    "registrar",  # of the seller's county
    "buyers_registrar",  # of the buyer's county: reads the deal, does not decide its registration
    "viewer",  # a plain member of the seller's county bureau
    "administrator",
    "outsider",
)
SIDE = {"seller": "seller", "seller_admin": "seller", "buyer": "buyer"}
#: step -> (the sides that take it, whether their broker may, whether the registration office does)
MAY = {
    "sign": ({"seller", "buyer"}, False, False),
    "registration": ({"seller", "buyer"}, True, False),
    "approve": (set(), False, True),
    "return": (set(), False, True),
    "paid": ({"seller"}, True, False),
    "completed": ({"buyer"}, True, False),
    "cancel": ({"seller", "buyer"}, False, False),
    "milestone": ({"seller", "buyer"}, True, False),
    "done": ({"seller", "buyer"}, True, False),
    "waive": ({"seller", "buyer"}, False, False),
}
ACTIVE = ("negotiating", "contract_signed", "contract_registered", "paid")
NUMBERS = itertools.count(1)


@dataclass
class Model:
    stage: str = "negotiating"
    signed: set[str] = field(default_factory=set)
    registration: str = "not_submitted"
    milestones: list[str] = field(default_factory=list)  # open / done / waived, in creation order
    changes: int = 0  # successful requests: each one audit row, one event, one version

    def allowed(self, person: str, step: str) -> bool:
        sides, brokers, office = MAY[step]
        return (
            SIDE.get(person) in sides
            or (brokers and person == "broker" and "buyer" in sides)
            or (office and person in ("registrar", "administrator"))
        )

    def outcome(self, person: str, step: str, milestone: int | None = None) -> int:
        """The status the request must get; applies the change to the model when it succeeds."""
        if person == "outsider":
            return 404
        if not self.allowed(person, step):
            return 403
        if self.stage not in ACTIVE:
            return 409
        status = self._take(SIDE.get(person, ""), step, milestone)
        if status < 300:
            self.changes += 1
        return status

    def _take(self, side: str, step: str, milestone: int | None) -> int:
        match step:
            case "sign" if self.stage == "negotiating" and side not in self.signed:
                self.signed.add(side)
                if self.signed == {"seller", "buyer"}:
                    self.stage = "contract_signed"
                return 200
            case "registration" if self.stage == "contract_signed" and self.registration != "submitted":
                self.registration = "submitted"
                return 200
            case "approve" | "return" if self.stage == "contract_signed" and self.registration == "submitted":
                self.registration = "registered" if step == "approve" else "returned"
                if step == "approve":
                    self.stage = "contract_registered"
                return 200
            case "paid" if self.stage == "contract_registered":
                self.stage = "paid"
                return 200
            case "completed" if self.stage == "paid" and "open" not in self.milestones:
                self.stage = "completed"
                return 200
            case "cancel" if self.stage in ("negotiating", "contract_signed"):
                self.stage = "cancelled"
                return 200
            case "milestone":
                self.milestones.append("open")
                return 201
            case "done" | "waive" if milestone is not None and self.milestones[milestone] == "open":
                self.milestones[milestone] = "done" if step == "done" else "waived"
                return 200
        return 409


REQUESTS = {
    "sign": ("sign", {}),
    "registration": (
        "registration",
        {"contract_type": "transfer", "contract_value": "300000", "technology_transaction_value": "300000"},
    ),
    "approve": ("registration/approve", {}),
    "return": ("registration/return", {"reason": "请补充附件"}),
    "paid": ("advance", {"to": "paid"}),
    "completed": ("advance", {"to": "completed"}),
    "cancel": ("cancel", {"reason": "协商解除"}),
    "milestone": ("milestones", {"title": "里程碑"}),
    "done": ("milestones/{id}/done", {}),
    "waive": ("milestones/{id}/waive", {"reason": "双方同意免除"}),
}
#: the step that takes a deal further from each stage (milestones are settled on the way)
FORWARD = {
    "negotiating": "sign",
    "contract_signed": "registration",
    "contract_registered": "paid",
    "paid": "completed",
}


class DealSteps(RuleBasedStateMachine):
    """Three kinds of moves: anyone tries any step (mostly refused), someone entitled tries a step (refused
    only by the deal's state), and the deal is taken forward by someone entitled, so the runs reach the
    registration, payment and completion."""

    def __init__(self, cast, api, people) -> None:
        super().__init__()
        self.api, self.people = api, people
        self.deal = deal_between(cast.uni_member, cast.ent_member)
        deals.deal_broker_assign(deal=self.deal, user=cast.ent_member, broker_id=cast.broker.pk)
        self.model = Model(changes=2)  # opened, broker mandated
        self.milestone_ids: list[int] = []

    def _do(self, person: str, step: str, milestone: int | None = None) -> None:
        path, body = REQUESTS[step]
        if step in ("done", "waive"):
            if milestone is None:
                return
            path = path.format(id=self.milestone_ids[milestone])
        if step == "approve":
            body = {"registration_number": f"SM-{next(NUMBERS)}"}
        response = self.api(self.people[person]).post(
            f"/api/v1/deals/{self.deal.pk}/{path}/", body, format="json"
        )
        expected = self.model.outcome(person, step, milestone)
        assert response.status_code == expected, (person, step, response.content)
        if step == "milestone" and expected == 201:
            self.milestone_ids.append(response.json()["id"])

    def _milestone(self, data) -> int | None:
        if not self.milestone_ids:
            return None
        return data.draw(st.integers(0, len(self.milestone_ids) - 1))

    @rule(person=st.sampled_from(PEOPLE), step=st.sampled_from(sorted(REQUESTS)), data=st.data())
    def anyone_tries(self, person: str, step: str, data) -> None:
        self._do(person, step, self._milestone(data))

    @rule(step=st.sampled_from(sorted(REQUESTS)), data=st.data())
    def someone_entitled_tries(self, step: str, data) -> None:
        entitled = [person for person in PEOPLE if self.model.allowed(person, step)]
        self._do(data.draw(st.sampled_from(entitled)), step, self._milestone(data))

    @precondition(lambda self: self.model.stage in FORWARD)
    @rule(data=st.data())
    def forward(self, data) -> None:
        model = self.model
        step = FORWARD[model.stage]
        if step == "registration" and model.registration == "submitted":
            step = data.draw(st.sampled_from(["approve", "return"]))
        elif step == "completed" and "open" in model.milestones:
            step = data.draw(st.sampled_from(["done", "waive"]))
            milestone = model.milestones.index("open")
            entitled = [person for person in PEOPLE if model.allowed(person, step)]
            self._do(data.draw(st.sampled_from(entitled)), step, milestone)
            return
        entitled = [
            person
            for person in PEOPLE
            if model.allowed(person, step) and not (step == "sign" and SIDE.get(person) in model.signed)
        ]
        self._do(data.draw(st.sampled_from(entitled)), step)

    @invariant()
    def the_deal_is_what_the_model_says(self) -> None:
        deal = Deal.objects.get(pk=self.deal.pk)
        model = self.model
        assert (deal.stage, deal.registration_status) == (model.stage, model.registration)
        signed = {side for side in ("seller", "buyer") if deal.signed_at(side) is not None}
        assert signed == model.signed
        assert (deal.registration_number != "") == (model.registration == "registered")
        states = list(deal.milestones.order_by("id").values_list("done_at", "waived_at"))
        assert ["open" if (d, w) == (None, None) else "done" if d else "waived" for d, w in states] == (
            model.milestones
        )

    @invariant()
    def each_change_is_audited_evented_and_versioned_once(self) -> None:
        changes = self.model.changes
        assert DealAudit.objects.filter(deal=self.deal).count() == changes
        assert OutboxEvent.objects.filter(key=f"deal:{self.deal.pk}").count() == changes
        assert Deal.objects.get(pk=self.deal.pk).version == changes


def test_every_order_of_steps_by_anyone_keeps_the_deal_rules(cast, api, unthrottled):
    buyers_bureau = factories.organization(
        OrganizationType.GOVERNMENT, county_code=cast.enterprise.county_code
    )
    people = {
        "seller": cast.uni_member,
        "seller_admin": cast.uni_admin,
        "buyer": cast.ent_member,
        "broker": cast.broker,
        "registrar": cast.registrar,
        "buyers_registrar": factories.user(buyers_bureau, role=OrgRole.REGISTRAR),
        "viewer": cast.gov_member,
        "administrator": cast.platform_admin,
        "outsider": cast.inst_member,
    }
    run_state_machine_as_test(
        lambda: DealSteps(cast, api, people),
        settings=settings(
            max_examples=30,
            stateful_step_count=20,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
