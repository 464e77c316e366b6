"""Query parameters of the search endpoints, validated so bad input is a 400 naming the parameter."""

from typing import Any

from django.core import signing
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from market.accounts.models import OrganizationType
from market.catalog.models import AchievementStage, CollaborationMode, LegalStatus, PatentType, TransferMode
from market.common.chinese import words
from market.common.fields import CalendarDayOrInstantField
from market.common.filters import IPC_PREFIX_PATTERN
from services.search.indexes import KINDS
from services.search.queries import MAX_QUERY_LENGTH, MAX_QUERY_WORDS, SORTS, SearchParams


class MultiValueField(serializers.ListField):
    """`?type=patent&type=demand` or `?type=patent,demand`."""

    def get_value(self, dictionary: Any) -> Any:
        values = super().get_value(dictionary)
        if values is serializers.empty:
            return values
        if isinstance(values, str):
            values = [values]
        return [part.strip() for value in values for part in str(value).split(",") if part.strip()]


def _choices(choices: Any, **kwargs: Any) -> MultiValueField:
    return MultiValueField(
        child=serializers.ChoiceField(choices=choices), required=False, max_length=20, **kwargs
    )


#: a search cursor is signed, so a changed one is refused here instead of failing in the engine
CURSOR_SALT = "search.cursor"


def cursor_encode(values: list[Any], *, sort: str) -> str:
    """The sort values of the last hit, for `search_after`, bound to the sort they belong to."""
    return signing.dumps({"sort": sort, "after": values}, salt=CURSOR_SALT)


def cursor_decode(cursor: str, *, sort: str) -> list[Any]:
    """The sort values a cursor of ours carries; a changed cursor, or one made for another sort, is the
    client's error (400), never the engine's."""
    try:
        claims = signing.loads(cursor, salt=CURSOR_SALT)
    except signing.BadSignature as error:
        raise serializers.ValidationError({"cursor": [_("Invalid cursor.")]}) from error
    claims = claims if isinstance(claims, dict) else {}
    after = claims.get("after")
    if claims.get("sort") != sort or not isinstance(after, list):
        raise serializers.ValidationError({"cursor": [_("This cursor belongs to another search.")]})
    return after


class SearchParamsSerializer(serializers.Serializer):
    q = serializers.CharField(
        required=False, allow_blank=True, max_length=MAX_QUERY_LENGTH, trim_whitespace=True
    )
    type = _choices(KINDS)
    field = MultiValueField(child=serializers.CharField(max_length=100), required=False, max_length=20)
    ipc = MultiValueField(
        child=serializers.RegexField(IPC_PREFIX_PATTERN, max_length=20), required=False, max_length=20
    )
    region = MultiValueField(
        child=serializers.RegexField(r"^[1-8][0-9]{5}$"),
        required=False,
        max_length=20,
        help_text=_("6-digit administrative code of a province, city or county"),
    )
    owner_type = _choices(OrganizationType.choices)
    legal_status = _choices(LegalStatus.choices)
    patent_type = _choices(PatentType.choices)
    transfer_mode = _choices(TransferMode.choices)
    stage = _choices(AchievementStage.choices)
    collaboration_mode = _choices(CollaborationMode.choices)
    trl_min = serializers.IntegerField(required=False, min_value=1, max_value=9)
    trl_max = serializers.IntegerField(required=False, min_value=1, max_value=9)
    price_min = serializers.DecimalField(required=False, max_digits=14, decimal_places=2, min_value=0)
    price_max = serializers.DecimalField(required=False, max_digits=14, decimal_places=2, min_value=0)
    owner = MultiValueField(
        child=serializers.IntegerField(min_value=1, max_value=2**63 - 1),
        required=False,
        max_length=20,
        help_text=_("id of the organization a listing or profile belongs to"),
    )
    published_after = CalendarDayOrInstantField(required=False)
    published_before = CalendarDayOrInstantField(required=False)
    sort = serializers.ChoiceField(choices=list(SORTS), required=False, default="relevance")
    page_size = serializers.IntegerField(required=False, min_value=1, max_value=100, default=20)
    cursor = serializers.CharField(required=False, max_length=500)

    def validate_q(self, value: str) -> str:
        """A bounded amount of work per query: a search box takes keywords, not a pasted page."""
        if len(set(words(value.lower()))) > MAX_QUERY_WORDS:
            raise serializers.ValidationError(
                _("Use at most %(count)d different words.") % {"count": MAX_QUERY_WORDS}
            )
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if "cursor" in attrs:
            sort = SearchParams(q=attrs.get("q", ""), sort=attrs["sort"]).sort_name
            attrs["cursor"] = cursor_decode(attrs["cursor"], sort=sort)
        for low, high in (("trl_min", "trl_max"), ("price_min", "price_max")):
            if attrs.get(low) is not None and attrs.get(high) is not None and attrs[low] > attrs[high]:
                raise serializers.ValidationError({high: _("Must not be below %(low)s.") % {"low": low}})
        return attrs


def search_params(data: dict[str, Any]) -> SearchParams:
    """The query a `SearchParamsSerializer`'s validated data asks for."""
    ipc = [value.upper() for value in data.get("ipc", [])]
    return SearchParams(
        q=data.get("q", ""),
        filters={
            name: data[name]
            for name in (
                "type",
                "field",
                "owner_type",
                "legal_status",
                "patent_type",
                "transfer_mode",
                "stage",
                "collaboration_mode",
            )
            if data.get(name)
        },
        ipc=ipc,
        region=data.get("region", []),
        owner=data.get("owner", []),
        trl_min=data.get("trl_min"),
        trl_max=data.get("trl_max"),
        price_min=float(data["price_min"]) if data.get("price_min") is not None else None,
        price_max=float(data["price_max"]) if data.get("price_max") is not None else None,
        published_after=data.get("published_after"),
        published_before=data.get("published_before"),
        sort=data["sort"],
        size=data["page_size"],
        search_after=data.get("cursor"),
    )


class SuggestParamsSerializer(serializers.Serializer):
    q = serializers.CharField(max_length=50, trim_whitespace=True)
    size = serializers.IntegerField(required=False, min_value=1, max_value=20, default=8)


class SimilarParamsSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=KINDS)
    id = serializers.IntegerField(min_value=1, max_value=2**63 - 1)
    within = _choices(KINDS, help_text=_("kinds of listings to return; patents and achievements by default"))
    size = serializers.IntegerField(required=False, min_value=1, max_value=50, default=10)
