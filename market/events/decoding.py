"""A received payload back into its event class: `event_of("market.bid.placed.v1", data)` is a `BidPlaced`.

Consumers dispatch on the class and read typed attributes instead of splitting type names and digging in
dicts; a listing fact's snapshot comes back as its aggregate's snapshot class. Decoding is tolerant where the
contract allows change and strict where it does not: fields a newer minor version of the producer added are
ignored (in the snapshot too), fields with a default may be missing, and anything else
(an unknown type, a missing required field, a value of the wrong JSON type, another aggregate) is
`UndecodableEvent`, which a consumer treats as a poison message."""

import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import MISSING, fields
from functools import cache
from typing import Any

from market.events.catalogue import EVENT_TYPES, Event
from market.events.snapshots import Snapshot, field_types, nested_snapshot

#: checks one JSON value against a field's annotation
Check = Callable[[Any], bool]


class UndecodableEvent(ValueError):
    """A payload that names no type the core publishes, or does not fit its type's class."""


def _check(annotation: Any) -> Check:
    """What a field accepts, as JSON decodes it: `int | None` takes null, `list[int]` a list of integers. A
    consumer runs a check for every field of every event it reads (a patent's snapshot has 30), so each is
    one expression without generators."""
    if annotation is Any:
        return lambda _value: True
    if annotation is type(None):
        return lambda value: value is None
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        members = [_check(member) for member in typing.get_args(annotation) if member is not type(None)]
        if len(members) < len(typing.get_args(annotation)):  # `X | None`, most unions: null first
            (member,) = members
            return lambda value: value is None or member(value)
        return lambda value: any(member(value) for member in members)
    origin = typing.get_origin(annotation) or annotation
    if origin is list:
        (item_type,) = typing.get_args(annotation) or (Any,)
        item = _check(item_type)
        return lambda value: isinstance(value, list) and all(map(item, value))
    if origin is int:  # JSON true is no integer, though Python's bool is one
        return lambda value: isinstance(value, int) and not isinstance(value, bool)
    return lambda value: isinstance(value, origin)


@cache
def _layout(cls: type) -> tuple[tuple[str, Check, type[Snapshot] | None, bool], ...]:
    """(name, check, snapshot class or None, required) of every field of an event or snapshot class, worked
    out once per class. A field holding a snapshot takes a JSON object, decoded into that class."""
    return tuple(
        (
            field.name,
            _is_object if nested_snapshot(annotation) else _check(annotation),
            nested_snapshot(annotation),
            field.default is MISSING and field.default_factory is MISSING,
        )
        for field, annotation in zip(fields(cls), field_types(cls).values(), strict=True)
    )


@cache
def _defaults(cls: type) -> dict[str, Any]:
    return {field.name: field.default for field in fields(cls) if field.default is not MISSING}


def _is_object(value: Any) -> bool:
    return isinstance(value, Mapping)


def _snapshot(cls: type, values: dict[str, Any]) -> Snapshot:
    """A snapshot of checked values, set directly instead of through the frozen `__init__`, which costs a
    consumer ten times as much for a patent's 30 fields. The same instance all the same: a snapshot is plain
    data (`Snapshot` refuses a `__post_init__`), its fields live in its `__dict__`, and the defaults of the
    optional fields left out are filled in here."""
    snapshot: Snapshot = object.__new__(cls)
    snapshot.__dict__.update(_defaults(cls), **values)
    return snapshot


def _instance(cls: type, data: Mapping[str, Any], type_name: str, path: str = "") -> Any:
    """`cls` from a JSON object; `path` names a nested object in errors (`snapshot.`)."""
    values: dict[str, Any] = {}
    for name, check, nested, required in _layout(cls):
        if name not in data:
            if required:
                raise UndecodableEvent(f"{type_name} payload has no {path + name!r}")
            continue
        value = data[name]
        if not check(value):
            raise UndecodableEvent(f"{type_name} payload has a {path + name!r} of the wrong type: {value!r}")
        values[name] = value if nested is None else _instance(nested, value, type_name, f"{path}{name}.")
    return _snapshot(cls, values) if issubclass(cls, Snapshot) else cls(**values)


def event_of(type_name: str, data: Mapping[str, Any]) -> Event:
    """The frozen event a payload of `type_name` describes; UndecodableEvent when there is none."""
    event_class = EVENT_TYPES.get(type_name)
    if event_class is None:
        raise UndecodableEvent(f"unknown event type {type_name!r}")
    if not isinstance(data, Mapping):
        raise UndecodableEvent(f"{type_name} payload is not a JSON object")
    if data.get("aggregate", event_class.aggregate) != event_class.aggregate:
        raise UndecodableEvent(f"{type_name} payload is about a {data['aggregate']!r}")
    return _instance(event_class, data, type_name)
