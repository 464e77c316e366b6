"""Which subscriptions a listing matches, at a cost that grows with candidates, not with subscriptions.

Every parameter of a saved search is a required condition (they are ANDed), so any one of them is a key every
matching listing must carry. Each subscription is stored under one such anchor key (a query term, else an IPC
prefix, a field, a region, an owner type, its document kinds, or `*` when it has no condition at all) in
`SubscriptionKey`. A new listing computes all the keys it carries (its search-mode words, every prefix of its
IPC symbols, its fields, its three region codes, ...), fetches the subscriptions stored under those keys with
one indexed query, and verifies each candidate exactly against the listing."""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from market.common.chinese import search_words, words
from services.notify.models import Subscription, SubscriptionKey, SubscriptionKind

#: document kinds a saved search can ask for (the `type` parameter of /api/v1/search/)
DOCUMENT_KINDS = ("patent", "achievement", "demand", "expert")
#: words too common to be required terms of a query
STOPWORDS = frozenset(
    {
        "的",
        "了",
        "和",
        "与",
        "及",
        "及其",
        "或",
        "在",
        "是",
        "一种",
        "用于",
        "a",
        "an",
        "the",
        "of",
        "and",
        "or",
    }
)

TEXT_FIELDS: dict[str, tuple[str, ...]] = {
    "patent": ("title", "abstract", "claims_summary", "applicants", "inventors"),
    "achievement": ("name", "keywords", "teaser", "completing_units"),
    "demand": ("title", "description"),
    "expert": ("name", "title", "fields", "bio", "achievements_summary"),
}


def _without_stopwords(tokens: Iterable[str]) -> list[str]:
    """Lowercased, de-duplicated in order, stopwords out (the segmenter already dropped punctuation)."""
    return [token for token in dict.fromkeys(token.lower() for token in tokens) if token not in STOPWORDS]


def query_terms(q: str) -> list[str]:
    """The terms a query requires: its words in precise mode, without stopwords."""
    return _without_stopwords(words(q))


def text_terms(text: str) -> frozenset[str]:
    """The terms a document has: its search-mode words, which add the sub-words of long words, so
    a query for 离子 finds 锂离子."""
    return frozenset(_without_stopwords(search_words(text)))


def ipc_normalize(value: str) -> str:
    """`h01m4/52` → `H01M 4/52`, the form stored IPC symbols have (as the catalog's IPC filter does)."""
    prefix = " ".join(value.upper().split())
    if len(prefix) > 4 and prefix[4] != " ":
        prefix = f"{prefix[:4]} {prefix[4:]}"
    return prefix


def _ipc_prefixes(code: str) -> set[str]:
    code = ipc_normalize(code)
    return {code[:end] for end in range(1, len(code) + 1) if not code[:end].endswith(" ")}


def _decimal(value: Any) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


@dataclass(frozen=True)
class ListingFacts:
    """What matching needs to know about one listing, computed once per event from its public snapshot."""

    kind: str
    id: int
    terms: frozenset[str] = frozenset()
    fields: frozenset[str] = frozenset()
    ipc_codes: tuple[str, ...] = ()
    regions: frozenset[str] = frozenset()
    owner_type: str = ""
    owner_id: int | None = None
    trl: int | None = None
    price: Decimal | None = None
    budget_min: Decimal | None = None
    budget_max: Decimal | None = None
    transfer_modes: frozenset[str] = frozenset()
    legal_status: str = ""
    keys: frozenset[str] = field(default=frozenset(), compare=False)

    def with_keys(self) -> "ListingFacts":
        keys = {"*", f"type:{self.kind}", f"listing:{self.kind}:{self.id}", f"owner_type:{self.owner_type}"}
        keys |= {f"t:{term}" for term in self.terms}
        keys |= {f"field:{name}" for name in self.fields}
        keys |= {f"region:{code}" for code in self.regions}
        keys |= {f"ipc:{prefix}" for code in self.ipc_codes for prefix in _ipc_prefixes(code)}
        if self.owner_id is not None:
            keys.add(f"org:{self.owner_id}")
        return ListingFacts(**{**self.__dict__, "keys": frozenset(keys)})


def listing_facts(
    kind: str, snapshot: dict[str, Any], *, linked_ipc_codes: Iterable[str] = ()
) -> ListingFacts:
    """Facts of a listing from its event snapshot. Achievements are classified through their linked patents,
    whose IPC symbols the caller passes in."""
    text_parts: list[str] = []
    for name in TEXT_FIELDS[kind]:
        value = snapshot.get(name)
        if isinstance(value, list):
            text_parts.extend(str(item) for item in value)
        elif value:
            text_parts.append(str(value))
    owner = snapshot.get("owner") or {}
    if kind == "expert":
        fields = frozenset(snapshot.get("fields") or ())
    else:
        fields = frozenset([snapshot["field"]]) if snapshot.get("field") else frozenset()
    ipc_codes = tuple(snapshot.get("ipc_codes") or snapshot.get("ipc_hints") or linked_ipc_codes)
    regions = frozenset(
        code
        for code in (owner.get("province_code"), owner.get("city_code"), owner.get("county_code"))
        if code
    )
    return ListingFacts(
        kind=kind,
        id=int(snapshot.get("id") or 0),
        terms=text_terms(" ".join(text_parts)),
        fields=fields,
        ipc_codes=tuple(ipc_normalize(code) for code in ipc_codes),
        regions=regions,
        owner_type=owner.get("org_type") or "",
        owner_id=owner.get("id"),
        trl=snapshot.get("trl"),
        price=_decimal(snapshot.get("price")),
        budget_min=_decimal(snapshot.get("budget_min")),
        budget_max=_decimal(snapshot.get("budget_max")),
        transfer_modes=frozenset(snapshot.get("transfer_modes") or ()),
        legal_status=snapshot.get("legal_status") or "",
    ).with_keys()


def search_types(params: dict[str, Any]) -> list[str]:
    value = params.get("type") or ""
    return [kind for kind in str(value).split(",") if kind]


def subscription_keys(
    *, kind: str, params: dict[str, Any], target_kind: str, target_id: int | None
) -> list[str]:
    """The anchor keys a subscription is stored under: a listing that lacks all of them cannot match it."""
    if kind == SubscriptionKind.LISTING:
        return [f"listing:{target_kind}:{target_id}"]
    if kind == SubscriptionKind.ORGANIZATION:
        return [f"org:{target_id}"]
    if kind == SubscriptionKind.IPC:
        return [f"ipc:{ipc_normalize(params['ipc'])}"]
    terms = query_terms(params.get("q") or "")
    if terms:
        return [f"t:{max(terms, key=len)}"]  # the longest word is usually the rarest
    if params.get("ipc"):
        return [f"ipc:{ipc_normalize(params['ipc'])}"]
    if params.get("field"):
        return [f"field:{params['field']}"]
    if params.get("region"):
        return [f"region:{params['region']}"]
    if params.get("owner_type"):
        return [f"owner_type:{params['owner_type']}"]
    types = search_types(params)
    if types:
        return [f"type:{kind}" for kind in types]
    return ["*"]


def _price_matches(params: dict[str, Any], facts: ListingFacts) -> bool:
    low, high = _decimal(params.get("price_min")), _decimal(params.get("price_max"))
    if low is None and high is None:
        return True
    if facts.kind == "demand":  # a budget range overlaps the wanted price range (as the demand filter does)
        return (low is None or (facts.budget_max is not None and facts.budget_max >= low)) and (
            high is None or (facts.budget_min is not None and facts.budget_min <= high)
        )
    if facts.price is None:
        return False
    return (low is None or facts.price >= low) and (high is None or facts.price <= high)


def search_matches(params: dict[str, Any], facts: ListingFacts) -> bool:
    """Exact verification of saved-search parameters against a listing (all conditions must hold)."""
    types = search_types(params)
    if types and facts.kind not in types:
        return False
    if not all(term in facts.terms for term in query_terms(params.get("q") or "")):
        return False
    if params.get("ipc"):
        prefix = ipc_normalize(params["ipc"])
        if not any(code.startswith(prefix) for code in facts.ipc_codes):
            return False
    if params.get("field") and params["field"] not in facts.fields:
        return False
    if params.get("region") and params["region"] not in facts.regions:
        return False
    if params.get("owner_type") and params["owner_type"] != facts.owner_type:
        return False
    trl_min, trl_max = params.get("trl_min"), params.get("trl_max")
    if (trl_min is not None or trl_max is not None) and (
        facts.trl is None
        or (trl_min is not None and facts.trl < int(trl_min))
        or (trl_max is not None and facts.trl > int(trl_max))
    ):
        return False
    if params.get("transfer_mode") and params["transfer_mode"] not in facts.transfer_modes:
        return False
    if params.get("legal_status") and params["legal_status"] != facts.legal_status:
        return False
    return _price_matches(params, facts)


def subscription_matches(subscription: Subscription, facts: ListingFacts) -> bool:
    if subscription.kind == SubscriptionKind.LISTING:
        return subscription.target_kind == facts.kind and subscription.target_id == facts.id
    if subscription.kind == SubscriptionKind.ORGANIZATION:
        return facts.owner_id is not None and subscription.target_id == facts.owner_id
    return search_matches(subscription.params, facts)


def candidates(
    keys: Iterable[str], *, kinds: Iterable[str] | None = None, existed_at: datetime | None = None
) -> list[Subscription]:
    """Active subscriptions stored under any of `keys`: one query through the key index. With `existed_at`
    (when the fact happened: the event's own time, never when it is handled), only those created by then: a
    subscription hears of what happens after it was made, however long the consumer took to get there (a
    backlog at start-up sent a new subscriber every sample listing published before it subscribed)."""
    queryset = Subscription.objects.filter(
        is_active=True,
        pk__in=SubscriptionKey.objects.filter(key__in=list(keys)).values("subscription_id"),
    ).select_related("user")
    if kinds is not None:
        queryset = queryset.filter(kind__in=list(kinds))
    if existed_at is not None:
        queryset = queryset.filter(created_at__lte=existed_at)
    return list(queryset)


def matching_subscriptions(
    facts: ListingFacts, *, kinds: Iterable[str] | None = None, existed_at: datetime | None = None
) -> list[Subscription]:
    return [
        sub
        for sub in candidates(facts.keys, kinds=kinds, existed_at=existed_at)
        if subscription_matches(sub, facts)
    ]


def earlier_matches_search(subscription: Subscription) -> dict[str, Any] | None:
    """The search (parameters of /api/v1/search/) for what the subscription would have matched before it was
    created, which it never notifies: newest first, published up to its creation. None for a followed
    listing, which has nothing earlier to match."""
    if subscription.kind == SubscriptionKind.LISTING:
        return None
    if subscription.kind == SubscriptionKind.ORGANIZATION:
        criteria: dict[str, Any] = {"owner": subscription.target_id}
    else:  # a saved search keeps search parameters, and a followed IPC class is one of them
        criteria = dict(subscription.params)
    published_before = subscription.created_at.astimezone(UTC).isoformat()
    return {**criteria, "published_before": published_before, "sort": "newest"}
