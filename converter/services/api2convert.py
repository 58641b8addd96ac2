"""Writes around a team's api2convert account: its key, its default engine, callbacks.

The key is accepted here, encrypted at once and never logged, returned or rendered again:
only its last four characters are kept in clear.
"""

import logging

from api2convert import Api2ConvertError, AuthenticationError, PaymentRequiredError
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from converter.models import Api2convertAccount, Job, Membership, Team
from converter.providers.api2convert import crypto
from converter.providers.api2convert.callbacks import callback_authentic
from converter.providers.api2convert.client import client_for_key, failure_from

logger = logging.getLogger(__name__)

MANAGERS = (Membership.Role.OWNER, Membership.Role.ADMIN)


class KeyInvalid(ValueError):
    """The key given cannot be a key; str() is for the user."""


def can_manage_account(membership: Membership | None) -> bool:
    return membership is not None and membership.role in MANAGERS


def _require_manager(team: Team, user) -> None:
    if not can_manage_account(Membership.objects.filter(team=team, user=user).first()):
        raise PermissionDenied("Only the team's owners and admins manage its api2convert account.")


@sensitive_variables("key")
def api2convert_key_store(*, team: Team, user, key: str) -> Api2convertAccount:
    """Store or replace the team's key (encrypted); an earlier test result no longer applies."""
    _require_manager(team, user)
    key = key.strip()
    if not 8 <= len(key) <= 200 or not key.isascii() or not key.isprintable() or " " in key:
        raise KeyInvalid("That does not look like an api2convert API key.")
    account, _ = Api2convertAccount.objects.update_or_create(team=team, defaults={
        "key_encrypted": crypto.encrypt(key), "key_last4": key[-4:], "checked_at": None, "check_result": "",
    })
    logger.info("api2convert key of team %s stored by user %s", team.pk, user.pk)
    return account


def api2convert_key_remove(*, team: Team, user) -> None:
    """Forget the key; a team that defaulted to api2convert falls back to the embedded engine."""
    _require_manager(team, user)
    with transaction.atomic():
        Api2convertAccount.objects.filter(team=team).delete()
        Team.objects.filter(pk=team.pk, default_engine=Team.Engine.API2CONVERT).update(
            default_engine=Team.Engine.LOCAL)
    team.refresh_from_db(fields=["default_engine"])
    logger.info("api2convert key of team %s removed by user %s", team.pk, user.pk)


@sensitive_variables("key")
def api2convert_key_test(*, team: Team, user) -> Api2convertAccount:
    """One cheap authenticated call (GET /contracts); the verdict is kept on the account."""
    _require_manager(team, user)
    account = Api2convertAccount.objects.get(team=team)
    key = crypto.decrypt(account.key_encrypted)
    with client_for_key(key, retries=0) as client:
        try:
            client.contracts.get()
            result = "Valid: api2convert accepted the key."
        except AuthenticationError:
            result = "Invalid: api2convert does not accept this key."
        except PaymentRequiredError:
            result = "Quota used up: the key is valid but its api2convert quota is used up."
        except Api2ConvertError as exc:
            result = f"Not checked: {failure_from(exc).message}"
    account.checked_at, account.check_result = timezone.now(), result[:200]
    account.save(update_fields=["checked_at", "check_result", "updated_at"])
    return account


def default_engine_set(*, team: Team, user, engine: str) -> None:
    _require_manager(team, user)
    if engine not in Team.Engine.values:
        raise ValueError(f"Unknown engine {engine!r}")
    if engine == Team.Engine.API2CONVERT and not Api2convertAccount.objects.filter(team=team).exists():
        raise KeyInvalid("Store the team's api2convert key before making api2convert the default.")
    Team.objects.filter(pk=team.pk).update(default_engine=engine)
    team.default_engine = engine


def api2convert_callback_accept(job_id, secret: str, body: bytes, signature: str | None) -> bool:
    """A callback from api2convert: only a hint to read the job now. False when it is not
    authentic (wrong secret or signature) or names no api2convert job."""
    from converter import tasks  # tasks import services: import at call time

    if not callback_authentic(job_id, secret, body, signature):
        return False
    if not Job.objects.filter(pk=job_id, engine=Team.Engine.API2CONVERT).exists():
        return False
    # robust: a hint, which a broker that cannot be reached loses; the polls go on.
    transaction.on_commit(lambda: tasks.api2convert_refresh.delay(str(job_id)), robust=True)
    return True
