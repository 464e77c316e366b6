"""Reads of the search service: run a built query against the aliases and shape the answer for the API."""

from typing import Any

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from elasticsearch import ApiError, NotFoundError, TransportError
from rest_framework import status

from market.common.errors import ApplicationError
from services.search.indexes import alias_name, all_aliases, client
from services.search.queries import FACETS, RESULT_KEYS, SearchParams, search_body, similar_body, suggest_body


class SearchUnavailable(ApplicationError):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_code = "search_unavailable"


def _reads() -> Any:
    """The client for the API's reads: it gives up after `SEARCH_REQUEST_TIMEOUT` seconds (indexing keeps
    the client's longer default)."""
    return client().options(request_timeout=settings.SEARCH_REQUEST_TIMEOUT)


def _engine(call: Any, **kwargs: Any) -> dict[str, Any]:
    """Run one engine call; an unreachable, failing or stuck engine is a 503 for the client, never a 500."""
    try:
        return call(**kwargs).body
    except (TransportError, ApiError) as error:
        if isinstance(error, NotFoundError):
            raise
        raise SearchUnavailable(
            str(_("Search is temporarily unavailable; please try again shortly."))
        ) from error


def search_raw(body: dict[str, Any]) -> dict[str, Any]:
    """The engine's answer to a search body over every kind (the `type` filter is a post_filter), within the
    engine-side time budget."""
    return _engine(
        _reads().search,
        index=all_aliases(),
        ignore_unavailable=True,
        allow_no_indices=True,
        timeout=f"{settings.SEARCH_ENGINE_TIMEOUT_MS}ms",
        **body,
    )


def result_item(hit: dict[str, Any]) -> dict[str, Any]:
    source = hit["_source"]
    display = source.get("display", {})
    item: dict[str, Any] = {
        "type": source["kind"],
        "id": source["id"],
        "title": display.get("title", ""),
        "summary": display.get("summary", ""),
        "keywords": display.get("keywords", []),
        "owner": display.get("owner", {}),
        "region": source.get("province"),
        "ipc": source.get("ipc_subclasses", []),
        **{key: source.get(key) for key in RESULT_KEYS},
        "synthetic_fields": display.get("synthetic_fields", []),
    }
    if hit.get("_score") is not None:
        item["score"] = hit["_score"]
    if "highlight" in hit:
        item["highlight"] = hit["highlight"]
    return item


def _facet(name: str, aggregation: dict[str, Any]) -> list[dict[str, Any]]:
    buckets = aggregation["values"]["buckets"]
    if name == "price":
        return [
            {
                "value": bucket["key"],
                "from": bucket.get("from"),
                "to": bucket.get("to"),
                "count": bucket["doc_count"],
            }
            for bucket in buckets
        ]
    if name == "published":
        return [
            {"value": bucket["key_as_string"][:4], "count": bucket["doc_count"]}
            for bucket in buckets
            if bucket["doc_count"]
        ]
    return [{"value": bucket["key"], "count": bucket["doc_count"]} for bucket in buckets]


def search_run(params: SearchParams) -> dict[str, Any]:
    """Hits, total, facet counts and the sort values of the last hit (for `search_after`)."""
    answer = search_raw(search_body(params))
    hits = answer["hits"]["hits"]
    aggregations = answer.get("aggregations", {})
    return {
        "count": answer["hits"]["total"]["value"],
        "results": [result_item(hit) for hit in hits],
        "facets": {name: _facet(name, aggregations[name]) for name in FACETS if name in aggregations},
        "last_sort": hits[-1]["sort"] if len(hits) == params.size else None,
    }


def suggest_run(prefix: str, size: int) -> list[dict[str, Any]]:
    answer = search_raw(suggest_body(prefix, size))
    seen: set[tuple[str, int]] = set()
    suggestions = []
    for option in answer.get("suggest", {}).get("titles", [{}])[0].get("options", []):
        source = option["_source"]
        key = (source["kind"], source["id"])
        if key not in seen:
            seen.add(key)
            suggestions.append(
                {"text": source.get("display", {}).get("title", option["text"]), "type": key[0], "id": key[1]}
            )
    return suggestions


def listing_document(kind: str, listing_id: int) -> dict[str, Any] | None:
    """The stored document of a searchable listing, or None (never indexed, or not public any more)."""
    try:
        answer = _engine(_reads().get, index=alias_name(kind), id=str(listing_id))
    except NotFoundError:
        return None
    source = answer.get("_source", {})
    return source if source.get("live") else None


def similar_run(kind: str, listing_id: int, *, within: list[str], size: int) -> list[dict[str, Any]] | None:
    source = listing_document(kind, listing_id)
    if source is None:
        return None
    kinds = within or ["patent", "achievement"]
    answer = search_raw(similar_body(source, kinds=kinds, size=size))
    return [result_item(hit) for hit in answer["hits"]["hits"]]
