"""Index definitions: one index per document kind, reached through an alias (`<prefix>-search-<kind>`) that
points at a versioned index (`<alias>-v<timestamp>`), so a rebuild happens beside the live index and the alias
swaps atomically.

Text is analyzed twice without plugins: a `cjk` bigram field (with a `raw` keyword sub-field for exact matches
and a `prefix` edge-ngram sub-field for search-as-you-type) and a jieba-segmented `*_seg` copy in a
whitespace-analyzed field. Every facet is a keyword, number or date field."""

from datetime import UTC, datetime
from functools import cache
from typing import Any

import orjson
from django.conf import settings
from elasticsearch import Elasticsearch, NotFoundError, OrjsonSerializer
from elasticsearch.serializer import NdjsonSerializer

KINDS: tuple[str, ...] = ("patent", "achievement", "demand", "expert")
#: how soon a write becomes visible to searches; freshness is bounded by it
REFRESH_INTERVAL = "1s"

ANALYSIS: dict[str, Any] = {
    "filter": {
        "prefix_ngram": {"type": "edge_ngram", "min_gram": 1, "max_gram": 20},
    },
    "analyzer": {
        # the same tokens as the built-in `cjk` analyzer, minus its English stop words (titles are short)
        "cjk_text": {
            "type": "custom",
            "tokenizer": "standard",
            "filter": ["cjk_width", "lowercase", "cjk_bigram"],
        },
        # jieba already split the words in Python
        "segmented": {"type": "custom", "tokenizer": "whitespace", "filter": ["lowercase"]},
        "prefix_index": {
            "type": "custom",
            "tokenizer": "whitespace",
            "filter": ["cjk_width", "lowercase", "prefix_ngram"],
        },
        "prefix_search": {"type": "custom", "tokenizer": "keyword", "filter": ["cjk_width", "lowercase"]},
    },
}


def _text(**extra: Any) -> dict[str, Any]:
    return {"type": "text", "analyzer": "cjk_text", **extra}


KEYWORD = {"type": "keyword"}
MAPPINGS: dict[str, Any] = {
    "dynamic": "strict",
    "properties": {
        # identity and visibility: `live` is false for a tombstone (a listing that left the public)
        "uid": KEYWORD,
        "kind": KEYWORD,
        "id": {"type": "long"},
        "live": {"type": "boolean"},
        "status": KEYWORD,
        # text
        "title": _text(
            fields={
                "raw": {"type": "keyword", "ignore_above": 512},
                "prefix": {"type": "text", "analyzer": "prefix_index", "search_analyzer": "prefix_search"},
            }
        ),
        "title_seg": {"type": "text", "analyzer": "segmented"},
        "body": _text(),
        "body_seg": {"type": "text", "analyzer": "segmented"},
        "keywords": _text(fields={"raw": KEYWORD}),
        "people": _text(fields={"raw": KEYWORD}),
        "suggest": {"type": "completion", "analyzer": "prefix_search"},
        # facets
        "field": KEYWORD,
        "ipc_subclasses": KEYWORD,
        "ipc_groups": KEYWORD,
        "ipc_codes": KEYWORD,
        "province": KEYWORD,
        "city": KEYWORD,
        "county": KEYWORD,
        "owner_type": KEYWORD,
        "owner_id": {"type": "long"},
        "owner_name": KEYWORD,
        "patent_type": KEYWORD,
        "legal_status": KEYWORD,
        "trl": {"type": "integer"},
        "stage": KEYWORD,
        "transfer_modes": KEYWORD,
        "pricing_method": KEYWORD,
        "collaboration_mode": KEYWORD,
        "price": {"type": "double"},
        "published_at": {"type": "date"},
        "filing_date": {"type": "date"},
        "deadline": {"type": "date"},
        # shown in results, not searched
        "display": {"type": "object", "enabled": False},
    },
}


class OrjsonNdjsonSerializer(NdjsonSerializer):
    """Bulk bodies (one JSON object per line) through orjson too: with the standard library's json, encoding
    the documents and decoding the item results took a third of the indexer's bulk time."""

    def json_dumps(self, data: Any) -> bytes:
        return orjson.dumps(data, default=self.default)

    def json_loads(self, data: bytes) -> Any:
        return orjson.loads(data)


@cache
def _client(url: str) -> Elasticsearch:
    return Elasticsearch(
        url,
        request_timeout=30,
        retry_on_timeout=False,
        max_retries=0,
        serializers={
            OrjsonSerializer.mimetype: OrjsonSerializer(),
            OrjsonNdjsonSerializer.mimetype: OrjsonNdjsonSerializer(),
        },
    )


def client() -> Elasticsearch:
    """One client per URL (it pools connections and is thread-safe)."""
    return _client(settings.ELASTICSEARCH_URL)


def alias_name(kind: str) -> str:
    return f"{settings.SEARCH_INDEX_PREFIX}-search-{kind}"


def all_aliases(kinds: tuple[str, ...] | list[str] = KINDS) -> str:
    return ",".join(alias_name(kind) for kind in kinds)


def index_name_new(kind: str) -> str:
    return f"{alias_name(kind)}-v{datetime.now(UTC):%Y%m%d%H%M%S%f}"


def index_create(name: str, *, refresh_interval: str = REFRESH_INTERVAL) -> None:
    client().indices.create(
        index=name,
        settings={
            "number_of_shards": 1,
            "number_of_replicas": 0,
            "refresh_interval": refresh_interval,
            "analysis": ANALYSIS,
        },
        mappings=MAPPINGS,
    )


def alias_targets(kind: str) -> list[str]:
    try:
        return sorted(client().indices.get_alias(name=alias_name(kind)).body)
    except NotFoundError:
        return []


def indexes_ensure(kinds: tuple[str, ...] = KINDS) -> None:
    """Create a first versioned index behind each missing alias (the indexer does this on start)."""
    for kind in kinds:
        if not alias_targets(kind):
            name = index_name_new(kind)
            index_create(name)
            client().indices.put_alias(index=name, name=alias_name(kind), is_write_index=True)


def alias_swap(kind: str, new_index: str) -> list[str]:
    """Point the alias at `new_index` in one atomic request; returns the indexes it left."""
    old = [name for name in alias_targets(kind) if name != new_index]
    alias = alias_name(kind)
    actions: list[dict[str, Any]] = [{"remove": {"index": name, "alias": alias}} for name in old]
    actions.append({"add": {"index": new_index, "alias": alias, "is_write_index": True}})
    client().indices.update_aliases(actions=actions)
    return old
