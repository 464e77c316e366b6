"""The event stream as a public contract: an AsyncAPI 3.0 document built from the catalogue and the committed
schema snapshots, so a subscriber (a provincial market, a university's own system) needs nothing else.

Channels are the Kafka topics, messages the event types (payload = the type's latest snapshot, which is what
the compatibility test holds the code to), headers the CloudEvents binary-mode headers the relay writes.
Only the type registry, the topic map and the snapshot files are read, so reshaping the event classes leaves
this module alone."""

import inspect
import json
from functools import cache
from typing import Any

import yaml

from market.events.catalogue import EVENT_TYPES, TOPICS, Event
from market.events.schemas import stored_snapshots

ASYNCAPI_VERSION = "3.0.0"
#: served and written formats -> media type
FORMATS: dict[str, str] = {"json": "application/json", "yaml": "application/yaml"}
_KAFKA_BINDING = "0.5.0"

_CONTRACT = """\
Every fact the market's core announces, as CloudEvents 1.0 in the Kafka protocol binding's binary mode:
the CloudEvents attributes travel as `ce_*` headers, the value is the JSON payload, the key names the
aggregate.

- **Order**: one topic per family of aggregates; the key is `<aggregate>:<id>` (bids are keyed by their
  auction), so all events of one key land on one partition and arrive in the order they happened. There is
  no order across keys or topics.
- **At least once**: an event can arrive more than once (relay retries, re-sends after a broker lost
  records). Be idempotent: remember the `ce_id` of each event you handled, or keep the payload's `version`
  (the aggregate's version, growing with every change of that aggregate) and ignore anything not newer.
- **Versions**: a type is named `market.<aggregate>.<fact>.v<major>`. Within a major, changes only add
  fields, so every payload validates against every earlier schema version of its type: a subscriber built
  on an older schema keeps working (ignore fields you do not know). A breaking change is a new type
  (`.v2`), published beside the old one for a transition period.
- **Dead letters**: beside each topic, `<topic>.dlq` holds the records one of the market's own consumers
  could not handle. It is internal, not part of this contract: keep a dead-letter topic of your own the
  same way, park the record there and go on, rather than stop the partition.
"""

_HEADERS: dict[str, Any] = {
    "type": "object",
    "description": "CloudEvents 1.0 attributes, Kafka binary mode (header values are UTF-8 strings).",
    "properties": {
        "ce_specversion": {"const": "1.0"},
        "ce_id": {
            "type": "string",
            "format": "uuid",
            "description": "Unique per event and kept when the same event is sent again: de-duplicate on it.",
        },
        "ce_source": {"type": "string", "format": "uri-reference", "examples": ["/market/core"]},
        "ce_type": {"type": "string", "description": "The event type, the message's name."},
        "ce_time": {"type": "string", "format": "date-time", "description": "When the fact was recorded."},
        "content-type": {"const": "application/json"},
    },
    "required": ["ce_specversion", "ce_id", "ce_source", "ce_type", "ce_time", "content-type"],
}

#: a template: the address is the operator's to give, never written here
_SERVERS: dict[str, Any] = {
    "kafka": {
        "host": "{host}",
        "protocol": "kafka",
        "description": "The market's Kafka cluster: its operator gives you the address and credentials.",
        "variables": {"host": {"description": "A bootstrap server, host:port.", "examples": ["kafka:9092"]}},
    }
}

_KEY: dict[str, Any] = {
    "type": "string",
    "pattern": "^[a-z_]+:[0-9]+$",
    "description": "`<aggregate>:<id>`: one aggregate's events share a partition and keep their order.",
    "examples": ["patent:42", "auction:7"],
}


def event_type_topic(event_type: str) -> str:
    """The topic of a type, chosen by its aggregate (`market.<aggregate>.<fact>.v<major>`)."""
    return TOPICS[event_type.split(".")[1]]


def _channel_id(topic: str) -> str:
    return topic.removeprefix("market.")


def _summary(event_class: type[Event]) -> str | None:
    """The first paragraph of the nearest docstring written for a payload class (dataclass puts its
    signature in `__doc__` when a class has none; the base `Event` speaks to us, not to subscribers)."""
    for klass in event_class.__mro__:
        if klass is Event:
            return None
        doc = klass.__dict__.get("__doc__")
        if doc and not doc.startswith(f"{klass.__name__}("):
            return " ".join(inspect.cleandoc(doc).split("\n\n")[0].split())
    return None


def _message(event_type: str) -> dict[str, Any]:
    event_class = EVENT_TYPES[event_type]
    history = stored_snapshots(event_type)
    _, aggregate, fact, major = event_type.split(".")
    message: dict[str, Any] = {
        "name": event_type,
        "title": f"{aggregate.capitalize()} {fact.replace('_', ' ')} ({major})",
        "summary": _summary(event_class),
        "description": f"Payload schema version {len(history)}."
        + (f" Payloads also validate against versions 1–{len(history) - 1}." if len(history) > 1 else ""),
        "headers": {
            "allOf": [
                {"$ref": "#/components/schemas/CloudEventHeaders"},
                {"properties": {"ce_type": {"const": event_type}}},
            ]
        },
        "payload": history[-1],
        "bindings": {
            "kafka": {"key": {"$ref": "#/components/schemas/AggregateKey"}, "bindingVersion": _KAFKA_BINDING}
        },
    }
    return {name: value for name, value in message.items() if value is not None}


@cache
def asyncapi_document() -> dict[str, Any]:
    """The whole document; it depends on the code and the committed snapshots only, so it is built once."""
    by_topic: dict[str, list[str]] = {}
    for event_type in sorted(EVENT_TYPES):
        by_topic.setdefault(event_type_topic(event_type), []).append(event_type)
    channels = {
        _channel_id(topic): {
            "address": topic,
            "title": topic,
            "description": "The events of "
            + ", ".join(f"`{aggregate}`" for aggregate in sorted({name.split(".")[1] for name in types}))
            + ", keyed by aggregate.",
            "messages": {name: {"$ref": f"#/components/messages/{name}"} for name in types},
        }
        for topic, types in sorted(by_topic.items())
    }
    operations = {
        f"receive_{channel_id}": {
            "action": "receive",
            "channel": {"$ref": f"#/channels/{channel_id}"},
            "summary": f"Subscribe to {channel['address']}.",
            "messages": [
                {"$ref": f"#/channels/{channel_id}/messages/{name}"} for name in channel["messages"]
            ],
        }
        for channel_id, channel in channels.items()
    }
    return {
        "asyncapi": ASYNCAPI_VERSION,
        "info": {
            "title": "网上技术市场 3.0 events",
            # grows by one with every schema version published: a new type or an additive change
            "version": f"1.{sum(len(stored_snapshots(name)) for name in EVENT_TYPES)}.0",
            "description": _CONTRACT,
        },
        "defaultContentType": "application/json",
        "servers": _SERVERS,
        "channels": channels,
        "operations": operations,
        "components": {
            "messages": {name: _message(name) for name in sorted(EVENT_TYPES)},
            "schemas": {"CloudEventHeaders": _HEADERS, "AggregateKey": _KEY},
        },
    }


class _Dumper(yaml.SafeDumper):
    """Writes a multi-line text (the contract's Markdown) as a block, as it reads in the source."""

    def represent_str(self, data: str) -> yaml.ScalarNode:
        return self.represent_scalar("tag:yaml.org,2002:str", data, style="|" if "\n" in data else None)


_Dumper.add_representer(str, _Dumper.represent_str)


@cache
def asyncapi_rendered(fmt: str) -> str:
    """The document as text in one of `FORMATS`; YAML keeps the document's order, as the JSON does."""
    if fmt == "yaml":
        return yaml.dump(asyncapi_document(), Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=110)
    return json.dumps(asyncapi_document(), ensure_ascii=False, indent=2) + "\n"
