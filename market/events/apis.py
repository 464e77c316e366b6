"""The AsyncAPI document of the event stream, served beside the OpenAPI schema: public (it is the contract
third parties subscribe by) and cacheable (it changes only with a deployment)."""

import hashlib

from django.http import HttpRequest, HttpResponse
from django.views.decorators.cache import cache_control
from django.views.decorators.http import etag, require_safe

from market.events.asyncapi import FORMATS, asyncapi_rendered


def _etag(request: HttpRequest, fmt: str) -> str:
    return hashlib.sha256(asyncapi_rendered(fmt).encode()).hexdigest()[:32]


@require_safe
@cache_control(public=True, max_age=3600)
@etag(_etag)
def asyncapi_api(request: HttpRequest, fmt: str) -> HttpResponse:
    response = HttpResponse(asyncapi_rendered(fmt), content_type=f"{FORMATS[fmt]}; charset=utf-8")
    response["Access-Control-Allow-Origin"] = "*"  # browser tools (AsyncAPI Studio) load it by address
    return response
