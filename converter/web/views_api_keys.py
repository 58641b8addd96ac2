"""Settings → API keys: the team's keys for the api2convert-compatible API (create, list, revoke).

A new key and its signing secret are rendered once, in the response to the POST that made them.
"""

from django.contrib import messages
from django.http import HttpRequest, HttpResponseForbidden
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from converter.api.http import api_base
from converter.models import ApiKey, Membership
from converter.services.api_keys import ApiKeyInvalid, key_issue, key_revoke
from converter.web.teams import team_required

MANAGERS = (Membership.Role.OWNER, Membership.Role.ADMIN)


def _page(request: HttpRequest, **context):
    keys = ApiKey.objects.filter(team=request.team).select_related("user")
    context.update(keys=keys, api_base=api_base(request), can_manage=request.membership.role in MANAGERS)
    return render(request, "api_keys/list.html", context)


@team_required
@require_http_methods(["GET", "POST"])
def api_keys(request: HttpRequest):
    if request.method == "GET":
        return _page(request)
    try:
        issued = key_issue(team=request.team, user=request.user, name=request.POST.get("name", ""))
    except ApiKeyInvalid as exc:
        return _page(request, error=str(exc), name=request.POST.get("name", "")[:100])
    return _page(request, issued=issued)


@team_required
@require_POST
def api_key_revoke(request: HttpRequest, key_id: int):
    api_key = get_object_or_404(ApiKey, pk=key_id, team=request.team)
    if api_key.user != request.user and request.membership.role not in MANAGERS:
        return HttpResponseForbidden("Only the key's owner or a team admin can revoke it.")
    key_revoke(api_key)
    messages.success(request, f"The key “{api_key.name}” is revoked; requests with it now fail.")
    return redirect("api_keys")
