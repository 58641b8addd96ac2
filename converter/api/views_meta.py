"""Static information: the API root, status codes, the conversion catalogue, our OpenAPI document."""

import json
from functools import cache
from pathlib import Path

from django.http import HttpRequest, JsonResponse

from converter.api.http import api_base, endpoint
from converter.api.serializers import catalogue_matches, conversions_json, statuses_json

OPENAPI_PATH = Path(__file__).with_name("openapi.json")


@endpoint("GET")
def root(request: HttpRequest):
    base = api_base(request)
    return JsonResponse({"message": "api2convert-compatible API (v2) of the FLAC converter.",
                         "openapi": f"{base}/openapi.json"})


@endpoint("GET")
def statuses(request: HttpRequest):
    return JsonResponse(statuses_json(), safe=False)


@endpoint("GET")
def conversions(request: HttpRequest):
    """Public, as the vendor's catalogue; filters that exclude flac give an empty list."""
    wanted = catalogue_matches(request.GET.get("category"), request.GET.get("target"))
    return JsonResponse(conversions_json() if wanted else [], safe=False)


@cache
def _openapi_text() -> str:
    return OPENAPI_PATH.read_text()


@endpoint("GET")
def openapi(request: HttpRequest):
    """The stored document, with this server's URL and the options schema from converter/options.py."""
    document = json.loads(_openapi_text())
    document["servers"] = [{"url": api_base(request), "description": "This server"}]
    document["components"]["schemas"]["FlacOptions"] = {
        "type": "object", "additionalProperties": False, "properties": conversions_json()[0]["options"]}
    return JsonResponse(document)
