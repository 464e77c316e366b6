"""JSON Schemas of the event payloads, generated from the fields of the payload classes and of the listing
snapshot classes registered with them, and the committed snapshots they are checked against.

`schema_snapshots/<type>/<n>.json` holds every published version of a type's schema. A payload the code
produces today must validate against all of them: that is what "additive changes keep the major version"
means in practice. `manage.py event_schemas --write` stores a new snapshot when the generated schema
changed."""

import dataclasses
import json
import types
import typing
from pathlib import Path
from typing import Annotated, Any

from market.events.catalogue import EVENT_TYPES
from market.events.snapshots import Text, field_types, nested_snapshot

SNAPSHOT_DIR = Path(__file__).parent / "schema_snapshots"
_DIALECT = "https://json-schema.org/draft/2020-12/schema"
_SIMPLE = {int: "integer", str: "string", bool: "boolean", float: "number", dict: "object", list: "array"}


def _type_schema(annotation: Any, *, item_types: bool = True) -> dict[str, Any]:
    """The schema of a JSON value of a field's type. `item_types=False` leaves list items untyped: the events'
    own list fields were published that way, and typing them now would change every stored version."""
    if typing.get_origin(annotation) is Annotated:
        base, *marks = typing.get_args(annotation)
        schema = _type_schema(base, item_types=item_types)
        for mark in marks:
            if isinstance(mark, Text):
                schema.update(mark.keywords())
        return schema
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        return {"anyOf": [_type_schema(arg, item_types=item_types) for arg in typing.get_args(annotation)]}
    if annotation is type(None):
        return {"type": "null"}
    snapshot_class = nested_snapshot(annotation)
    if snapshot_class is not None:
        return _object_schema(snapshot_class)
    origin = typing.get_origin(annotation) or annotation
    schema = {"type": _SIMPLE[origin]}
    if origin is list and item_types and typing.get_args(annotation):
        schema["items"] = _type_schema(typing.get_args(annotation)[0])
    return schema


def _without_none(annotation: Any) -> Any:
    members = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
    return typing.Union[tuple(members)] if members else annotation  # noqa: UP007 (a runtime union)


def _object_schema(snapshot_class: type) -> dict[str, Any]:
    """A snapshot's schema: every field, required unless declared `= None` (then it is left out rather than
    null, so its schema is that of its type without None)."""
    defaults = {field.name: field.default for field in dataclasses.fields(snapshot_class)}
    properties: dict[str, Any] = {}
    for name, annotation in field_types(snapshot_class, extras=True).items():
        optional = defaults[name] is None
        properties[name] = _type_schema(_without_none(annotation) if optional else annotation)
    required = sorted(name for name in properties if defaults[name] is not None)
    return {"type": "object", "properties": properties, "required": required}


def payload_schema(event_type: str) -> dict[str, Any]:
    """The JSON Schema of one event type's `data`, as the code produces it today."""
    event_class = EVENT_TYPES[event_type]
    properties = {
        name: _type_schema(annotation, item_types=False)
        for name, annotation in field_types(event_class, extras=True).items()
    }
    properties["aggregate"] = {"const": event_class.aggregate}
    return {
        "$schema": _DIALECT,
        "$id": f"urn:market:event:{event_type}",
        "title": event_type,
        "type": "object",
        "properties": properties,
        "required": sorted(properties),
    }


def stored_snapshots(event_type: str) -> list[dict[str, Any]]:
    """Every committed schema version of a type, oldest first."""
    folder = SNAPSHOT_DIR / event_type
    files = sorted(folder.glob("*.json"), key=lambda path: int(path.stem)) if folder.is_dir() else []
    return [json.loads(path.read_text(encoding="utf-8")) for path in files]


def snapshots_write() -> list[str]:
    """Store the generated schema as a new version wherever it differs from the latest snapshot."""
    changed = []
    for event_type in sorted(EVENT_TYPES):
        current = payload_schema(event_type)
        history = stored_snapshots(event_type)
        if history and history[-1] == current:
            continue
        folder = SNAPSHOT_DIR / event_type
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{len(history) + 1}.json").write_text(
            json.dumps(current, ensure_ascii=False, indent=2, sort_keys=True) + "\n", encoding="utf-8"
        )
        changed.append(event_type)
    return changed
