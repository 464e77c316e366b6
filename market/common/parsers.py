"""Request body parsers with bounds. DRF's JSON parser reads the stream whole, whatever its size (Django's
DATA_UPLOAD_MAX_MEMORY_SIZE applies only to `request.body` and forms), and lets Python's decoder recurse
once per nesting level: `[` × 1000 ended in a RecursionError and a 500."""

import io
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _
from rest_framework import parsers, status
from rest_framework.exceptions import APIException, ParseError

#: deeper than any body the API takes (a saved search's parameters are the deepest, at three levels)
MAX_JSON_DEPTH = 32


class RequestTooLarge(APIException):
    """A body past the configured limits (bytes, form fields, files): refused before it is read whole."""

    status_code = status.HTTP_400_BAD_REQUEST
    default_code = "request_too_large"

    def __init__(self, limit: int | None = None) -> None:
        if limit is None:
            super().__init__(_("The request is too large."))
        else:
            super().__init__(_("The request body is larger than %(limit)s bytes.") % {"limit": limit})


def json_depth_exceeds(data: Any, limit: int) -> bool:
    """True when containers nest deeper than `limit`; iterative, so no input can exhaust the stack."""
    pending: list[tuple[Any, int]] = [(data, 1)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, dict | list):
            if depth > limit:
                return True
            children = value.values() if isinstance(value, dict) else value
            pending.extend((child, depth + 1) for child in children)
    return False


class BoundedJSONParser(parsers.JSONParser):
    """JSON bodies up to DATA_UPLOAD_MAX_MEMORY_SIZE bytes and MAX_JSON_DEPTH levels; anything beyond is the
    client's error (400), never a 500 or an unbounded read."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if stream is not None and limit is not None:
            body = stream.read(limit + 1)
            if len(body) > limit:
                raise RequestTooLarge(limit)
            stream = io.BytesIO(body)
        too_deep = _("JSON nested too deeply (at most %(depth)s levels).") % {"depth": MAX_JSON_DEPTH}
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError as error:
            raise ParseError(too_deep) from error
        if json_depth_exceeds(data, MAX_JSON_DEPTH):
            raise ParseError(too_deep)
        return data
