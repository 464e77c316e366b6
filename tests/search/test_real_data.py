"""Search over the real sample data (../shared/data): expected results are derived from the data files."""

import base64
import csv
import json
from collections import Counter
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from django.conf import settings

from market.common.chinese import segment
from market.demo.seeding import DEMO_DEMANDS
from services.search.indexes import alias_name, client

pytestmark = pytest.mark.django_db


def _patents() -> list[dict[str, str]]:
    with (Path(settings.MARKET_SAMPLE_DATA_DIR) / "cn_patents_ipc.csv").open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _achievements() -> list[dict]:
    path = Path(settings.MARKET_SAMPLE_DATA_DIR) / "csl_achievements.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _search(api, **params) -> dict:
    response = api(None).get("/api/v1/search/", params)
    assert response.status_code == 200, response.content
    return response.json()


def _facet(body: dict, name: str) -> dict:
    return {bucket["value"]: bucket["count"] for bucket in body["facets"][name]}


def test_lithium_ion_battery_finds_the_h01m_patents_that_name_it_first(real_index, api):
    expected = {row["title"].strip() for row in _patents() if "锂离子电池" in row["title"]}
    assert len(expected) >= 10
    body = _search(api, q="锂离子电池", type="patent", page_size=50)
    titles = [item["title"] for item in body["results"]]
    # every patent whose title names the phrase ranks above any that only shares words with it
    assert set(titles[: len(expected)]) == expected
    top = body["results"][: len(expected)]
    assert sum("H01M" in item["ipc"] for item in top) >= len(expected) - 2
    assert max(_facet(body, "ipc").items(), key=lambda pair: pair[1])[0] == "H01M"
    assert "<em>" in top[0]["highlight"]["title"][0]


def test_an_achievement_is_found_by_its_distinctive_keyword_and_ranked_first(real_index, api):
    records = _achievements()
    patent_titles = " ".join(row["title"] for row in _patents())
    counts = Counter(keyword for record in records for keyword in record["keywords"])
    text = "\n".join(
        f"{record['title']} {record['abstract']} {' '.join(record['keywords'])}" for record in records
    )
    checked = 0
    for record in records[::25]:
        distinctive = [
            keyword
            for keyword in record["keywords"]
            if counts[keyword] == 1
            and len(keyword) >= 4
            and keyword not in patent_titles
            and text.count(keyword) == 1
        ]
        if not distinctive:
            continue
        body = _search(api, q=distinctive[0])
        assert body["results"], distinctive[0]
        assert body["results"][0]["type"] == "achievement"
        assert body["results"][0]["title"] == record["title"].strip(), distinctive[0]
        checked += 1
    assert checked >= 10


def test_facets_without_a_query_count_the_whole_sample_exactly(real_index, api):
    patents, achievements = _patents(), _achievements()
    body = _search(api, page_size=1)
    assert _facet(body, "type") == {
        "patent": len(patents),
        "achievement": len(achievements),
        "demand": 6,
        "expert": 4,
    }
    assert body["count"] == len(patents) + len(achievements) + 10
    ipc = Counter(code for row in patents for code in set(row["ipc_subclasses"].split("|")) if code)
    ipc.update(code for demand in DEMO_DEMANDS for code in demand.ipc_hints)  # demands' IPC hints count too
    facet_ipc = _facet(body, "ipc")
    for code, count in ipc.most_common(10):
        assert facet_ipc[code] == count, code
    disciplines = Counter(record["discipline"] for record in achievements)
    by_field = _facet(_search(api, type="achievement", page_size=1), "field")
    for discipline, count in disciplines.most_common(10):
        assert by_field[discipline] == count


def test_facets_are_multi_select_and_agree_with_the_filters(real_index, api):
    everything = _search(api, q="电池", page_size=1)
    patents_only = _search(api, q="电池", type="patent", page_size=1)
    # choosing a type filters the hits but keeps the other types' counts visible
    assert _facet(patents_only, "type") == _facet(everything, "type")
    assert patents_only["count"] == _facet(everything, "type")["patent"]
    assert sum(_facet(everything, "type").values()) == everything["count"]
    for code, count in list(_facet(patents_only, "ipc").items())[:3]:
        assert _search(api, q="电池", type="patent", ipc=code, page_size=1)["count"] == count
    for status, count in _facet(patents_only, "legal_status").items():
        assert _search(api, q="电池", type="patent", legal_status=status, page_size=1)["count"] == count
    priced = _search(api, q="电池", type="patent", price_min=1_000_000, price_max=5_000_000, page_size=1)
    buckets = {bucket["value"]: bucket["count"] for bucket in patents_only["facets"]["price"]}
    assert priced["count"] >= buckets["1m_5m"]  # the range is inclusive at 5,000,000, the bucket is not


def _walk(api, **params) -> list[tuple[str, int]]:
    """Every hit of a search, page by page through the `next` links (search_after cursors)."""
    seen, url, query = [], "/api/v1/search/", {**params, "page_size": 7}
    while url:
        response = api(None).get(url, query)
        assert response.status_code == 200
        seen += [(item["type"], item["id"]) for item in response.json()["results"]]
        url, query = response.json()["next"], None
    return seen


def test_search_after_pages_through_every_hit_once_in_order(real_index, api):
    # sorted by date: most hits share the seeding day, so the pages split runs of ties broken by `uid`
    whole = _search(api, q="锂电池", sort="newest", page_size=100)
    assert 20 < whole["count"] <= 100
    assert _walk(api, q="锂电池", sort="newest") == [(item["type"], item["id"]) for item in whole["results"]]


def test_sorting_by_date_finds_the_same_hits_as_ranking_by_relevance(real_index, api):
    # sorted by a field, the query leaves out the ranking bonuses: they must not change what matches
    ranked = _search(api, q="锂离子电池", page_size=100)
    by_date = _search(api, q="锂离子电池", sort="newest", page_size=100)
    assert ranked["count"] == by_date["count"] > 10
    assert {(item["type"], item["id"]) for item in ranked["results"]} == {
        (item["type"], item["id"]) for item in by_date["results"]
    }


def test_relevance_pages_hold_no_hit_twice_and_descend_in_score(real_index, api):
    """By relevance the stand-in engine may drop a hit when a page ends inside a run of equal scores (seen:
    search_after from patent 6570 skips patent 769, same score, same date, later uid; Elasticsearch does not),
    so the walk is checked for what holds there too: no repeats, nothing foreign, scores never rising."""
    whole = _search(api, q="锂电池", page_size=100)
    walked = _walk(api, q="锂电池")
    score = {(item["type"], item["id"]): item["score"] for item in whole["results"]}
    assert len(walked) == len(set(walked)) and set(walked) <= set(score)
    assert len(walked) >= whole["count"] - 3
    assert [score[hit] for hit in walked] == sorted((score[hit] for hit in walked), reverse=True)


def test_sorting_by_price_and_newest(real_index, api):
    cheap = _search(api, type="patent", sort="price", q="装置", page_size=50)["results"]
    prices = [item["price"] for item in cheap if item["price"] is not None]
    assert prices == sorted(prices) and len(prices) == len(cheap)
    dear = _search(api, type="achievement", sort="-price", page_size=30)["results"]
    dear_prices = [item["price"] for item in dear]
    assert dear_prices == sorted(dear_prices, reverse=True)
    newest = _search(api, sort="newest", page_size=30)["results"]
    dates = [item["published_at"] for item in newest]
    assert dates == sorted(dates, reverse=True)


def test_filters_by_trl_region_and_transfer_mode(real_index, api):
    body = _search(api, type="achievement", trl_min=7, transfer_mode="licence", page_size=100)
    assert body["count"] > 0
    assert all(item["trl"] >= 7 and "licence" in item["transfer_modes"] for item in body["results"])
    institute = _search(api, region="330110", page_size=100)  # the demo institute's county
    assert institute["count"] > 0 and all(item["region"] == "330000" for item in institute["results"])
    assert (
        institute["count"]
        == _facet(_search(api, owner_type="institute", page_size=1), "owner_type")["institute"]
    )


def test_suggestions_continue_what_was_typed(real_index, api):
    response = api(None).get("/api/v1/search/suggest/", {"q": "锂离子电池隔"})
    assert response.status_code == 200
    texts = [item["text"] for item in response.json()["suggestions"]]
    assert "一种具有高耐热高粘接性的锂离子电池隔膜及其制备方法" in texts
    prefix = api(None).get("/api/v1/search/suggest/", {"q": "基于"}).json()["suggestions"]
    assert len(prefix) == 8 and all("基于" in item["text"] for item in prefix)


def test_similar_patents_share_the_subject(real_index, api):
    source = _search(api, q="锂离子电池隔膜", type="patent", page_size=1)["results"][0]
    response = api(None).get("/api/v1/search/similar/", {"type": "patent", "id": source["id"]})
    assert response.status_code == 200
    results = response.json()["results"]
    assert len(results) == 10
    assert (source["type"], source["id"]) not in {(item["type"], item["id"]) for item in results}
    assert sum("H01M" in item["ipc"] for item in results) >= 7
    assert {item["type"] for item in results} <= {"patent", "achievement"}
    missing = api(None).get("/api/v1/search/similar/", {"type": "patent", "id": 99_999_999})
    assert missing.status_code == 404


def test_confidential_fields_are_never_indexed(real_index, api):
    # every seeded achievement has this confidential text and this NDA; neither may be found or stored
    assert _search(api, q="关键配方与中试数据")["count"] == 0
    assert _search(api, q="不向第三方披露")["count"] == 0
    document = client().search(index=alias_name("achievement"), size=1)["hits"]["hits"][0]["_source"]
    stored = json.dumps(document, ensure_ascii=False)
    assert "保密信息" not in stored and "confidential" not in stored and "nda" not in stored.lower()


def test_the_segmented_copy_matches_whole_words_only(real_index, api):
    # 离子 inside 锂离子 matches on bigrams; the jieba copy adds precision for the word itself
    assert "锂离子电池" in segment("一种锂离子电池正极材料").split()
    body = _search(api, q="正极材料", type="patent", page_size=5)
    assert all("正极材料" in item["title"] for item in body["results"])


def test_a_changed_or_foreign_search_cursor_is_a_400_naming_the_cursor(real_index, api):
    """A cursor is the last hit's sort values; changed by hand they once reached the engine, which refused
    them, and the API answered 503 as if search were down."""
    first = api(None).get("/api/v1/search/", {"q": "锂电池", "sort": "newest", "page_size": 5}).json()
    [cursor] = parse_qs(urlsplit(first["next"]).query)["cursor"]
    again = api(None).get("/api/v1/search/", {"q": "锂电池", "sort": "newest", "cursor": cursor})
    assert again.status_code == 200
    hand_made = base64.urlsafe_b64encode(json.dumps(["x", "y", "z"]).encode()).decode().rstrip("=")
    for params in (
        {"q": "锂电池", "sort": "newest", "cursor": hand_made},
        {"q": "锂电池", "sort": "newest", "cursor": cursor[:-2] + ("AA" if cursor[-2:] != "AA" else "BB")},
        {"q": "锂电池", "sort": "price", "cursor": cursor},  # another sort: other sort values
    ):
        response = api(None).get("/api/v1/search/", params)
        assert response.status_code == 400, (params, response.content)
        assert list(response.json()["error"]["fields"]) == ["cursor"]
