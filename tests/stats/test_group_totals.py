"""`stats_group_totals`: a breakdown's rows, each group's figures summed over the periods of the range."""

from dataclasses import replace
from datetime import date

import pytest
from django.utils import timezone

from market.trading.services import deals
from services.stats import selectors
from services.stats.selectors import StatsQuery
from tests.stats.helpers import stats_catch_up
from tests.trading.helpers import deal_between

pytestmark = pytest.mark.django_db


def test_groups_are_summed_over_the_periods_most_deals_first(cast) -> None:
    deal_between(cast.uni_member, cast.ent_member, amount="100000")
    deal_between(cast.uni_member, cast.ent_member, amount="200000")
    cancelled = deal_between(cast.inst_member, cast.ent_member, amount="50000")
    deals.deal_cancel(deal=cancelled, user=cast.ent_member, reason="预算调整")
    stats_catch_up()
    today = timezone.localdate()
    query = StatsQuery(period="day", start=date(today.year, 1, 1), end=date(today.year, 12, 31))

    provinces = selectors.stats_group_totals(replace(query, group_by=("seller_province",)))

    assert [(row["seller_province"], row["deals"], row["amount"]) for row in provinces] == [
        ("330000", 2, "300000.00"),
        ("320000", 1, "50000.00"),
    ]
    assert provinces[1]["cancelled"] == 1
    by_day = selectors.stats_rows(replace(query, group_by=("seller_province",)))
    assert sum(row["deals"] for row in by_day) == 3
