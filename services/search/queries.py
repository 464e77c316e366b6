"""The query builder: request parameters (already validated) → Elasticsearch request bodies. Pure functions,
so the API and the benchmark's "same raw query" send exactly the same thing.

Relevance: title over keywords over body, on both analyses (cjk bigrams for recall, jieba words for
precision); a phrase bonus for the query appearing as written; an exact-title bonus; typo tolerance (fuzzy
matching) only for Latin words, since a one-character edit of a Chinese word is another word. Facets are
multi-select: each facet counts with every filter except its own, and the filters restrict the hits through
`post_filter`, so choosing 专利 still shows how many 成果 there are.

Bounded work (issue 10, item 17): whatever the caller sends, the engine gets each whitespace-separated word
once, whole words up to `MAX_QUERY_LENGTH` characters, at most `MAX_SEGMENTED_TERMS` jieba words, fuzzy
matching for at most `FUZZY_MAX_WORDS` words and the phrase clauses for short queries only; the selectors add
an engine-side `timeout` and a client request timeout of a few seconds. Measured on the local stand-in with
300 achievements (about 3,500 searches: 4–6 keywords from the CSL abstracts one at a time and four at a time,
each clause alone, queries up to 200 characters, six clients during bulk indexing): none hung, so the reported
hang was not reproduced. What was seen: a query costs the sum of its clauses (bigram match, jieba match, each
phrase clause, highlighting, facets: ~0.1–0.3 s each here); the bigram match grows with the query's length and
fuzzy matching with its Latin words (66 repeated ones: 1.3 s instead of 0.1 s); the engine serves requests one
after another (six clients: median 1.0 s, p99 2.8 s; it reports `took: 0` for a request that waited 3 s) and
ignores the `timeout` in the body. So one stuck query holds every search behind it: the client's timeout and
the supervisor's engine health check (`market.localdev`) are what bound it locally."""

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from market.common.chinese import has_latin, search_words

#: request parameter → document field, for the multi-valued keyword filters (each one is also a facet)
KEYWORD_FILTERS: dict[str, str] = {
    "type": "kind",
    "field": "field",
    "owner_type": "owner_type",
    "legal_status": "legal_status",
    "patent_type": "patent_type",
    "transfer_mode": "transfer_modes",
    "stage": "stage",
    "collaboration_mode": "collaboration_mode",
}
#: facet name → (filter it ignores, aggregation)
PRICE_RANGES = [
    {"key": "under_100k", "to": 100_000},
    {"key": "100k_1m", "from": 100_000, "to": 1_000_000},
    {"key": "1m_5m", "from": 1_000_000, "to": 5_000_000},
    {"key": "over_5m", "from": 5_000_000},
]
FACETS: dict[str, tuple[str, dict[str, Any]]] = {
    **{name: (name, {"terms": {"field": path, "size": 50}}) for name, path in KEYWORD_FILTERS.items()},
    "ipc": ("ipc", {"terms": {"field": "ipc_subclasses", "size": 50}}),
    "ipc_group": ("ipc", {"terms": {"field": "ipc_groups", "size": 50}}),
    "region": ("region", {"terms": {"field": "province", "size": 40}}),
    "trl": ("trl", {"terms": {"field": "trl", "size": 9}}),
    "price": ("price", {"range": {"field": "price", "ranges": PRICE_RANGES}}),
    "published": ("published", {"date_histogram": {"field": "published_at", "calendar_interval": "year"}}),
}
SORTS: dict[str, list[Any]] = {
    "relevance": ["_score", {"published_at": {"order": "desc", "missing": "_last"}}, {"uid": "asc"}],
    "newest": [{"published_at": {"order": "desc", "missing": "_last"}}, {"uid": "asc"}],
    "price": [{"price": {"order": "asc", "missing": "_last"}}, {"uid": "asc"}],
    "-price": [{"price": {"order": "desc", "missing": "_last"}}, {"uid": "asc"}],
}
HIGHLIGHT = {
    "encoder": "html",
    "pre_tags": ["<em>"],
    "post_tags": ["</em>"],
    "fields": {
        "title": {"number_of_fragments": 0},
        "body": {"fragment_size": 80, "number_of_fragments": 2},
        "keywords": {"number_of_fragments": 0},
    },
}
#: document fields a result carries as they are (see selectors.result_item)
RESULT_KEYS = (
    "field",
    "price",
    "published_at",
    "trl",
    "legal_status",
    "patent_type",
    "transfer_modes",
    "deadline",
)
#: what the engine returns of each hit: those, and what result_item reshapes
RESULT_SOURCE = ["kind", "id", "display", "ipc_subclasses", "province", *RESULT_KEYS]
#: words too common in titles to say anything about similarity
GENERIC_WORDS = frozenset(
    {
        *("一种", "及其", "方法", "装置", "系统", "设备", "制备", "基于", "用于"),
        *("以及", "一个", "研究", "应用", "分析", "技术", "结构", "具有", "进行"),
    }
)


#: longest query the engine receives (the API refuses longer ones)
MAX_QUERY_LENGTH = 100
#: most distinct words (as jieba splits them) a query may have (the API refuses more)
MAX_QUERY_WORDS = 16
#: most jieba words (search mode: long words and their parts) sent to the segmented field
MAX_SEGMENTED_TERMS = 32
#: phrase bonuses only for queries this short: a phrase clause is the costliest part of a query, and a long
#: query of several keywords is not a phrase anybody expects to find as written
PHRASE_MAX_LENGTH = 20
PHRASE_MAX_WORDS = 3
#: fuzzy matching expands each Latin word into its neighbours: only for a few words
FUZZY_MAX_WORDS = 4


def bounded_query(q: str) -> str:
    """`q` as the engine gets it: each whitespace-separated word once (a repeated word adds work, not
    meaning), whole words up to `MAX_QUERY_LENGTH` characters."""
    kept: list[str] = []
    length = -1
    for word in dict.fromkeys(q.split()):
        length += 1 + len(word)
        if length > MAX_QUERY_LENGTH:
            return " ".join(kept) if kept else word[:MAX_QUERY_LENGTH]
        kept.append(word)
    return " ".join(kept)


def segmented_terms(q: str) -> str:
    """The jieba words of `q` for the segmented field, each once, at most `MAX_SEGMENTED_TERMS`."""
    return " ".join(list(dict.fromkeys(search_words(q)))[:MAX_SEGMENTED_TERMS])


def phrase_bonus_applies(q: str) -> bool:
    return len(q) <= PHRASE_MAX_LENGTH and len(q.split()) <= PHRASE_MAX_WORDS


@dataclass(frozen=True)
class SearchParams:
    q: str = ""
    filters: dict[str, list[str]] = field(default_factory=dict)
    ipc: list[str] = field(default_factory=list)
    region: list[str] = field(default_factory=list)
    owner: list[int] = field(default_factory=list)
    trl_min: int | None = None
    trl_max: int | None = None
    price_min: float | None = None
    price_max: float | None = None
    published_after: date | None = None
    published_before: date | None = None
    sort: str = "relevance"
    size: int = 20
    search_after: list[Any] | None = None

    @property
    def sort_name(self) -> str:
        """The sort that applies: without a query there is no relevance to sort by."""
        return self.sort if self.q or self.sort != "relevance" else "newest"


def text_match(q: str) -> dict[str, Any]:
    """Must match through either analysis: cjk bigrams (most of the words, fuzzy for a few Latin words) or
    all the jieba words."""
    q = bounded_query(q)
    bigrams: dict[str, Any] = {
        "query": q,
        "fields": ["title^3", "keywords^2", "body", "people"],
        "type": "best_fields",
        "minimum_should_match": "-25%",
    }
    if has_latin(q) and len(q.split()) <= FUZZY_MAX_WORDS:
        bigrams.update(fuzziness="AUTO", prefix_length=1)
    segmented = segmented_terms(q)
    matches: list[dict[str, Any]] = [{"multi_match": bigrams}]
    if segmented:
        matches.append(
            {
                "multi_match": {
                    "query": segmented,
                    "fields": ["title_seg^3", "body_seg"],
                    "type": "best_fields",
                    "operator": "and",
                }
            }
        )
    return {"bool": {"should": matches, "minimum_should_match": 1}}


def text_query(q: str) -> dict[str, Any]:
    """`text_match`, ranked by field boosts, the exact title or keyword and, for a short query, the phrase as
    written."""
    q = bounded_query(q)
    should: list[dict[str, Any]] = [
        {"term": {"title.raw": {"value": q, "boost": 10}}},
        {"term": {"keywords.raw": {"value": q, "boost": 3}}},
    ]
    if phrase_bonus_applies(q):
        should += [
            {"match_phrase": {"title": {"query": q, "slop": 1, "boost": 4}}},
            {"match_phrase": {"body": {"query": q, "slop": 2, "boost": 1.5}}},
        ]
    return {"bool": {"must": [text_match(q)], "should": should}}


def _ipc_clause(values: list[str]) -> dict[str, Any]:
    """`H01M`, `H01M 4/00` (a main group) or `H01M 4/525`: prefixes of the record's IPC symbols."""
    clauses = []
    for value in values:
        prefix = value[:-2] if value.endswith("/00") else value
        clauses.append({"prefix": {"ipc_codes": prefix}})
    return {"bool": {"should": clauses, "minimum_should_match": 1}}


def _region_clause(values: list[str]) -> dict[str, Any]:
    clauses = []
    for value in values:
        level = "province" if value.endswith("0000") else "city" if value.endswith("00") else "county"
        clauses.append({"term": {level: value}})
    return {"bool": {"should": clauses, "minimum_should_match": 1}}


def _range(path: str, low: Any, high: Any) -> dict[str, Any]:
    bounds = {}
    if low is not None:
        bounds["gte"] = low.isoformat() if isinstance(low, date) else low
    if high is not None:
        bounds["lte"] = high.isoformat() if isinstance(high, date) else high
    return {"range": {path: bounds}}


def facet_filters(params: SearchParams) -> dict[str, dict[str, Any]]:
    """Filter clause per facet name it belongs to (so each facet can leave its own out)."""
    clauses: dict[str, dict[str, Any]] = {}
    for name, path in KEYWORD_FILTERS.items():
        if params.filters.get(name):
            clauses[name] = {"terms": {path: params.filters[name]}}
    if params.ipc:
        clauses["ipc"] = _ipc_clause(params.ipc)
    if params.region:
        clauses["region"] = _region_clause(params.region)
    if params.owner:
        clauses["owner"] = {"terms": {"owner_id": params.owner}}
    if params.trl_min is not None or params.trl_max is not None:
        clauses["trl"] = _range("trl", params.trl_min, params.trl_max)
    if params.price_min is not None or params.price_max is not None:
        clauses["price"] = _range("price", params.price_min, params.price_max)
    if params.published_after or params.published_before:
        clauses["published"] = _range("published_at", params.published_after, params.published_before)
    return clauses


def _all_of(clauses: list[dict[str, Any]]) -> dict[str, Any]:
    return {"bool": {"filter": clauses}} if clauses else {"match_all": {}}


def search_body(params: SearchParams) -> dict[str, Any]:
    """The whole search request: query, post_filter, facets, sort, highlight, search_after."""
    query: dict[str, Any] = {"bool": {"filter": [{"term": {"live": True}}]}}
    sort_name = params.sort_name
    if params.q:
        # sorted by a field, the ranking bonuses would be computed for nothing (phrase queries are the
        # costliest part of the query)
        query["bool"]["must"] = [text_query(params.q) if sort_name == "relevance" else text_match(params.q)]
    filters = facet_filters(params)
    aggregations = {
        name: {
            "filter": _all_of([clause for key, clause in filters.items() if key != ignores]),
            "aggs": {"values": aggregation},
        }
        for name, (ignores, aggregation) in FACETS.items()
    }
    body: dict[str, Any] = {
        "query": query,
        "aggs": aggregations,
        "sort": SORTS[sort_name],
        "size": params.size,
        "track_total_hits": True,
        "_source": RESULT_SOURCE,
    }
    if filters:
        body["post_filter"] = _all_of(list(filters.values()))
    if params.q:
        body["highlight"] = HIGHLIGHT
    if params.search_after:
        body["search_after"] = params.search_after
    return body


def suggest_body(prefix: str, size: int) -> dict[str, Any]:
    completion: dict[str, Any] = {"field": "suggest", "size": size, "skip_duplicates": True}
    if has_latin(prefix) and len(prefix) >= 4:
        completion["fuzzy"] = {"fuzziness": 1, "prefix_length": 2}
    return {
        "suggest": {"titles": {"prefix": prefix, "completion": completion}},
        "_source": ["kind", "id", "display.title"],
    }


def similar_body(source: dict[str, Any], *, kinds: list[str], size: int) -> dict[str, Any]:
    """Listings like `source` (a stored document): its distinctive words, then shared IPC subclasses,
    fields and keywords as bonuses. The words are sent as text (not a document reference), so the same query
    runs across the indexes of every kind."""
    text = " ".join(
        word
        for word in f"{source.get('title_seg', '')} {source.get('body_seg', '')}".split()
        if word not in GENERIC_WORDS and len(word) > 1
    )
    should: list[dict[str, Any]] = []
    if text:
        should.append(
            {
                "more_like_this": {
                    "fields": ["title_seg", "body_seg"],
                    "like": [text],
                    "min_term_freq": 1,
                    "min_doc_freq": 1,
                    "max_query_terms": 30,
                    "minimum_should_match": "20%",
                }
            }
        )
    for path, values, boost in (
        ("ipc_subclasses", source.get("ipc_subclasses"), 2.0),
        ("field", source.get("field"), 1.0),
        ("keywords.raw", source.get("keywords"), 1.5),
    ):
        if values:
            should.append({"terms": {path: values, "boost": boost}})
    return {
        "query": {
            "bool": {
                "filter": [{"term": {"live": True}}, {"terms": {"kind": kinds}}],
                "must_not": [{"term": {"uid": source["uid"]}}],
                "should": should or [{"match_none": {}}],
                "minimum_should_match": 1,
            }
        },
        "size": size,
        "_source": RESULT_SOURCE,
    }
