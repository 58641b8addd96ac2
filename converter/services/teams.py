"""Teams and their members: creating, roles, leaving, removing, transferring ownership."""

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils.text import slugify

from converter.models import Membership, Team


def _unique_slug(base: str) -> str:
    base = slugify(base)[:100] or "team"
    slug, n = base, 1
    while Team.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


@transaction.atomic
def team_create(*, name: str, owner, personal: bool = False) -> Team:
    team = Team.objects.create(name=name, slug=_unique_slug(name), personal=personal)
    Membership.objects.create(team=team, user=owner, role=Membership.Role.OWNER)
    return team


def team_create_personal(user) -> Team:
    return team_create(name=user.get_username(), owner=user, personal=True)


class TeamRuleBroken(ValueError):
    """A change to a team's members that its rules forbid; str() is a message for the user."""


MANAGERS = (Membership.Role.OWNER, Membership.Role.ADMIN)


def can_manage_members(membership: Membership | None) -> bool:
    return membership is not None and membership.role in MANAGERS


def _require_manager(actor: Membership) -> None:
    if not can_manage_members(actor):
        raise PermissionDenied("Only the team's owners and admins manage its members.")


def _require_may_touch(actor: Membership, target: Membership) -> None:
    """Admins manage admins, members and viewers; only an owner touches an owner."""
    _require_manager(actor)
    if target.role == Membership.Role.OWNER and actor.role != Membership.Role.OWNER:
        raise PermissionDenied("Only an owner can change another owner.")


def _require_another_owner(target: Membership, message: str) -> None:
    owners = Membership.objects.filter(team_id=target.team_id, role=Membership.Role.OWNER)
    if target.role == Membership.Role.OWNER and not owners.exclude(pk=target.pk).exists():
        raise TeamRuleBroken(message)


def _locked(membership: Membership) -> Membership:
    """The row again, and the team's owners, locked: two owners demoting each other at once
    must not leave the team with none."""
    owners = Membership.objects.select_for_update().filter(team_id=membership.team_id,
                                                           role=Membership.Role.OWNER)
    list(owners.values_list("pk", flat=True))
    return Membership.objects.select_for_update().select_related("team", "user").get(pk=membership.pk)


@transaction.atomic
def membership_role_set(*, actor: Membership, target: Membership, role: str) -> Membership:
    if role not in Membership.Role.values:
        raise TeamRuleBroken("Unknown role.")
    target = _locked(target)
    _require_may_touch(actor, target)
    if role == Membership.Role.OWNER and actor.role != Membership.Role.OWNER:
        raise PermissionDenied("Only an owner can make someone an owner.")
    if role != Membership.Role.OWNER:
        _require_another_owner(target, "The last owner cannot be demoted: make someone else an owner first.")
    target.role = role
    target.save(update_fields=["role"])
    return target


@transaction.atomic
def membership_remove(*, actor: Membership, target: Membership) -> None:
    if actor.pk == target.pk:
        return team_leave(target)
    target = _locked(target)
    _require_may_touch(actor, target)
    target.delete()


@transaction.atomic
def team_leave(membership: Membership) -> None:
    membership = _locked(membership)
    if membership.team.personal and membership.role == Membership.Role.OWNER:
        raise TeamRuleBroken("You cannot leave your personal team.")
    _require_another_owner(membership, "The last owner cannot leave: transfer the ownership first.")
    membership.delete()


@transaction.atomic
def ownership_transfer(*, actor: Membership, target: Membership) -> None:
    """The target becomes an owner and the actor, an owner, steps down to admin."""
    if actor.role != Membership.Role.OWNER:
        raise PermissionDenied("Only an owner can transfer the ownership.")
    if actor.pk == target.pk:
        raise TeamRuleBroken("You own this team already.")
    target, actor = _locked(target), _locked(actor)
    target.role, actor.role = Membership.Role.OWNER, Membership.Role.ADMIN
    target.save(update_fields=["role"])
    actor.save(update_fields=["role"])
