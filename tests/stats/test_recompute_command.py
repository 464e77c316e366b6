"""`manage.py stats_recompute [--check]` as an operator runs it (its own process, its exit status): a kept
rollup that differs from the deal rows fails it, `--check` leaves the figures alone, and a run without it
repairs them, after which it succeeds."""

import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from django.db.models import F

from services.stats.models import LeadTime, Rollup
from tests.processes import child_database_url
from tests.stats.brute import brute_monthly, kept_monthly
from tests.stats.helpers import stats_catch_up
from tests.trading.helpers import deal_between, register_contract

pytestmark = pytest.mark.django_db(transaction=True)  # the command reads committed rows
REPO = Path(__file__).resolve().parents[2]


def _recompute(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(REPO / "manage.py"), "stats_recompute", *args],
        cwd=REPO,
        env={**os.environ, "DATABASE_URL": child_database_url()},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _figures() -> list[tuple]:
    return sorted(
        Rollup.objects.values_list("grain", "period", "dim_a", "value_a", "dim_b", "value_b", "contracts")
    )


def test_a_tampered_rollup_fails_the_check_is_left_by_it_and_repaired_by_a_recomputation(cast):
    register_contract(
        deal_between(cast.uni_member, cast.ent_member),
        seller=cast.uni_member,
        buyer=cast.ent_member,
        registrar=cast.registrar,
    )
    deal_between(cast.inst_member, cast.ent2_member, amount="80000")
    stats_catch_up()
    clean = _recompute()
    assert clean.returncode == 0, clean.stderr
    assert "2 deals" in clean.stdout and "the kept figures match the deal records" in clean.stdout
    correct = _figures()

    month = Rollup.objects.get(grain="m", dim_a="", dim_b="")
    Rollup.objects.filter(pk=month.pk).update(
        contracts=F("contracts") + 1, amount=F("amount") + Decimal("0.01")
    )
    LeadTime.objects.update(deals=F("deals") + 5)
    tampered = _figures()
    assert tampered != correct

    checked = _recompute("--check")
    assert checked.returncode != 0
    assert f"differs: ('m', datetime.date({month.period.year}, {month.period.month}, 1), '', '', '', '')" in (
        checked.stdout
    )
    assert "slices differ from the deal records" in checked.stderr
    assert "replaced" not in checked.stdout
    assert _figures() == tampered, "--check leaves the kept figures alone"

    repaired = _recompute()
    assert repaired.returncode != 0, "it reports what it found, then repairs it"
    assert "the rebuilt figures replaced the kept ones" in repaired.stdout
    assert _figures() == correct
    assert kept_monthly() == brute_monthly()
    assert set(LeadTime.objects.values_list("deals", flat=True)) == {2}

    again = _recompute("--check")
    assert again.returncode == 0, again.stdout
