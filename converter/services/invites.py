"""Invitations into a team: by a link whose token only the inviter ever sees (the database
keeps its SHA-256), or addressed to a user by name. Either is used once and expires."""

import hashlib
import secrets
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import timezone

from converter.models import Invite, Membership
from converter.services.teams import can_manage_members

INVITE_DAYS = 7
TOKEN_BYTES = 32


class InviteInvalid(ValueError):
    """The invite cannot be used or made; str() is a message for the user."""


def token_hash(token: str) -> str:
    # The token is 256 random bits: a plain hash is enough, no salt or stretching needed.
    return hashlib.sha256(token.encode()).hexdigest()


def _expiry():
    return timezone.now() + timedelta(days=INVITE_DAYS)


def _check_inviter(actor: Membership | None, role: str) -> None:
    if not can_manage_members(actor):
        raise PermissionDenied("Only the team's owners and admins invite people.")
    if role not in Membership.Role.values:
        raise InviteInvalid("Unknown role.")
    if role == Membership.Role.OWNER and actor.role != Membership.Role.OWNER:
        raise PermissionDenied("Only an owner can invite an owner.")


def invite_link_create(*, actor: Membership, role: str) -> tuple[Invite, str]:
    """A new link invite and its token, which is not stored and cannot be shown again."""
    _check_inviter(actor, role)
    token = secrets.token_urlsafe(TOKEN_BYTES)
    invite = Invite.objects.create(team_id=actor.team_id, role=role, token_hash=token_hash(token),
                                   created_by=actor.user, expires_at=_expiry())
    return invite, token


def invite_user_create(*, actor: Membership, username: str, role: str) -> Invite:
    _check_inviter(actor, role)
    user = get_user_model().objects.filter(username__iexact=username.strip()).first()
    if user is None:
        raise InviteInvalid(f"There is no user called “{username.strip()}”.")
    if Membership.objects.filter(team_id=actor.team_id, user=user).exists():
        raise InviteInvalid(f"{user.get_username()} is a member already.")
    return Invite.objects.create(team_id=actor.team_id, role=role, user=user, created_by=actor.user,
                                 expires_at=_expiry())


def invite_for_token(token: str) -> Invite | None:
    """The open link invite of this token, or None (unknown, used, expired all look alike)."""
    return (Invite.objects.select_related("team", "created_by")
            .filter(token_hash=token_hash(token), user=None, used_at=None, expires_at__gt=timezone.now())
            .first())


@transaction.atomic
def invite_accept(invite: Invite, user) -> Membership:
    """Join the team. Whoever holds a link may use it; an addressed invite only its user."""
    invite = Invite.objects.select_for_update().select_related("team").get(pk=invite.pk)
    if invite.user_id is not None and invite.user_id != user.pk:
        raise PermissionDenied("This invitation is for someone else.")
    if invite.used_at is not None or invite.expires_at <= timezone.now():
        raise InviteInvalid("This invitation has been used or has expired.")
    if Membership.objects.filter(team_id=invite.team_id, user=user).exists():
        raise InviteInvalid(f"You are a member of {invite.team.name} already.")
    invite.used_at, invite.used_by = timezone.now(), user
    invite.save(update_fields=["used_at", "used_by"])
    try:
        return Membership.objects.create(team_id=invite.team_id, user=user, role=invite.role)
    except IntegrityError:  # joined through another invite at the same moment: all rolls back
        raise InviteInvalid(f"You are a member of {invite.team.name} already.") from None


def invite_revoke(invite: Invite, *, actor: Membership) -> None:
    if not can_manage_members(actor) or invite.team_id != actor.team_id:
        raise PermissionDenied("Only the team's owners and admins revoke invitations.")
    invite.delete()


def invite_decline(invite: Invite, user) -> None:
    if invite.user_id != user.pk:
        raise PermissionDenied("This invitation is for someone else.")
    invite.delete()
