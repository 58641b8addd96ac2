"""Teams: the user's teams and invitations, creating a team, and the active team's members
(roles, removal, ownership, leaving) and invites. Every object is looked up in the active
team (or, for an invitation by name, among the user's own): anything else is a 404."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from converter.models import Membership
from converter.selectors import (
    invite_addressed,
    invite_in,
    invites_addressed_to,
    invites_open_for,
    members_of,
    membership_in,
    teams_for,
)
from converter.services import invites, teams
from converter.web.teams import SESSION_KEY, team_required

NEW_LINK = "new_invite_link"  # shown once, on the page after the invite was made


def _switch_to(request: HttpRequest, team_id: int) -> None:
    request.session[SESSION_KEY] = team_id


@team_required
@require_GET
def team_list(request: HttpRequest):
    memberships = Membership.objects.filter(user=request.user).select_related("team").order_by("team__name")
    context = {"memberships": memberships, "invitations": invites_addressed_to(request.user)}
    return render(request, "teams/list.html", context)


@team_required
@require_POST
def team_create(request: HttpRequest):
    name = request.POST.get("name", "").strip()
    if not 1 <= len(name) <= 100:
        messages.error(request, "A team needs a name of 1 to 100 characters.")
        return redirect("team_list")
    team = teams.team_create(name=name, owner=request.user)
    _switch_to(request, team.pk)
    messages.success(request, f"{team.name} is created; you are its owner. Invite your colleagues.")
    return redirect("team_members")


def _members_page(request: HttpRequest, *, status: int = 200, **context):
    manager = teams.can_manage_members(request.membership)
    context.update({
        "members": members_of(request.team),
        "manager": manager,
        "roles": Membership.Role.choices,
        "invites": invites_open_for(request.team) if manager else (),
        "new_link": request.session.pop(NEW_LINK, ""),
    })
    return render(request, "teams/members.html", context, status=status)


@team_required
@require_GET
def team_members(request: HttpRequest):
    return _members_page(request)


def _member_action(action):
    """Run a change on a member of the active team; a broken rule becomes a message."""

    @team_required
    @require_POST
    def view(request: HttpRequest, membership_id):
        target = membership_in(request.team, membership_id)
        try:
            message = action(request, target)
        except teams.TeamRuleBroken as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, message)
        return redirect("team_members")

    view.__name__ = action.__name__
    return view


@_member_action
def member_role(request: HttpRequest, target: Membership) -> str:
    role = request.POST.get("role", "")
    target = teams.membership_role_set(actor=request.membership, target=target, role=role)
    return f"{target.user.get_username()} is now {target.get_role_display().lower()}."


@_member_action
def member_remove(request: HttpRequest, target: Membership) -> str:
    if target.user_id == request.user.pk:
        raise teams.TeamRuleBroken("To leave the team, use “Leave team”.")
    teams.membership_remove(actor=request.membership, target=target)
    return f"{target.user.get_username()} is no longer in {request.team.name}."


@_member_action
def member_transfer(request: HttpRequest, target: Membership) -> str:
    teams.ownership_transfer(actor=request.membership, target=target)
    return f"{target.user.get_username()} owns {request.team.name} now; you are an admin."


@team_required
@require_POST
def team_leave(request: HttpRequest):
    team = request.team
    try:
        teams.team_leave(request.membership)
    except teams.TeamRuleBroken as exc:
        messages.error(request, str(exc))
        return redirect("team_members")
    request.session.pop(SESSION_KEY, None)
    messages.success(request, f"You left {team.name}.")
    return redirect("team_list")


@team_required
@require_POST
def invite_create(request: HttpRequest):
    role = request.POST.get("role", Membership.Role.MEMBER)
    username = request.POST.get("username", "").strip()
    try:
        if username:
            invite = invites.invite_user_create(actor=request.membership, username=username, role=role)
            messages.success(request, f"{invite.user.get_username()} is invited: they accept it on their "
                                      f"Teams page within {invites.INVITE_DAYS} days.")
        else:
            _invite, token = invites.invite_link_create(actor=request.membership, role=role)
            request.session[NEW_LINK] = request.build_absolute_uri(reverse("invite_join", args=[token]))
    except invites.InviteInvalid as exc:
        # Beside the field, with what was typed, so that a misspelt name is fixed, not retyped.
        return _members_page(request, status=422, invite_error=str(exc), invite_username=username,
                             invite_role=role)
    return redirect("team_members")


@team_required
@require_POST
def invite_revoke(request: HttpRequest, invite_id):
    invites.invite_revoke(invite_in(request.team, invite_id), actor=request.membership)
    messages.success(request, "The invitation is revoked.")
    return redirect("team_members")


@login_required
@require_http_methods(["GET", "POST"])
def invite_join(request: HttpRequest, token: str):
    """A link invite: what it offers, and (POST) joining. Unknown, used, expired: all a 404."""
    invite = invites.invite_for_token(token)
    if invite is None:
        return render(request, "teams/invite.html", {"invite": None}, status=404)
    if request.method == "GET":
        member = teams_for(request.user).filter(pk=invite.team_id).exists()
        return render(request, "teams/invite.html", {"invite": invite, "member": member})
    return _accept(request, invite)


@team_required
@require_POST
def invitation_accept(request: HttpRequest, invite_id):
    return _accept(request, invite_addressed(request.user, invite_id))


@team_required
@require_POST
def invitation_decline(request: HttpRequest, invite_id):
    invite = invite_addressed(request.user, invite_id)
    invites.invite_decline(invite, request.user)
    messages.success(request, f"You declined the invitation to {invite.team.name}.")
    return redirect("team_list")


def _accept(request: HttpRequest, invite):
    try:
        membership = invites.invite_accept(invite, request.user)
    except invites.InviteInvalid as exc:
        messages.error(request, str(exc))
        return redirect("team_list")
    _switch_to(request, membership.team_id)
    role = membership.get_role_display().lower()
    messages.success(request, f"Welcome to {invite.team.name}: you joined as {role}.")
    return redirect("history")
