"""JSON Schemas of the event payloads, generated from the payload classes and the listing snapshot fields, and
the committed snapshots they are checked against.

`schema_snapshots/<type>/<n>.json` holds every published version of a type's schema. A payload the code
produces today must validate against all of them: that is what "additive changes keep the major version"
means in practice. `manage.py event_schemas --write` stores a new snapshot when the generated schema
changed."""

import dataclasses
import json
import types
import typing
from pathlib import Path
from typing import Any

from django.contrib.postgres.fields import ArrayField
from django.db import models

from market.events.catalogue import EVENT_TYPES, ListingFact

SNAPSHOT_DIR = Path(__file__).parent / "schema_snapshots"
_DIALECT = "https://json-schema.org/draft/2020-12/schema"


def _python_type_schema(annotation: Any) -> dict[str, Any]:
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        members = [_python_type_schema(arg) for arg in typing.get_args(annotation)]
        return {"anyOf": members}
    if annotation is type(None):
        return {"type": "null"}
    origin = typing.get_origin(annotation) or annotation
    simple = {int: "integer", str: "string", bool: "boolean", float: "number", dict: "object", list: "array"}
    return {"type": simple[origin]}


def _model_field_schema(field: models.Field) -> dict[str, Any]:
    if isinstance(field, ArrayField):
        schema: dict[str, Any] = {"type": "array", "items": _model_field_schema(field.base_field)}
    elif isinstance(field, models.BooleanField):
        schema = {"type": "boolean"}
    elif isinstance(field, models.IntegerField):
        schema = {"type": "integer"}
    elif isinstance(field, models.DateTimeField):
        schema = {"type": "string", "format": "date-time"}
    elif isinstance(field, models.DateField):
        schema = {"type": "string", "format": "date"}
    elif isinstance(field, models.DecimalField):
        schema = {"type": "string", "pattern": r"^-?[0-9]+(\.[0-9]+)?$"}  # exact amounts travel as strings
    else:
        schema = {"type": "string"}
    if field.null:
        schema = {"anyOf": [schema, {"type": "null"}]}
    return schema


def _concrete_field(model: type[models.Model], name: str) -> models.Field:
    field = model._meta.get_field(name)
    if not isinstance(field, models.Field):
        raise TypeError(f"{model.__name__}.{name} is a relation, not a column")
    return field


def _snapshot_schema(aggregate: str) -> dict[str, Any]:
    from market.catalog.models import Achievement, Demand, Expert, Patent
    from market.catalog.snapshots import PUBLIC_FIELDS

    model = {"patent": Patent, "achievement": Achievement, "demand": Demand, "expert": Expert}[aggregate]
    properties = {name: _model_field_schema(_concrete_field(model, name)) for name in PUBLIC_FIELDS[model]}
    properties["id"] = {"type": "integer"}
    properties["version"] = {"type": "integer"}
    owner_codes = {
        name: {"type": "string"} for name in ("org_type", "province_code", "city_code", "county_code")
    }
    properties["owner"] = {
        "type": "object",
        "properties": {"id": {"type": "integer"}, "name": {"type": "string"}, **owner_codes},
        "required": sorted(owner_codes),
    }
    if aggregate == "achievement":
        properties["patent_ids"] = {"type": "array", "items": {"type": "integer"}}
    return {"type": "object", "properties": properties, "required": sorted(properties)}


def payload_schema(event_type: str) -> dict[str, Any]:
    """The JSON Schema of one event type's `data`, as the code produces it today."""
    event_class = EVENT_TYPES[event_type]
    aggregate = event_class.aggregate
    hints = typing.get_type_hints(event_class)
    properties = {f.name: _python_type_schema(hints[f.name]) for f in dataclasses.fields(event_class)}
    properties["aggregate"] = {"const": aggregate}
    if issubclass(event_class, ListingFact):
        properties["snapshot"] = _snapshot_schema(aggregate)
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
