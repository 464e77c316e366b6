"""`run_consumer notify`: decides who must hear of each market fact and writes their notifications in the
handler's transaction (with the inbox row of the event, so a redelivered event changes nothing).

- a newly published listing or demand (or a new public expert profile): subscribers whose saved search,
  followed organization or IPC class matches it (through the subscription index), followers of the listing;
- a listing submitted: the reviewers; published or rejected: the owner organization's members;
- a followed listing updated, withdrawn or closed: its followers who may read it (see `_listing_followers`);
- trading: the owner on a new bid, offer or proposal; the previous top bidder when outbid; the other side of
  an offer; the proposer when shortlisted or accepted; parties and broker on every deal step."""

from collections.abc import Callable, Iterable
from typing import Any

from market.accounts.models import User
from market.catalog.models import Patent
from market.events.catalogue import TOPICS
from services.common.consumer import ConsumerSpec, ReceivedEvent, decode, deduplicate
from services.notify.matching import candidates, listing_facts, matching_subscriptions
from services.notify.models import Subscription, SubscriptionKind
from services.notify.rendering import public_link
from services.notify.selectors import listing_as_seen_by
from services.notify.services.fanout import Recipient, notifications_create

LISTING_KINDS = ("patent", "achievement", "demand", "expert")
TRADING_TOPIC = "market.trading"


def _users(ids: Iterable[int | None]) -> list[User]:
    wanted = {pk for pk in ids if pk}
    return list(User.objects.filter(pk__in=wanted, is_active=True)) if wanted else []


def _members(org_ids: Iterable[int | None], *, except_user: int | None = None) -> list[User]:
    wanted = {pk for pk in org_ids if pk}
    if not wanted:
        return []
    members = User.objects.filter(organization_id__in=wanted, is_active=True)
    return list(members.exclude(pk=except_user) if except_user is not None else members)


def _recipients(users: Iterable[User], **context: Any) -> list[Recipient]:
    return [Recipient(user=user, context=context) for user in users]


def _listing_link(kind: str, listing_id: Any) -> str:
    return public_link(f"/api/v1/{kind}s/{listing_id}/")


def _title(snapshot: dict[str, Any]) -> str:
    return str(snapshot.get("title") or snapshot.get("name") or "")


def _emit(event: ReceivedEvent, kind: str, recipients: list[Recipient], context: dict[str, Any]) -> None:
    notifications_create(
        event_id=event.id, event_type=event.type, kind=kind, recipients=recipients, context=context
    )


# ---- listings -------------------------------------------------------------------------------------------


def _new_listing(event: ReceivedEvent, aggregate: str, context: dict[str, Any]) -> None:
    """A publication (or a public expert profile): its snapshot is public content by definition, so the
    listing's followers, followers of its organization and matching searches hear of it without a further
    visibility check, even when the event is read after the listing was withdrawn again."""
    snapshot = event.data["snapshot"]
    linked = (
        Patent.objects.filter(pk__in=snapshot.get("patent_ids") or []).values_list("ipc_codes", flat=True)
        if aggregate == "achievement"
        else []
    )
    facts = listing_facts(aggregate, snapshot, linked_ipc_codes=[code for codes in linked for code in codes])
    owner_org = event.data.get("owner_org_id")
    followers: list[Recipient] = []
    matched: list[Recipient] = []
    for subscription in matching_subscriptions(facts):
        if subscription.user.organization_id == owner_org and owner_org is not None:
            continue  # nobody needs to hear about their own organization's listing
        name = subscription.name or subscription.params.get("q") or subscription.params.get("ipc") or ""
        recipient = Recipient(
            user=subscription.user, subscription=subscription, context={"subscription_name": name}
        )
        (followers if subscription.kind == SubscriptionKind.LISTING else matched).append(recipient)
    _emit(event, "listing_changed", followers, {**context, "fact": "published"})
    _emit(event, "listing_matched", matched, context)


def _followers(aggregate: str, listing_id: int) -> list[Subscription]:
    return candidates([f"listing:{aggregate}:{listing_id}"], kinds=[SubscriptionKind.LISTING])


def _left_the_public_market(data: dict[str, Any], fact: str) -> bool:
    """Closed (only ever from published) or withdrawn while published: every follower saw it as it was."""
    return fact == "closed" or (fact == "withdrawn" and data.get("previous_status") == "published")


def _listing_followers(event: ReceivedEvent, aggregate: str, fact: str, context: dict[str, Any]) -> None:
    """Tell a followed listing's followers of a change, but never more than its detail endpoint shows them.

    A follower is told when the listing, as they can read it right now (the catalog's selector), is at
    exactly the version the event describes: an edit of a draft or of a withdrawn listing reaches its
    owners, never outsiders, and a late event never carries content that has since been hidden or changed.

    The one exception is a listing leaving the public market: closed, or withdrawn while published. It is
    hidden from then on, yet every follower is told, because they followed it while it was public and
    need to know it is gone, and the event's snapshot is exactly what was public (a published listing
    cannot be edited). A withdrawal from review (pending, never seen outside) follows the general rule."""
    data = event.data
    subscriptions = _followers(aggregate, data["aggregate_id"])
    if not _left_the_public_market(data, fact):
        subscriptions = [
            subscription
            for subscription in subscriptions
            if getattr(
                listing_as_seen_by(user=subscription.user, kind=aggregate, listing_id=data["aggregate_id"]),
                "version",
                None,
            )
            == data["version"]
        ]
    recipients = [
        Recipient(user=subscription.user, subscription=subscription) for subscription in subscriptions
    ]
    _emit(event, "listing_changed", recipients, {**context, "fact": fact})


def handle_listing(event: ReceivedEvent, aggregate: str, fact: str) -> None:
    data = event.data
    snapshot = data.get("snapshot") or {}
    context = {
        "listing_kind": aggregate,
        "listing_id": data["aggregate_id"],
        "title": _title(snapshot),
        "link": _listing_link(aggregate, data["aggregate_id"]),
    }
    owner_org = data.get("owner_org_id")
    if fact == "published":
        _new_listing(event, aggregate, context)
        _emit(event, "listing_reviewed", _recipients(_members([owner_org])), {**context, "fact": fact})
    elif aggregate == "expert" and fact == "created" and snapshot.get("is_public", True):
        _new_listing(event, aggregate, context)
    elif fact == "submitted":
        reviewers = User.objects.filter(is_platform_admin=True, is_active=True)
        review_link = public_link(f"/api/v1/review/{aggregate}s/")
        _emit(event, "review_pending", _recipients(reviewers), {**context, "link": review_link})
    elif fact == "rejected":
        reviewed = {**context, "fact": fact, "reason": data.get("reason", "")}
        _emit(event, "listing_reviewed", _recipients(_members([owner_org])), reviewed)
    elif fact in ("updated", "withdrawn", "closed"):
        _listing_followers(event, aggregate, fact, context)


# ---- trading --------------------------------------------------------------------------------------------


def _trading_context(data: dict[str, Any], fact: str) -> dict[str, Any]:
    kind, listing_id = data.get("listing_kind"), data.get("listing_id")
    link = _listing_link(kind, listing_id) if kind and listing_id else ""
    if "deal_id" in data and fact not in ("placed", "outbid", "made", "countered"):
        link = public_link(f"/api/v1/deals/{data['deal_id']}/")
    return {
        "fact": fact,
        "listing_kind": kind or "",
        "title": str(data.get("listing_title") or data.get("demand_title") or data.get("title") or ""),
        "amount": data.get("amount", ""),
        "link": link,
        **{
            name: data[name]
            for name in ("auction_id", "offer_id", "deal_id", "proposal_id", "stage", "ends_at", "reason")
            if name in data
        },
    }


def _auction(event: ReceivedEvent, fact: str) -> None:
    data = event.data
    context = _trading_context(data, fact)
    if fact == "opened":
        # only followers who can still read the listing (it may have been withdrawn since the auction opened)
        kind, listing_id = data["listing_kind"], data["listing_id"]
        followers = [
            Recipient(user=subscription.user)
            for subscription in _followers(kind, listing_id)
            if listing_as_seen_by(user=subscription.user, kind=kind, listing_id=listing_id) is not None
        ]
        opened = {**context, "starting_price": data.get("starting_price", "")}
        _emit(event, "auction_opened", followers, opened)
        return
    if fact not in ("closed", "failed"):
        return  # registrations and deposits are settled between owner and bidder in the trading views
    recipients = _recipients(_members([data.get("owner_org_id")]))
    if fact == "closed":
        recipients = _recipients(_users([data.get("winner_user_id")]), won=True) + recipients
    _emit(event, "auction_result", recipients, context)


def _bid(event: ReceivedEvent, fact: str) -> None:
    data = event.data
    context = _trading_context(data, fact)
    if fact == "placed":
        owners = _members([data.get("owner_org_id")], except_user=data.get("bidder_user_id"))
        _emit(event, "bid_placed", _recipients(owners), context)
    elif fact == "outbid":
        _emit(event, "outbid", _recipients(_users([data.get("outbid_user_id")])), context)


def _offer(event: ReceivedEvent, fact: str) -> None:
    """To the other side: the owner organization when the buyer acted, else the buyer."""
    data = event.data
    context = {**_trading_context(data, fact), "reason_text": data.get("reason_text", "")}
    actor = data.get("actor_user_id")
    actor_org = (
        User.objects.filter(pk=actor).values_list("organization_id", flat=True).first() if actor else None
    )
    buyer_acted = actor_org is not None and actor_org == data.get("buyer_org_id")
    if actor == data.get("buyer_user_id") or buyer_acted:
        users = _members([data.get("owner_org_id")], except_user=actor)
    else:
        users = _users([data.get("buyer_user_id")])
    _emit(event, "offer", _recipients(users), context)


def _proposal(event: ReceivedEvent, fact: str) -> None:
    data = event.data
    context = {
        **_trading_context(data, fact),
        "listing_kind": "demand",
        "link": _listing_link("demand", data.get("demand_id")),
    }
    if fact == "submitted":
        users = _members([data.get("enterprise_org_id")], except_user=data.get("proposer_user_id"))
    else:
        users = _users([data.get("proposer_user_id")])
    _emit(event, "proposal", _recipients(users), context)


def _deal(event: ReceivedEvent, fact: str) -> None:
    data = event.data
    actor = data.get("actor_user_id")
    users = _members(data.get("party_org_ids") or [], except_user=actor) + [
        user for user in _users([data.get("broker_user_id")]) if user.pk != actor
    ]
    _emit(event, "deal", _recipients(users), _trading_context(data, fact))


TRADING: dict[str, Callable[[ReceivedEvent, str], None]] = {
    "auction": _auction,
    "bid": _bid,
    "offer": _offer,
    "proposal": _proposal,
    "deal": _deal,
}


def notify_handle(event: ReceivedEvent) -> None:
    _market, aggregate, fact, _version = event.type.split(".")
    if aggregate in LISTING_KINDS:
        handle_listing(event, aggregate, fact)
    elif aggregate in TRADING:
        TRADING[aggregate](event, fact)


SPEC = ConsumerSpec(
    name="notify",
    topics=tuple(sorted({TOPICS[kind] for kind in LISTING_KINDS} | {TRADING_TOPIC})),
    steps=(decode, deduplicate(notify_handle)),
)
