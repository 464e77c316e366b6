"""Web pages benchmark: the server time of each page next to the API call(s) returning the same data, in the
same run, and the JavaScript each page makes a browser download.

- home `/` vs the three API lists it shows: the latest patents, achievements and demands, six each
  (`/api/v1/<kind>s/?page_size=6`, their times added up); the page also counts the published listings,
  which no API list returns (cursor pagination has no count), so it does a little more;
- search results `/search/?q=<word>` vs `/api/v1/search/?q=<word>` (the same validation, query and facets);
- a patent page `/patents/<id>/` vs `/api/v1/patents/<id>/` ("more like this" is a request of its own that
  htmx sends after the page has loaded: not part of the page's time).

Per page: median and p95 in ms of the page and of the API, and page/API as the ratio of the medians (goal
<= 1.3x). Server time is what Django takes from request to response through the whole middleware stack
(sessions, CSRF, CSP, WhiteNoise, locale), measured with Django's test client in this process: no network,
an anonymous visitor, page and API requests interleaved after a warm-up, on one database and one engine.

JavaScript: each page's `<script src>` fetched as WhiteNoise serves them, gzip-compressed (level 9, as
WhiteNoise compresses them at `collectstatic`) and summed per page (goal <= 100 KB). The dashboard `/stats/`
is measured from its page when this build has one (signed in as a platform administrator); otherwise from
the static files it will load (htmx, Chart.js, `web/dashboard.js` when present), and the output says so.

The data is the real sample (`../shared/data`: the seeder's patents and achievements, the demo demands;
`--quick`: the first 300 patents and achievements), indexed as the search consumer would index it.

    .venv/bin/python bench/web.py [--quick] [--rounds N]"""

import argparse
import contextlib
import gzip
import logging
import os
import statistics
import time
import warnings
from collections.abc import Iterator
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlencode

from _harness import broker, percentile, report, scratch_database

#: words of the real sample that the search page and API are asked for
WORDS = ("锂离子电池", "传感器", "图像识别方法", "控制系统")
#: listings each home page list shows (`market.web.views.public.HOME_LATEST`)
HOME_LISTS = ("patents", "achievements", "demands")
#: what the dashboard loads when its page is not part of this build (its planned static files)
STATS_STATIC = ("web/vendor/htmx-2.0.11.min.js", "web/vendor/chart.umd.min.js", "web/dashboard.js")
JS_GOAL_BYTES = 100 * 1024
RATIO_GOAL = 1.3


@contextlib.contextmanager
def _quiet(**_kwargs: Any) -> Iterator[Any]:
    class Bar:
        def update(self, _count: int) -> None:
            pass

    yield Bar()


def seed_and_index(limit: int | None) -> dict[str, int]:
    """The demo market on the real sample, committed, and its published listings in fresh search indexes
    (every listing event of the outbox, in order, as the search consumer applies them)."""
    from django.conf import settings

    from market.demo.seeding import market_seed
    from market.events.decoding import event_of
    from market.events.models import OutboxEvent
    from services.search.indexer import bulk_send, listing_event_action
    from services.search.indexes import all_aliases, client, indexes_ensure

    counts = market_seed(data_dir=settings.MARKET_SAMPLE_DATA_DIR, progress=_quiet, limit=limit)
    indexes_ensure()
    rows = OutboxEvent.objects.order_by("sequence").values_list("type", "data")
    actions = [action for kind, data in rows if (action := listing_event_action(event_of(kind, data)))]
    assert bulk_send(actions, actions) == []
    client().indices.refresh(index=all_aliases())
    return {**counts, "indexed": len(actions)}


def _get(client: Any, path: str) -> float:
    """Seconds the server took for one GET (asserted 200: a failing page would be fast and wrong)."""
    started = time.perf_counter()
    response = client.get(path)
    elapsed = time.perf_counter() - started
    assert response.status_code == 200, (path, response.status_code)
    return elapsed


def page_vs_api(label: str, client: Any, cases: list[tuple[str, list[str]]], rounds: int) -> dict[str, Any]:
    """Each case is a page and the API calls returning its data; per round every case once, the page and
    its API calls one after the other (which goes first alternates), after one warm-up of each."""
    for page, calls in cases:
        _get(client, page)
        for call in calls:
            _get(client, call)
    page_times: list[float] = []
    api_times: list[float] = []
    for number in range(rounds):
        for page, calls in cases:
            if number % 2:
                api_times.append(sum(_get(client, call) for call in calls))
                page_times.append(_get(client, page))
            else:
                page_times.append(_get(client, page))
                api_times.append(sum(_get(client, call) for call in calls))
    page_ms = [1000 * value for value in page_times]
    api_ms = [1000 * value for value in api_times]
    return {
        f"{label}_requests": len(page_ms),
        f"{label}_page_ms_median": round(statistics.median(page_ms), 2),
        f"{label}_page_ms_p95": percentile(page_ms, 0.95),
        f"{label}_api_ms_median": round(statistics.median(api_ms), 2),
        f"{label}_api_ms_p95": percentile(api_ms, 0.95),
        f"{label}_page_vs_api": round(statistics.median(page_ms) / statistics.median(api_ms), 3),
    }


class _Scripts(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.sources: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        source = dict(attrs).get("src")
        if tag == "script" and source:
            self.sources.append(source)


def _static_body(client: Any, url: str) -> bytes:
    """A script as the site serves it (WhiteNoise answers a streaming response)."""
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return b"".join(response.streaming_content) if response.streaming else response.content


def _compressed(body: bytes) -> int:
    return len(gzip.compress(body, compresslevel=9))


def page_scripts(client: Any, path: str) -> dict[str, Any]:
    """The scripts one page loads: their URLs, and the bytes of all of them, raw and gzip-compressed."""
    response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    parser = _Scripts()
    parser.feed(response.content.decode())
    bodies = [_static_body(client, source) for source in parser.sources]
    return {
        "scripts": parser.sources,
        "raw": sum(len(body) for body in bodies),
        "gzip": sum(_compressed(body) for body in bodies),
    }


def stats_scripts(client: Any) -> dict[str, Any]:
    """The dashboard's scripts: from its page when this build has one (signed in as a platform
    administrator, who may see it), else from the static files it will load."""
    from django.contrib.staticfiles import finders
    from django.templatetags.static import static

    from market.accounts.models import User

    admin = User.objects.filter(is_platform_admin=True, is_active=True).first()
    if admin is not None:
        client.force_login(admin)
    try:
        response = client.get("/stats/")
        if response.status_code == 200 and "text/html" in response.get("Content-Type", ""):
            return {**page_scripts(client, "/stats/"), "source": "page /stats/"}
    finally:
        client.logout()
    present = [name for name in STATS_STATIC if finders.find(name)]
    bodies = [_static_body(client, static(name)) for name in present]
    return {
        "scripts": [static(name) for name in present],
        "raw": sum(len(body) for body in bodies),
        "gzip": sum(_compressed(body) for body in bodies),
        "source": "static files: no /stats/ page in this build (" + ", ".join(present) + ")",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller run, under 60 s")
    parser.add_argument("--rounds", type=int, default=None, help="measured rounds per page (each case once)")
    args = parser.parse_args()
    # --quick: 300 patents and achievements, one word asked 10 times (the stand-in takes a quarter of a second
    # or more for a search with facets): about 40 s on an idle machine, under 60 s on a busy one
    limit = 300 if args.quick else None
    rounds = args.rounds or (15 if args.quick else 100)
    words = WORDS[:1] if args.quick else WORDS
    search_rounds = min(10, rounds) if args.quick else max(2, rounds // len(words))
    logging.disable(logging.WARNING)
    # no `collectstatic` here: WhiteNoise serves the apps' static folders (WHITENOISE_USE_FINDERS)
    warnings.filterwarnings("ignore", message="No directory at")
    os.environ.setdefault("SEARCH_INDEX_PREFIX", "benchweb")
    with scratch_database(f"bench_web_{os.getpid()}"), broker() as running:
        from django.conf import settings
        from django.test import Client

        from market.catalog.models import Achievement, Demand, ListingStatus, Patent
        from market.common.chinese import segment

        settings.ELASTICSEARCH_URL = running.elasticsearch_url
        settings.KAFKA_BOOTSTRAP_SERVERS = [running.kafka_bootstrap]
        segment("预热")  # jieba loads its dictionary once per process (about a second), before any timing
        started = time.perf_counter()
        seeded = seed_and_index(limit)
        figures: dict[str, Any] = {
            "patents": Patent.objects.filter(status=ListingStatus.PUBLISHED).count(),
            "achievements": Achievement.objects.filter(status=ListingStatus.PUBLISHED).count(),
            "demands": Demand.objects.filter(status=ListingStatus.PUBLISHED).count(),
            "indexed": seeded["indexed"],
            "seed_and_index_s": round(time.perf_counter() - started, 1),
            "rounds": rounds,
        }
        client = Client()
        home_calls = [f"/api/v1/{kind}/?page_size=6" for kind in HOME_LISTS]
        figures.update(page_vs_api("home", client, [("/", home_calls)], rounds))
        queries = [urlencode({"q": word}) for word in words]
        search_cases = [(f"/search/?{query}", [f"/api/v1/search/?{query}"]) for query in queries]
        figures.update(page_vs_api("search", client, search_cases, search_rounds))
        patent_ids = list(
            Patent.objects.filter(status=ListingStatus.PUBLISHED)
            .order_by("id")
            .values_list("id", flat=True)[:5]
        )
        patent_cases = [(f"/patents/{pk}/", [f"/api/v1/patents/{pk}/"]) for pk in patent_ids]
        figures.update(page_vs_api("patent", client, patent_cases, max(2, rounds // len(patent_ids))))

        scripts = {
            "home": page_scripts(client, "/"),
            "search": page_scripts(client, f"/search/?{queries[0]}"),
            "patent": page_scripts(client, f"/patents/{patent_ids[0]}/"),
            "stats": stats_scripts(client),
        }
    for label, measured in scripts.items():
        figures[f"{label}_js_files"] = len(measured["scripts"])
        figures[f"{label}_js_bytes"] = measured["raw"]
        figures[f"{label}_js_gzip_bytes"] = measured["gzip"]
    figures["stats_js_source"] = scripts["stats"]["source"]
    for label in ("home", "search", "patent"):
        figures[f"goal_{label}_page_vs_api_le_1_3"] = figures[f"{label}_page_vs_api"] <= RATIO_GOAL
    for label in scripts:
        figures[f"goal_{label}_js_le_100_kb"] = figures[f"{label}_js_gzip_bytes"] <= JS_GOAL_BYTES
    report("web", figures)


if __name__ == "__main__":
    main()
