"""From a listing's public snapshot (what events carry, see market/catalog/snapshots.py) to its search
document. The indexer and the reindex both build documents here, from the same snapshot, so a document is
identical whichever path wrote it. Snapshots never hold confidential fields, so documents cannot either."""

from typing import Any

from market.common.chinese import segment, words
from services.search.indexes import alias_name

#: event status that makes a document searchable (experts: "published" while the profile is public)
SEARCHABLE_STATUS = "published"
#: display fields copied into results (everything else stays in the index only)
SUMMARY_CHARS = 240
#: suggestion inputs per document: the title, then the title from each later word on, then keywords
SUGGEST_INPUTS = 10


def _ipc(codes: list[str]) -> dict[str, list[str]]:
    """`H01M 4/525` → subclass `H01M`, main group `H01M 4/00`, code itself; a bare subclass stays one."""
    subclasses: dict[str, None] = {}
    groups: dict[str, None] = {}
    for code in codes:
        subclasses.setdefault(code[:4], None)
        if " " in code and "/" in code:
            groups.setdefault(code.split("/", 1)[0] + "/00", None)
    return {"ipc_subclasses": list(subclasses), "ipc_groups": list(groups), "ipc_codes": list(codes)}


def _money(value: str | None) -> float | None:
    return float(value) if value else None


def _suggest(title: str, keywords: list[str]) -> dict[str, Any]:
    tokens = words(title)
    inputs = [title]
    # "一种锂离子电池…" is found by typing 锂离子 or 电池: suffixes that start at a word boundary
    for position in range(1, len(tokens)):
        if len(inputs) >= SUGGEST_INPUTS:
            break
        if len(tokens[position]) >= 2:  # not from a particle such as 的 or 及
            inputs.append("".join(tokens[position:]))
    inputs.extend(keyword for keyword in keywords[:4] if keyword)
    return {"input": list(dict.fromkeys(inputs))}


def _parts(kind: str, snapshot: dict[str, Any]) -> dict[str, Any]:
    """The kind-specific pieces: title, body, keywords, people, facets."""
    if kind == "patent":
        return {
            "title": snapshot.get("title") or "",
            "body": "\n".join(filter(None, (snapshot.get("abstract"), snapshot.get("claims_summary")))),
            "keywords": [],
            "people": [*snapshot.get("applicants", []), *snapshot.get("inventors", [])],
            "field": [snapshot["field"]] if snapshot.get("field") else [],
            **_ipc(snapshot.get("ipc_codes") or []),
            "patent_type": snapshot.get("patent_type"),
            "legal_status": snapshot.get("legal_status"),
            "price": _money(snapshot.get("price")),
            "filing_date": snapshot.get("filing_date"),
        }
    if kind == "achievement":
        return {
            "title": snapshot.get("name") or "",
            "body": snapshot.get("teaser") or "",
            "keywords": snapshot.get("keywords") or [],
            "people": snapshot.get("completing_units") or [],
            "field": [snapshot["field"]] if snapshot.get("field") else [],
            "trl": snapshot.get("trl"),
            "stage": snapshot.get("stage"),
            "transfer_modes": snapshot.get("transfer_modes") or [],
            "pricing_method": snapshot.get("pricing_method"),
            "price": _money(snapshot.get("price")),
        }
    if kind == "demand":
        return {
            "title": snapshot.get("title") or "",
            "body": snapshot.get("description") or "",
            "keywords": [],
            "people": [],
            "field": [snapshot["field"]] if snapshot.get("field") else [],
            **_ipc(snapshot.get("ipc_hints") or []),
            "collaboration_mode": snapshot.get("collaboration_mode"),
            # what the enterprise offers to pay at most
            "price": _money(snapshot.get("budget_max")),
            "deadline": snapshot.get("deadline"),
        }
    return {  # expert
        "title": snapshot.get("name") or "",
        "body": "\n".join(
            filter(None, (snapshot.get("title"), snapshot.get("bio"), snapshot.get("achievements_summary")))
        ),
        "keywords": snapshot.get("fields") or [],
        "people": [],
        "field": snapshot.get("fields") or [],
    }


def document_build(kind: str, snapshot: dict[str, Any]) -> dict[str, Any]:
    """The searchable document of a published listing."""
    parts = _parts(kind, snapshot)
    owner = snapshot.get("owner") or {}
    title, body, keywords = parts["title"], parts["body"], parts["keywords"]
    document = {
        "uid": f"{kind}:{snapshot['id']}",
        "kind": kind,
        "id": snapshot["id"],
        "live": True,
        "status": SEARCHABLE_STATUS,
        **parts,
        "title_seg": segment(title),
        "body_seg": segment(body),
        "suggest": _suggest(title, keywords),
        "province": owner.get("province_code") or None,
        "city": owner.get("city_code") or None,
        "county": owner.get("county_code") or None,
        "owner_type": owner.get("org_type"),
        "owner_id": owner.get("id"),
        "owner_name": owner.get("name"),
        "published_at": snapshot.get("published_at") or snapshot.get("created_at"),
    }
    document["display"] = {
        "title": title,
        "summary": body[:SUMMARY_CHARS],
        "keywords": keywords,
        "owner": {key: owner.get(key) for key in ("id", "name", "org_type", "province_code") if key in owner},
        # the importer's note of generated fields, limited to fields the public sees
        "synthetic_fields": [name for name in snapshot.get("synthetic_fields") or [] if name in snapshot],
    }
    return {key: value for key, value in document.items() if value not in (None, [], "")}


def tombstone_build(kind: str, aggregate_id: int, status: str) -> dict[str, Any]:
    """What stays of a listing that left the public: its identity and version, nothing searchable. A
    versioned document rather than a delete, because Elasticsearch forgets deleted versions after
    `index.gc_deletes` (60 s) and the stand-in at once: an older event could then bring the listing back."""
    return {
        "uid": f"{kind}:{aggregate_id}",
        "kind": kind,
        "id": aggregate_id,
        "live": False,
        "status": status,
    }


def action_build(kind: str, aggregate_id: int, version: int, status: str, snapshot: dict[str, Any]) -> dict:
    """One bulk `index` action with the aggregate version as external version: Elasticsearch itself
    refuses anything not newer than what it holds, so replays and late duplicates change nothing."""
    source = (
        document_build(kind, snapshot)
        if status == SEARCHABLE_STATUS
        else tombstone_build(kind, aggregate_id, status)
    )
    return {
        "_op_type": "index",
        "_index": alias_name(kind),
        "_id": str(aggregate_id),
        "version": version,
        "version_type": "external",
        "_source": source,
    }
