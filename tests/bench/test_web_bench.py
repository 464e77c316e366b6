"""bench/web.py's measuring parts on a small market: the figures it reports for a page and its API calls, and
the JavaScript bytes it finds for a page (the benchmark itself seeds the real sample and takes a minute)."""

import gzip
import importlib.util
import sys
from pathlib import Path

import pytest
from django.contrib.staticfiles import finders
from django.test import Client

from tests import factories

BENCH = Path(__file__).resolve().parents[2] / "bench"
pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def bench():
    sys.path.insert(0, str(BENCH))
    try:
        spec = importlib.util.spec_from_file_location("bench_web", BENCH / "web.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        yield module
    finally:
        sys.path.remove(str(BENCH))


def test_a_page_and_its_api_calls_are_timed_in_the_same_rounds(bench, cast):
    patent = factories.patent(cast.university, title="一种锂电池极片涂布装置")
    home_calls = [f"/api/v1/{kind}/?page_size=6" for kind in bench.HOME_LISTS]
    cases = [("/", home_calls), (f"/patents/{patent.pk}/", [f"/api/v1/patents/{patent.pk}/"])]

    figures = bench.page_vs_api("pages", Client(), cases, rounds=3)

    assert figures["pages_requests"] == 6
    assert 0 < figures["pages_page_ms_median"] <= figures["pages_page_ms_p95"]
    assert 0 < figures["pages_api_ms_median"] <= figures["pages_api_ms_p95"]
    ratio = figures["pages_page_ms_median"] / figures["pages_api_ms_median"]
    assert figures["pages_page_vs_api"] == pytest.approx(ratio, rel=0.01)


def test_a_failing_page_is_not_timed(bench, cast):
    with pytest.raises(AssertionError):
        bench.page_vs_api("missing", Client(), [("/patents/999999/", ["/api/v1/patents/999999/"])], rounds=1)


def test_the_javascript_of_a_page_is_every_script_it_loads_gzip_compressed(bench, cast):
    htmx = Path(finders.find("web/vendor/htmx-2.0.11.min.js")).read_bytes()

    scripts = bench.page_scripts(Client(), "/")

    assert scripts["scripts"] == ["/static/web/vendor/htmx-2.0.11.min.js"]
    assert scripts["raw"] == len(htmx)
    assert scripts["gzip"] == len(gzip.compress(htmx, compresslevel=9)) < len(htmx)


def test_the_dashboard_javascript_includes_chart_js(bench, cast):
    chart = Path(finders.find("web/vendor/chart.umd.min.js")).read_bytes()

    scripts = bench.stats_scripts(Client())

    assert "/static/web/vendor/chart.umd.min.js" in scripts["scripts"]
    assert scripts["gzip"] > len(gzip.compress(chart, compresslevel=9)) * 0.99
    assert scripts["source"] == "page /stats/" or scripts["source"].startswith(
        "static files: no /stats/ page"
    )
