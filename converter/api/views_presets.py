"""/v2/presets: the built-in presets (public, read-only; ids `builtin-…`) and the team's own
(private; their ids are numbers). Roles as in the web: anyone who may convert saves and changes
presets; deleting one takes its maker or an owner or admin (services/presets.py)."""

from django.http import HttpRequest, HttpResponse, JsonResponse

from converter.api.auth import caller_membership, require_api_key
from converter.api.http import ApiProblem, endpoint, json_object
from converter.api.preset_requests import preset_request
from converter.api.problems import service_problems
from converter.api.serializers import (
    BUILTIN_PRESET_IDS,
    builtin_preset_json,
    catalogue_matches,
    preset_json,
)
from converter.models import Preset
from converter.selectors import preset_of_team, team_presets
from converter.services.presets import preset_create, preset_delete, preset_update


@endpoint("GET", "POST", authenticate=require_api_key)
def presets(request: HttpRequest):
    if request.method == "POST":
        wanted = preset_request(json_object(request), creating=True)
        with service_problems():
            preset = preset_create(membership=caller_membership(request), name=wanted.name,
                                   options=wanted.options)
        return JsonResponse(preset_json(preset), status=201)
    if not catalogue_matches(request.GET.get("category"), request.GET.get("target")):
        return JsonResponse([], safe=False)
    found = [builtin_preset_json(preset_id) for preset_id in BUILTIN_PRESET_IDS]
    found += [preset_json(preset) for preset in team_presets(request.team)]
    # `filter`: comma-separated phrases, any of which the name contains.
    phrases = [phrase.strip().lower() for phrase in request.GET.get("filter", "").split(",")]
    if phrases := [phrase for phrase in phrases if phrase]:
        found = [item for item in found if any(phrase in item["name"].lower() for phrase in phrases)]
    return JsonResponse(found, safe=False)


@endpoint("GET", "PATCH", "DELETE", authenticate=require_api_key)
def preset_detail(request: HttpRequest, preset_id: str):
    if preset_id in BUILTIN_PRESET_IDS:
        if request.method != "GET":
            raise ApiProblem(403, "Built-in presets are read-only: save a copy with POST /presets.")
        return JsonResponse(builtin_preset_json(preset_id))
    preset = _team_preset(request, preset_id)
    membership = caller_membership(request)
    if request.method == "DELETE":
        with service_problems():
            preset_delete(preset, membership=membership)
        return HttpResponse(status=204)
    if request.method == "PATCH":
        wanted = preset_request(json_object(request), creating=False)
        with service_problems():
            preset_update(preset, membership=membership, name=wanted.name, options=wanted.options)
    return JsonResponse(preset_json(preset))


def _team_preset(request: HttpRequest, preset_id: str) -> Preset:
    if not preset_id.isascii() or not preset_id.isdigit() or len(preset_id) > 18:
        raise ApiProblem(404, "The preset does not exist.")
    return preset_of_team(request.team, int(preset_id))
