"""Listing snapshots: the public face of a listing that its facts carry (`ListingFact.snapshot`). Not to be
confused with the schema snapshots (`schema_snapshots/`), the stored JSON Schemas of the payloads.

What a listing shows is its app's business: catalog declares `PatentSnapshot` and the other kinds. But
`market/events` sits below every app and never imports one, so this module gives the mechanism only:
`Snapshot`, a frozen class whose fields are its JSON object; `ListingSnapshot`, the base of a kind's class,
which registers itself for its aggregate by naming it in the class header
(`class PatentSnapshot(..., aggregate="patent")`); and the registry, from which the schemas are generated and
payloads decoded back into typed snapshots.

Fields hold JSON values, as they travel: strings, integers, booleans, lists and nested snapshots. A string of
a known form says so in its annotation (`Day`, `DateTime`, `Money`), and the schema states the form. A field
declared `= None` is optional: it is left out of the JSON while it is None and is not required by the schema
(an anonymous demand's owner has no id and no name, rather than a null id and name)."""

import typing
from dataclasses import dataclass, fields
from typing import Annotated, Any, ClassVar, Self


@dataclass(frozen=True)
class Text:
    """The form of a string field, in JSON Schema keywords (`format`, `pattern`)."""

    format: str | None = None
    pattern: str | None = None

    def keywords(self) -> dict[str, str]:
        return {name: value for name, value in vars(self).items() if value is not None}


#: an ISO 8601 moment, `2026-11-01T09:00:00+00:00`
DateTime = Annotated[str, Text(format="date-time")]
#: an ISO 8601 calendar date, `2026-11-01`
Day = Annotated[str, Text(format="date")]
#: an exact amount as a decimal string, `120000.50`
Money = Annotated[str, Text(pattern=r"^-?[0-9]+(\.[0-9]+)?$")]


def json_value(value: Any) -> Any:
    """A field's value as JSON: snapshots become objects, lists and dicts are converted item by item."""
    if isinstance(value, Snapshot):
        return value.data()
    if isinstance(value, list):
        return [json_value(item) for item in value]
    if isinstance(value, dict):
        return {key: json_value(item) for key, item in value.items()}
    return value


@dataclass(frozen=True, kw_only=True)
class Snapshot:
    """A frozen value whose fields, in declaration order, are its JSON object. It is plain data, without a
    `__post_init__`: the decoder, having checked every value, sets the fields directly (see decoding.py)."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "__post_init__" in vars(cls):
            raise TypeError(f"{cls.__name__}: a snapshot is plain data; decoding skips a __post_init__")

    def data(self) -> dict[str, Any]:
        return {
            field.name: json_value(value)
            for field in fields(self)
            if (value := getattr(self, field.name)) is not None or field.default is not None
        }


#: aggregate -> the snapshot class of its listing facts (filled as the owning app's classes are declared)
LISTING_SNAPSHOTS: dict[str, type["ListingSnapshot"]] = {}


@dataclass(frozen=True, kw_only=True)
class ListingSnapshot(Snapshot):
    """The base of a kind's snapshot class. The class reads itself from its model (`of`), says what the facts
    around it carry besides (`fact_status`, `owner_org_id`: a listing's own status and owner unless the kind
    overrides them) and what the listing is called (`heading`)."""

    aggregate: ClassVar[str]

    def __init_subclass__(cls, *, aggregate: str | None = None, **kwargs: Any) -> None:
        """`class PatentSnapshot(ReviewedSnapshot, aggregate="patent")` registers the class; one class per
        aggregate, or one payload would decode into two shapes."""
        super().__init_subclass__(**kwargs)
        if aggregate is None:
            return
        if LISTING_SNAPSHOTS.setdefault(aggregate, cls) is not cls:
            raise TypeError(
                f"{cls.__name__}: {LISTING_SNAPSHOTS[aggregate].__name__} is the {aggregate} snapshot already"
            )
        cls.aggregate = aggregate

    @classmethod
    def of(cls, listing: Any) -> Self:
        """The snapshot of a model instance as it is now."""
        raise NotImplementedError(f"{cls.__name__} does not say how it reads a listing")

    @classmethod
    def fact_status(cls, listing: Any) -> str:
        return listing.status

    @classmethod
    def owner_org_id(cls, listing: Any) -> int:
        return listing.owner_id

    @property
    def heading(self) -> str:
        """What the listing is called, as notifications and search results name it."""
        raise NotImplementedError(f"{type(self).__name__} does not say what the listing is called")


def listing_snapshot_class(aggregate: str) -> type[ListingSnapshot]:
    """The registered snapshot class of an aggregate; LookupError when its app declared none (or is not
    loaded: registration happens when Django starts the app)."""
    try:
        return LISTING_SNAPSHOTS[aggregate]
    except KeyError:
        raise LookupError(f"no snapshot class is registered for {aggregate!r}") from None


def field_types(cls: type[Any], *, extras: bool = False) -> dict[str, Any]:
    """The annotation of every field of an event or snapshot class, by name, in declaration order. A listing
    fact's `snapshot: ListingSnapshot` becomes its aggregate's registered class, which is what the payload
    holds; `extras` keeps the `Annotated` forms (`Day`, `Money`)."""
    hints = typing.get_type_hints(cls, include_extras=extras)
    types = {field.name: hints[field.name] for field in fields(cls)}
    return {
        name: listing_snapshot_class(cls.aggregate) if annotation is ListingSnapshot else annotation
        for name, annotation in types.items()
    }


def nested_snapshot(annotation: Any) -> type[Snapshot] | None:
    """The snapshot class a field holds, or None for a plain JSON value."""
    return annotation if isinstance(annotation, type) and issubclass(annotation, Snapshot) else None
