"""The search indexer (`manage.py run_consumer search`): listing events → documents → bulk requests.

Its steps: decode → batch(BULK_CHUNK) → build the documents → bulk request in a thread. The bulk step's thread
sends one batch while the runner's thread builds the next batch's documents (jieba segmentation is CPU work),
also across polls: the engine and the segmentation overlap all the time, not only inside one poll. Up to two
batches wait for the thread, so the next request starts the moment one ends.

- The aggregate version is the external version: Elasticsearch refuses anything not newer than what it holds
  (409), which here means "already indexed or superseded" and counts as done. Replays and out-of-order
  duplicates therefore never overwrite newer data, and no inbox rows are needed.
- A listing that is not published any more becomes a versioned tombstone (see documents.tombstone_build).
- Offsets are committed only after the bulk request of the records' batch succeeded, and batches are sent
  and committed strictly in order (one thread), so pipelining never commits past a record that is not in
  the index. The engine unreachable, timing out, overloaded (429) or failing (5xx), in the whole request or
  in an item, is a dependency outage (`transient_errors`): the batch is retried (idempotently) until the
  engine is back, the batches behind it wait (back-pressure), and nothing is dead-lettered. A document the
  engine refuses as malformed (HTTP 400) can never succeed: that event is dead-lettered; any other error is
  the step's, which the kit narrows down to the record by splitting the batch."""

import logging
from collections.abc import Iterable, Iterator
from typing import Any

from django.conf import settings
from elastic_transport import ConnectionError, ConnectionTimeout, ObjectApiResponse
from elasticsearch import ApiError

from market.events.catalogue import TOPICS, Event, ListingFact
from services.common.consumer import ConsumerSpec, PermanentError, ReceivedEvent, decode
from services.common.steps import Message, Messages, batch, run_task, run_task_in_thread
from services.search.documents import action_build
from services.search.indexes import KINDS, client, indexes_ensure

logger = logging.getLogger(__name__)

#: actions per bulk request
BULK_CHUNK = 500


class EngineUnavailable(Exception):
    """The engine failed for a reason that passes (overload, restarting): a dependency outage, not the data's
    fault."""


def listing_event_action(event: Event) -> dict[str, Any] | None:
    """The bulk action for one event, or None when the event does not concern search."""
    if not isinstance(event, ListingFact) or event.aggregate not in KINDS:
        return None
    return action_build(event.aggregate, event.aggregate_id, event.version, event.status, event.snapshot)


def _bulk_body(actions: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    body: list[dict[str, Any]] = []
    for action in actions:
        meta = {
            "_index": action["_index"],
            "_id": action["_id"],
            "version": action["version"],
            "version_type": action["version_type"],
        }
        body += [{action["_op_type"]: meta}, action["_source"]]
    return body


def _item_failures(response: ObjectApiResponse, owners: list[Any]) -> Iterator[tuple[Any, int, Any]]:
    """(owner, status, error) of every item that failed for a reason other than an older/equal version."""
    if not response.get("errors"):
        return
    for owner, item in zip(owners, response["items"], strict=True):
        result = next(iter(item.values()))
        status = result.get("status", 500)
        if status >= 300 and status != 409:
            yield owner, status, result.get("error")


def bulk_send(
    actions: list[dict[str, Any]], owners: list[Any], *, require_alias: bool = True
) -> list[tuple[Any, Exception]]:
    """Send actions in chunks; returns the owners of items refused for good (HTTP 400) and raises
    EngineUnavailable for anything that may pass. Writes go through aliases (`require_alias`), so a missing
    alias is an error to retry rather than a stray index the engine would create with guessed mappings."""
    refused: list[tuple[Any, Exception]] = []
    for start in range(0, len(actions), BULK_CHUNK):
        chunk, chunk_owners = actions[start : start + BULK_CHUNK], owners[start : start + BULK_CHUNK]
        response = client().bulk(operations=_bulk_body(chunk), refresh=False, require_alias=require_alias)
        for owner, status, error in _item_failures(response, chunk_owners):
            if status == 400:
                refused.append((owner, PermanentError(f"document refused by the engine: {error}")))
            else:
                raise EngineUnavailable(f"bulk item failed with HTTP {status}: {error}")
    return refused


def document_action(message: Message[ReceivedEvent]) -> Message[dict[str, Any] | None]:
    """The build step: an event's bulk action (None: the event does not concern search). Segmentation with
    jieba is CPU work; it runs on the runner's thread while the bulk step's thread waits for the engine."""
    return message.replace(listing_event_action(message.value.event))


class Indexer:
    """The bulk step: one batch's actions as one bulk request."""

    def __init__(self) -> None:
        self._ready_for: str | None = None

    def bulk(self, messages: Messages) -> Messages:
        """Send the batch's actions; a message whose document the engine refuses for good (HTTP 400) is
        refused. The index aliases are checked once per engine, and again after any failure."""
        target = f"{settings.ELASTICSEARCH_URL} {settings.SEARCH_INDEX_PREFIX}"
        indexed = [message for message in messages if message.value is not None]
        try:
            if self._ready_for != target:
                indexes_ensure()
                self._ready_for = target
            refused = dict(bulk_send([message.value for message in indexed], indexed)) if indexed else {}
        except Exception as error:
            self._ready_for = None  # the aliases may be gone (a fresh cluster): check again on the retry
            if isinstance(error, ApiError) and (error.status_code == 429 or error.status_code >= 500):
                raise EngineUnavailable(f"the engine answered HTTP {error.status_code}") from error
            raise
        return [message.refuse(refused[message]) if message in refused else message for message in messages]


INDEXER = Indexer()
SPEC = ConsumerSpec(
    name="search",
    topics=tuple(TOPICS[kind] for kind in KINDS),
    steps=(decode, batch(BULK_CHUNK), run_task(document_action), run_task_in_thread(INDEXER.bulk)),
    max_poll_records=2000,
    transient_errors=(EngineUnavailable, ConnectionError, ConnectionTimeout),
)
