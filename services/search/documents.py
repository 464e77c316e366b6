"""From a listing's public snapshot (what events carry, see market/catalog/snapshots.py) to its search
document. The indexer and the reindex both build documents here, from the same snapshot, so a document is
identical whichever path wrote it. Snapshots never hold confidential fields, so documents cannot either."""

from dataclasses import fields
from functools import cache
from typing import Any

from market.catalog.snapshots import (
    AchievementSnapshot,
    DemandSnapshot,
    ExpertSnapshot,
    PatentSnapshot,
    PublicSnapshot,
    ReviewedSnapshot,
)
from market.common.chinese import segment, words
from market.events.snapshots import ListingSnapshot, listing_snapshot_class
from services.search.indexes import alias_name

#: event status that makes a document searchable (experts: "published" while the profile is public)
SEARCHABLE_STATUS = "published"
#: display fields copied into results (everything else stays in the index only)
SUMMARY_CHARS = 240
#: what results show of a listing's owner (an anonymous demand's has no id and name)
DISPLAYED_OWNER = ("id", "name", "org_type", "province_code")
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


@cache
def _field_names(kind: str) -> frozenset[str]:
    return frozenset(field.name for field in fields(listing_snapshot_class(kind)))


def _parts(snapshot: PublicSnapshot) -> dict[str, Any]:
    """The kind-specific pieces: body, keywords, people, facets."""
    match snapshot:
        case PatentSnapshot():
            return {
                "body": "\n".join(filter(None, (snapshot.abstract, snapshot.claims_summary))),
                "keywords": [],
                "people": [*snapshot.applicants, *snapshot.inventors],
                "field": [snapshot.field] if snapshot.field else [],
                **_ipc(snapshot.ipc_codes),
                "patent_type": snapshot.patent_type,
                "legal_status": snapshot.legal_status,
                "price": _money(snapshot.price),
                "filing_date": snapshot.filing_date,
            }
        case AchievementSnapshot():
            return {
                "body": snapshot.teaser,
                "keywords": snapshot.keywords,
                "people": snapshot.completing_units,
                "field": [snapshot.field] if snapshot.field else [],
                "trl": snapshot.trl,
                "stage": snapshot.stage,
                "transfer_modes": snapshot.transfer_modes,
                "pricing_method": snapshot.pricing_method,
                "price": _money(snapshot.price),
            }
        case DemandSnapshot():
            return {
                "body": snapshot.description,
                "keywords": [],
                "people": [],
                "field": [snapshot.field] if snapshot.field else [],
                **_ipc(snapshot.ipc_hints),
                "collaboration_mode": snapshot.collaboration_mode,
                # what the enterprise offers to pay at most
                "price": _money(snapshot.budget_max),
                "deadline": snapshot.deadline,
            }
        case ExpertSnapshot():
            return {
                "body": "\n".join(
                    filter(None, (snapshot.title, snapshot.bio, snapshot.achievements_summary))
                ),
                "keywords": snapshot.fields,
                "people": [],
                "field": snapshot.fields,
            }
    raise TypeError(f"no search document for a {type(snapshot).__name__}")


def document_build(snapshot: ListingSnapshot) -> dict[str, Any]:
    """The searchable document of a published listing."""
    if not isinstance(snapshot, PublicSnapshot):
        raise TypeError(f"no search document for a {type(snapshot).__name__}")
    parts = _parts(snapshot)
    owner = snapshot.owner
    kind, title, body, keywords = snapshot.aggregate, snapshot.heading, parts["body"], parts["keywords"]
    published_at, synthetic = (
        (snapshot.published_at, snapshot.synthetic_fields)
        if isinstance(snapshot, ReviewedSnapshot)
        else (None, [])
    )
    document = {
        "uid": f"{kind}:{snapshot.id}",
        "kind": kind,
        "id": snapshot.id,
        "live": True,
        "status": SEARCHABLE_STATUS,
        "title": title,
        **parts,
        "title_seg": segment(title),
        "body_seg": segment(body),
        "suggest": _suggest(title, keywords),
        "province": owner.province_code or None,
        "city": owner.city_code or None,
        "county": owner.county_code or None,
        "owner_type": owner.org_type,
        "owner_id": owner.id,
        "owner_name": owner.name,
        "published_at": published_at or snapshot.created_at,
    }
    document["display"] = {
        "title": title,
        "summary": body[:SUMMARY_CHARS],
        "keywords": keywords,
        "owner": {key: value for key in DISPLAYED_OWNER if (value := getattr(owner, key)) is not None},
        # the importer's note of generated fields, limited to fields the public sees
        "synthetic_fields": [name for name in synthetic if name in _field_names(kind)],
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


def action_build(kind: str, aggregate_id: int, version: int, status: str, snapshot: ListingSnapshot) -> dict:
    """One bulk `index` action with the aggregate version as external version: Elasticsearch itself
    refuses anything not newer than what it holds, so replays and late duplicates change nothing."""
    source = (
        document_build(snapshot)
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
