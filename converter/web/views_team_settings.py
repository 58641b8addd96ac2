"""Settings → team: the team's api2convert key (store, replace, test, remove) and its default
engine. Owners and admins only. The key is never rendered back: only its last four characters."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.shortcuts import redirect, render
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_POST

from converter.models import Api2convertAccount, Team
from converter.services.api2convert import (
    KeyInvalid,
    api2convert_key_remove,
    api2convert_key_store,
    api2convert_key_test,
    can_manage_account,
    default_engine_set,
)
from converter.web.teams import team_required


def _manager_required(view):
    def wrapper(request: HttpRequest, *args, **kwargs):
        if not can_manage_account(request.membership):
            raise PermissionDenied("Only the team's owners and admins can change its settings.")
        return view(request, *args, **kwargs)

    return team_required(wrapper)


def _page(request: HttpRequest, *, status: int = 200, key_error: str = ""):
    context = {
        "account": Api2convertAccount.objects.filter(team=request.team).first(),
        "engines": Team.Engine.choices,
        "key_error": key_error,
    }
    return render(request, "team_settings/page.html", context, status=status)


@_manager_required
@require_GET
def team_settings(request: HttpRequest):
    return _page(request)


@sensitive_post_parameters("key")
@_manager_required
@require_POST
def key_store(request: HttpRequest):
    try:
        account = api2convert_key_store(team=request.team, user=request.user, key=request.POST.get("key", ""))
    except KeyInvalid as exc:
        return _page(request, status=422, key_error=str(exc))
    messages.success(request, f"The api2convert key …{account.key_last4} is stored, encrypted.")
    return redirect("team_settings")


@_manager_required
@require_POST
def key_test(request: HttpRequest):
    try:
        account = api2convert_key_test(team=request.team, user=request.user)
    except Api2convertAccount.DoesNotExist:
        messages.error(request, "There is no api2convert key to test.")
        return redirect("team_settings")
    level = messages.SUCCESS if account.check_result.startswith("Valid") else messages.ERROR
    messages.add_message(request, level, account.check_result)
    return redirect("team_settings")


@_manager_required
@require_POST
def key_remove(request: HttpRequest):
    api2convert_key_remove(team=request.team, user=request.user)
    messages.success(request, "The api2convert key is removed; new jobs run on the embedded engine.")
    return redirect("team_settings")


@_manager_required
@require_POST
def engine_set(request: HttpRequest):
    try:
        default_engine_set(team=request.team, user=request.user, engine=request.POST.get("engine", ""))
    except (KeyInvalid, ValueError) as exc:
        messages.error(request, str(exc))
    else:
        engine = request.team.get_default_engine_display()
        messages.success(request, f"New jobs run on “{engine}” by default.")
    return redirect("team_settings")

