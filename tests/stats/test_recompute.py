"""`stats_recompute`: the rollups rebuilt from the deal rows are the ones the consumer kept from events."""

from decimal import Decimal

import pytest

from market.trading.services import deals
from services.stats.models import Rollup
from services.stats.recompute import stats_recompute
from tests.stats.helpers import stats_catch_up
from tests.trading.helpers import deal_between

pytestmark = pytest.mark.django_db


def test_the_deal_rows_give_the_figures_the_consumer_kept(cast):
    registered = deal_between(cast.uni_member, cast.ent_member, amount="300000")
    for party in (cast.ent_member, cast.uni_member):
        deals.deal_sign(deal=registered, user=party)
    deals.deal_registration_submit(
        deal=registered,
        user=cast.uni_member,
        contract_type="transfer",
        contract_value=Decimal("300000"),
        technology_transaction_value=Decimal("250000"),
    )
    deals.deal_registration_approve(deal=registered, user=cast.registrar, registration_number="R-1")
    cancelled = deal_between(cast.uni_member, cast.ent_member, amount="90000")
    deals.deal_cancel(deal=cancelled, user=cast.ent_member, reason="预算调整")
    stats_catch_up()
    kept = Rollup.objects.count()

    checked = stats_recompute(replace=False)

    assert (checked.deals, checked.differences, checked.replaced) == (2, [], False)
    # every grain and slice: the daily ones by a single dimension too
    assert checked.rollup_rows == kept
    assert Rollup.objects.filter(grain="d", dim_a="contract_type", value_a="transfer", contracts=1).exists()
