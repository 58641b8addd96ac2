"""The active team: which of a user's teams the pages act on, kept in the session."""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest
from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from converter.selectors import active_membership_for, membership_for, teams_for
from converter.services.teams import team_create_personal

SESSION_KEY = "team_id"


class ActiveTeamMiddleware:
    """Sets request.team and request.membership (None for anonymous users and teamless users)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        request.team = request.membership = None
        if request.user.is_authenticated:
            membership = active_membership_for(request.user, request.session.get(SESSION_KEY))
            if membership is not None:
                request.team, request.membership = membership.team, membership
        return self.get_response(request)


def team_context(request: HttpRequest) -> dict:
    team = getattr(request, "team", None)
    return {
        "active_team": team,
        "membership": getattr(request, "membership", None),
        "user_teams": teams_for(request.user) if team is not None else (),
    }


def team_required(view):
    """Login required, and a team to act in. A user made outside sign-up (createsuperuser)
    has none yet: give them their personal team rather than a dead end."""

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs):
        if request.team is None:
            request.team = team_create_personal(request.user)
            request.membership = membership_for(request.user, request.team)
        return view(request, *args, **kwargs)

    return wrapper


def team_activate(request: HttpRequest, team) -> None:
    """Act in another of the user's teams, from this request on."""
    request.session[SESSION_KEY] = team.pk
    request.team, request.membership = team, membership_for(request.user, team)


@login_required
@require_POST
def team_switch(request: HttpRequest):
    team = teams_for(request.user).filter(pk=request.POST.get("team")).first()
    if team is not None:
        team_activate(request, team)
    next_url = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(next_url, {request.get_host()}, request.is_secure()):
        next_url = "convert"
    return redirect(next_url)
