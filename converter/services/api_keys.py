"""API keys for the api2convert-compatible API (after healthchecks' hc/accounts/models.py).

A key is shown once. We keep its prefix (to find it) and a salted HMAC-SHA256 of the whole
key: the key is 190 random bits, so a slow password hash would only cost time per request.
"""

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from django.db.models import Exists, OuterRef
from django.utils import timezone

from converter.models import ApiKey, Membership, Team
from converter.services.key_usage import key_used

PREFIX_LENGTH = 12  # "fk_" + 9 characters: 54 bits, unique per installation


class ApiKeyInvalid(ValueError):
    """The key cannot be issued; str() is a message for the user."""


@dataclass(frozen=True)
class IssuedKey:
    """A new key with its secrets, which exist in plain text only here."""

    api_key: ApiKey
    key: str
    signing_secret: str


def _hash(salt: str, key: str) -> str:
    return hmac.new(salt.encode(), key.encode(), hashlib.sha256).hexdigest()


def key_issue(*, team: Team, user, name: str) -> IssuedKey:
    name = name.strip()
    if not name or len(name) > 100:
        raise ApiKeyInvalid("Give the key a name of 1 to 100 characters.")
    membership = Membership.objects.filter(team=team, user=user).first()
    if membership is None or not membership.can_convert:
        raise ApiKeyInvalid("Your role in this team does not allow converting, so it cannot have API keys.")
    key = "fk_" + secrets.token_urlsafe(32)
    salt = secrets.token_hex(16)
    api_key = ApiKey.objects.create(
        team=team, user=user, name=name, prefix=key[:PREFIX_LENGTH], salt=salt, key_hash=_hash(salt, key),
        signing_secret=secrets.token_hex(32),
    )
    return IssuedKey(api_key=api_key, key=key, signing_secret=api_key.signing_secret)


def key_revoke(api_key: ApiKey) -> None:
    if api_key.revoked_at is None:
        api_key.revoked_at = timezone.now()
        api_key.save(update_fields=["revoked_at"])


def key_authenticate(key: str | None) -> ApiKey | None:
    """The live key matching `key`, its use counted (services/key_usage.py); None for unknown,
    revoked or orphaned keys. One query."""
    if not key or len(key) > 200:
        return None
    # A key dies with its owner's membership of the team.
    member = Exists(Membership.objects.filter(team=OuterRef("team"), user=OuterRef("user")))
    api_key = ApiKey.objects.select_related("team", "user").annotate(member=member).filter(
        prefix=key[:PREFIX_LENGTH], revoked_at__isnull=True).first()
    # compare_digest: the time taken says nothing about how much of the hash matched.
    if api_key is None or not hmac.compare_digest(api_key.key_hash, _hash(api_key.salt, key)):
        return None
    if not (api_key.member and api_key.user.is_active):
        return None
    key_used(api_key.pk)
    return api_key
