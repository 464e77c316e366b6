"""The stats consumer (`manage.py run_consumer stats`): deal facts → rollups; publications, proposals and
auction outcomes → activity counts.

Its steps: decode → batch(BATCH) → apply the batch in one transaction. It needs no inbox: a deal's figures
move only on a newer version of the deal (a replay, or a fact older than what was applied, changes nothing),
and an activity is counted once per object (`Counted`). Every deal fact carries the deal's whole profile, so
the figures never wait for another aggregate's events, whatever order topics are read in. A batch that fails
is split by the kit until the failing record is found and dead-lettered; the rest is applied."""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db import connection, transaction
from django.utils import timezone

from market.catalog.snapshots import PublicSnapshot
from market.events.catalogue import (
    TOPICS,
    AuctionClosed,
    AuctionFailed,
    DealFact,
    ListingPublished,
    ProposalSubmitted,
)
from services.common.consumer import ConsumerSpec, ReceivedEvent, decode
from services.common.steps import Messages, batch, run_task_in_thread
from services.stats.models import Activity, ActivityCount, Counted, Position
from services.stats.rollups import (
    DealFigures,
    RollupDelta,
    contributions_read,
    contributions_write,
    figures_of,
    rollups_apply,
)

CONSUMER = "stats"
#: records applied in one transaction
BATCH = 500


@dataclass(frozen=True)
class Occurrence:
    """Something counted once per object on the day it happened."""

    activity: str
    object_id: int
    day: str
    org_type: str


def occurrence_of(received: ReceivedEvent) -> Occurrence | None:
    """What the event counts as, if anything (most events, deal facts among them, count as nothing here)."""
    event = received.event
    match event:
        case ListingPublished():
            owner = event.snapshot.owner if isinstance(event.snapshot, PublicSnapshot) else None
            counted = (f"{event.aggregate}_published", event.aggregate_id, owner.org_type if owner else "")
        case ProposalSubmitted():
            counted = (Activity.PROPOSAL_SUBMITTED, event.proposal_id, "")
        case AuctionClosed():
            counted = (Activity.AUCTION_WON, event.auction_id, "")
        case AuctionFailed():
            counted = (Activity.AUCTION_FAILED, event.auction_id, "")
        case _:
            return None
    activity, object_id, org_type = counted
    day = timezone.localdate(received.time or timezone.now()).isoformat()
    return Occurrence(activity, object_id, day, org_type)


_COUNT_ONCE = f"""
INSERT INTO {Counted._meta.db_table} (activity, object_id) SELECT * FROM unnest(%s::text[], %s::bigint[])
ON CONFLICT DO NOTHING RETURNING activity, object_id
"""
_ACTIVITY_UPSERT = f"""
INSERT INTO {ActivityCount._meta.db_table} (day, activity, org_type, count)
SELECT * FROM unnest(%s::date[], %s::text[], %s::text[], %s::bigint[])
ON CONFLICT (activity, day, org_type)
DO UPDATE SET count = {ActivityCount._meta.db_table}.count + excluded.count
"""
_POSITION = f"""
INSERT INTO {Position._meta.db_table} (consumer, current_to, updated_at) VALUES (%s, %s, now())
ON CONFLICT (consumer) DO UPDATE SET
current_to = greatest({Position._meta.db_table}.current_to, excluded.current_to), updated_at = now()
"""


def activities_count(occurrences: list[Occurrence]) -> None:
    """Count each occurrence whose object was not counted under its activity before."""
    if not occurrences:
        return
    with connection.cursor() as cursor:
        cursor.execute(_COUNT_ONCE, [[o.activity for o in occurrences], [o.object_id for o in occurrences]])
        first = set(cursor.fetchall())
        counts: dict[tuple[str, str, str], int] = {}
        for o in occurrences:
            if (o.activity, o.object_id) in first:
                first.discard((o.activity, o.object_id))
                key = (o.day, o.activity, o.org_type)
                counts[key] = counts.get(key, 0) + 1
        if counts:
            rows = sorted(counts.items())
            cursor.execute(
                _ACTIVITY_UPSERT,
                [
                    [k[0] for k, _ in rows],
                    [k[1] for k, _ in rows],
                    [k[2] for k, _ in rows],
                    [n for _, n in rows],
                ],
            )


def deals_apply(facts: list[DealFact]) -> int:
    """Move each deal to the figures of its newest fact in the list, if newer than what it counts with."""
    if not facts:
        return 0
    current: dict[int, DealFigures] = contributions_read({fact.deal_id for fact in facts})
    delta = RollupDelta()
    changed: dict[int, DealFigures] = {}
    for fact in facts:
        old = current.get(fact.deal_id)
        if old is not None and fact.version <= old.version:
            continue
        new = figures_of(
            deal_id=fact.deal_id,
            version=fact.version,
            stage=fact.stage,
            amount=Decimal(fact.amount),
            profile=fact.profile,
        )
        delta.change(old, new)
        current[fact.deal_id] = changed[fact.deal_id] = new
    contributions_write(changed[deal_id] for deal_id in sorted(changed))
    return rollups_apply(delta)


def position_advance(moment: datetime) -> None:
    with connection.cursor() as cursor:
        cursor.execute(_POSITION, [CONSUMER, moment])


def events_apply(received: list[ReceivedEvent]) -> None:
    """Apply events in one transaction (all of them, or nothing to retry), in the order given."""
    with transaction.atomic():
        deals_apply([item.event for item in received if isinstance(item.event, DealFact)])
        activities_count([o for item in received if (o := occurrence_of(item)) is not None])
        times = [item.time for item in received if item.time is not None]
        if times:
            position_advance(max(times))


def stats_apply(messages: Messages) -> Messages:
    events_apply([message.value for message in messages])
    return messages


SPEC = ConsumerSpec(
    name=CONSUMER,
    topics=tuple(sorted({TOPICS[name] for name in ("patent", "achievement", "demand", "expert", "deal")})),
    steps=(decode, batch(BATCH), run_task_in_thread(stats_apply, max_pending=1)),
)
