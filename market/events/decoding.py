"""A received payload back into its event class: `event_of("market.bid.placed.v1", data)` is a `BidPlaced`.

Consumers dispatch on the class and read typed attributes instead of splitting type names and digging in
dicts. Decoding is tolerant where the contract allows change and strict where it does not: fields a newer
minor version of the producer added are ignored, fields with a default may be missing, and anything else
(an unknown type, a missing required field, a value of the wrong JSON type, another aggregate) is
`UndecodableEvent`, which a consumer treats as a poison message."""

import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import MISSING, fields
from functools import cache
from typing import Any

from market.events.catalogue import EVENT_TYPES, Event

#: checks one JSON value against a field's annotation
Check = Callable[[Any], bool]


class UndecodableEvent(ValueError):
    """A payload that names no type the core publishes, or does not fit its type's class."""


def _check(annotation: Any) -> Check:
    """What a field accepts, as JSON decodes it: `int | None` takes null, `list[int]` a list of integers."""
    if annotation is Any:
        return lambda _value: True
    if annotation is type(None):
        return lambda value: value is None
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        members = [_check(member) for member in typing.get_args(annotation)]
        return lambda value: any(member(value) for member in members)
    origin = typing.get_origin(annotation) or annotation
    if origin is list:
        (item_type,) = typing.get_args(annotation) or (Any,)
        item = _check(item_type)
        return lambda value: isinstance(value, list) and all(item(element) for element in value)
    if origin is int:  # JSON true is no integer, though Python's bool is one
        return lambda value: isinstance(value, int) and not isinstance(value, bool)
    return lambda value: isinstance(value, origin)


@cache
def _layout(type_name: str) -> tuple[tuple[str, Check, bool], ...]:
    """(name, check, required) of every field of a type's class, worked out once per type."""
    event_class = EVENT_TYPES[type_name]
    hints = typing.get_type_hints(event_class)
    return tuple(
        (
            field.name,
            _check(hints[field.name]),
            field.default is MISSING and field.default_factory is MISSING,
        )
        for field in fields(event_class)
    )


def event_of(type_name: str, data: Mapping[str, Any]) -> Event:
    """The frozen event a payload of `type_name` describes; UndecodableEvent when there is none."""
    event_class = EVENT_TYPES.get(type_name)
    if event_class is None:
        raise UndecodableEvent(f"unknown event type {type_name!r}")
    if not isinstance(data, Mapping):
        raise UndecodableEvent(f"{type_name} payload is not a JSON object")
    if data.get("aggregate", event_class.aggregate) != event_class.aggregate:
        raise UndecodableEvent(f"{type_name} payload is about a {data['aggregate']!r}")
    values: dict[str, Any] = {}
    for name, check, required in _layout(type_name):
        if name not in data:
            if required:
                raise UndecodableEvent(f"{type_name} payload has no {name!r}")
            continue
        if not check(data[name]):
            raise UndecodableEvent(f"{type_name} payload has a {name!r} of the wrong type: {data[name]!r}")
        values[name] = data[name]
    return event_class(**values)
