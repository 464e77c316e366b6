"""The stats arithmetic without services: what a deal counts on which day (`figures_of`) and what moving a
deal from one set of figures to another adds to the rollups (`RollupDelta`)."""

from dataclasses import replace
from datetime import date
from decimal import Decimal
from itertools import combinations

import pytest

from services.stats.rollups import DIMENSIONS, METRICS, DealFigures, RollupDelta, figures_of
from tests.factories import deal_profile

OPENED = date(2026, 3, 2)
REGISTERED = {
    "registration_status": "registered",
    "registered_on": "2026-04-10",
    "contract_type": "transfer",
    "contract_value": "300000.00",
    "technology_transaction_value": "250000.00",
}


def _figures(stage: str = "negotiating", amount: str = "300000", version: int = 1, **profile) -> DealFigures:
    return figures_of(
        deal_id=7, version=version, stage=stage, amount=Decimal(amount), profile=deal_profile(**profile)
    )


def _vector(**metrics) -> tuple:
    return tuple(metrics.get(name, 0) for name in METRICS)


def test_an_open_deal_counts_itself_and_its_amount_on_the_day_it_opened_only():
    figures = _figures(closed_on="2026-05-01", registered_on="2026-04-10")  # neither counts yet
    assert figures.entries() == [(OPENED, _vector(deals=1, amount=Decimal("300000")))]
    assert (figures.registered_on, figures.closed_on, figures.completed, figures.cancelled) == (
        None,
        None,
        False,
        False,
    )
    assert figures.dimensions == ("", "offer", "电学", "H", "university", "330106", "330110", "")


@pytest.mark.parametrize("status", ["not_submitted", "submitted", "returned"])
def test_a_contract_counts_only_once_registered(status):
    figures = _figures(stage="contract_signed", **{**REGISTERED, "registration_status": status})
    assert figures.registered_on is None and figures.contract_value == 0 and figures.technology_value == 0
    assert len(figures.entries()) == 1


def test_a_registered_contract_counts_on_its_registration_day_with_both_values():
    figures = _figures(stage="contract_registered", **REGISTERED)
    assert figures.entries()[1] == (
        date(2026, 4, 10),
        _vector(contracts=1, contract_value=Decimal("300000.00"), technology_value=Decimal("250000.00")),
    )
    assert figures.contract_type == "transfer"


def test_registered_without_a_day_is_no_contract():
    figures = _figures(stage="contract_registered", **{**REGISTERED, "registered_on": None})
    assert figures.registered_on is None and figures.contract_value == 0


def test_a_cancellation_after_registration_takes_the_contract_away_and_counts_on_the_closing_day():
    figures = _figures(stage="cancelled", closed_on="2026-06-03", **REGISTERED)
    assert (figures.registered_on, figures.contract_value, figures.technology_value) == (None, 0, 0)
    assert figures.entries() == [
        (OPENED, _vector(deals=1, amount=Decimal("300000"))),
        (date(2026, 6, 3), _vector(cancelled=1)),
    ]
    assert not figures.completed and not figures.invention


@pytest.mark.parametrize(
    ("stage", "patent_type", "invention"),
    [
        ("completed", "invention", 1),
        ("completed", "utility_model", 0),
        ("completed", "", 0),  # an achievement or a demand
        ("paid", "invention", 0),
        ("cancelled", "invention", 0),
    ],
)
def test_an_invention_counts_only_when_a_deal_on_an_invention_patent_completes(stage, patent_type, invention):
    figures = _figures(stage=stage, patent_type=patent_type, closed_on="2026-07-01", **REGISTERED)
    assert figures.invention == bool(invention)
    closing = [vector for day, vector in figures.entries() if day == date(2026, 7, 1)]
    if stage == "paid":
        assert closing == [] and figures.closed_on is None
    else:
        assert closing == [
            _vector(
                completed=int(stage == "completed"), inventions=invention, cancelled=int(stage == "cancelled")
            )
        ]


@pytest.mark.parametrize(
    ("listed_on", "lead"),
    [("2026-01-15", (date(2026, 3, 1), 46)), ("2026-03-02", (date(2026, 3, 1), 0)), (None, None)],
)
def test_lead_days_run_from_the_listing_s_publication_to_the_opening(listed_on, lead):
    assert _figures(listed_on=listed_on).lead() == lead


def test_a_listing_published_after_the_deal_opened_counts_as_no_wait():
    """A demand's deal (proposal) or a listing republished later: never a negative lead time."""
    assert _figures(listed_on="2026-03-20").lead_days == 0


def test_the_broker_dimension_is_the_broker_s_organization():
    assert _figures(broker_org_id=42).broker == "42"
    assert _figures().broker == ""


# ---- RollupDelta ----------------------------------------------------------------------------------------


def test_a_new_deal_counts_in_every_slice_once_per_grain():
    delta = RollupDelta()
    delta.change(None, _figures())
    slices = delta.slices()
    daily = {key: vector for key, vector in slices.items() if key[0] == "d"}
    monthly = {key: vector for key, vector in slices.items() if key[0] == "m"}
    assert len(daily) == 1 + len(DIMENSIONS)
    assert len(monthly) == 1 + len(DIMENSIONS) + len(list(combinations(DIMENSIONS, 2)))
    assert {key[1] for key in daily} == {OPENED} and {key[1] for key in monthly} == {date(2026, 3, 1)}
    assert all(key[4] == key[5] == "" for key in daily), "daily slices have at most one dimension"
    pairs = [key for key in monthly if key[4]]
    assert {(key[2], key[4]) for key in pairs} == set(combinations(DIMENSIONS, 2))
    assert ("m", date(2026, 3, 1), "seller_region", "330106", "buyer_region", "330110") in pairs
    assert all(vector == [1, Decimal("300000"), 0, 0, 0, 0, 0, 0] for vector in slices.values())
    assert dict(delta.lead) == {(date(2026, 3, 1), 46): 1}


def test_a_change_that_moves_no_figure_yields_no_slices():
    delta = RollupDelta()
    old = _figures(stage="contract_registered", **REGISTERED)
    delta.change(old, replace(old, version=9))
    assert delta.slices() == {}
    assert not any(delta.lead.values())


def test_an_amount_correction_moves_exactly_the_difference():
    delta = RollupDelta()
    delta.change(_figures(amount="300000"), _figures(amount="280000", version=2))
    slices = delta.slices()
    assert slices and all(vector == [0, Decimal("-20000"), 0, 0, 0, 0, 0, 0] for vector in slices.values())
    assert {key[1] for key in slices if key[0] == "d"} == {OPENED}


def test_a_cancellation_after_registration_moves_the_contract_out_and_the_cancellation_in():
    delta = RollupDelta()
    registered = _figures(stage="contract_registered", version=5, **REGISTERED)
    cancelled = _figures(stage="cancelled", version=6, closed_on="2026-06-03", **REGISTERED)
    delta.change(registered, cancelled)
    slices = delta.slices()
    everything = {key[1]: vector for key, vector in slices.items() if key[0] == "d" and key[2] == ""}
    assert everything == {
        date(2026, 4, 10): [0, 0, -1, Decimal("-300000.00"), Decimal("-250000.00"), 0, 0, 0],
        date(2026, 6, 3): [0, 0, 0, 0, 0, 0, 0, 1],
    }
    assert not any(day == OPENED for (_grain, day, *_rest) in slices), "the opening day is untouched"


def test_a_new_classification_moves_the_deal_between_values_and_leaves_the_totals():
    delta = RollupDelta()
    licence = {**REGISTERED, "contract_type": "licence"}
    delta.change(
        _figures(stage="contract_registered", **REGISTERED),
        _figures(stage="contract_registered", version=2, **licence),
    )
    slices = delta.slices()
    assert ("d", OPENED, "", "", "", "") not in slices
    assert slices[("d", OPENED, "contract_type", "transfer", "", "")][0] == -1
    assert slices[("d", OPENED, "contract_type", "licence", "", "")][0] == 1
    assert slices[("d", date(2026, 4, 10), "contract_type", "licence", "", "")][2] == 1
    assert ("m", date(2026, 4, 1), "source", "offer", "", "") not in slices
    assert all("contract_type" in (dim_a, dim_b) for (_grain, _day, dim_a, _a, dim_b, _b) in slices)


def test_changes_of_many_deals_in_one_delta_add_up():
    delta = RollupDelta()
    delta.change(None, _figures())
    delta.change(None, replace(_figures(amount="100000"), deal_id=8))
    delta.change(replace(_figures(amount="100000"), deal_id=8), replace(_figures(amount="50"), deal_id=8))
    assert delta.slices()[("m", date(2026, 3, 1), "", "", "", "")] == [2, Decimal("300050"), 0, 0, 0, 0, 0, 0]
    assert dict(delta.lead) == {(date(2026, 3, 1), 46): 2}
