"""The team's api2convert client (the vendor's SDK) and what its failures mean for a job."""

import logging
import time

from api2convert import (
    Api2Convert,
    Api2ConvertError,
    ApiError,
    AuthenticationError,
    NetworkError,
    NotFoundError,
    PaymentRequiredError,
    RateLimitError,
    ServerError,
)
from django.conf import settings
from django.views.decorators.debug import sensitive_variables

from converter.models import Api2convertAccount, Team
from converter.providers.api2convert import crypto

logger = logging.getLogger(__name__)


class RemoteFailure(Exception):
    """Something went wrong at or on the way to api2convert; str() is for people.

    transient failures (429, 5xx, network, unreadable answers) may be retried;
    retry_after is the server's Retry-After in seconds, when it sent one.
    """

    def __init__(self, code: str, message: str, *, transient: bool = False, retry_after: float | None = None):
        super().__init__(message)
        self.code, self.message = code, message
        self.transient, self.retry_after = transient, retry_after

    def as_error(self, id_source: str) -> dict:
        """The failure as a job error, in api2convert's shape."""
        return {"source": "conversion", "id_source": id_source, "code": self.code, "message": self.message}


def failure_from(exc: Api2ConvertError) -> RemoteFailure:
    """Map an SDK exception (its messages never contain the key) onto what we tell the user."""
    if isinstance(exc, AuthenticationError):
        return RemoteFailure("API2CONVERT_KEY_INVALID", "The team's api2convert key is invalid.")
    if isinstance(exc, PaymentRequiredError):
        return RemoteFailure("API2CONVERT_QUOTA", "The api2convert quota is used up.")
    if isinstance(exc, RateLimitError):
        return RemoteFailure("API2CONVERT_BUSY", "api2convert is busy (too many concurrent requests).",
                             transient=True, retry_after=exc.retry_after)
    if isinstance(exc, ServerError):
        return RemoteFailure("API2CONVERT_UNAVAILABLE",
                             f"api2convert had a server error (HTTP {exc.status_code}).", transient=True)
    if isinstance(exc, NetworkError):
        return RemoteFailure("API2CONVERT_UNREACHABLE", f"api2convert could not be reached: {exc}",
                             transient=True)
    if isinstance(exc, NotFoundError):
        return RemoteFailure("API2CONVERT_NOT_FOUND", "The job no longer exists at api2convert.")
    if isinstance(exc, ApiError):  # 400/422 validation, 409 wrong state, other 4xx
        return RemoteFailure("API2CONVERT_REJECTED", f"api2convert refused the request: {exc}")
    return RemoteFailure("API2CONVERT_ERROR", f"api2convert failed: {exc}")


def pause(seconds: float) -> None:
    """The SDK's sleep between its own retries (a seam for tests, which record instead of waiting)."""
    time.sleep(seconds)


@sensitive_variables("key")
def client_for_key(key: str, *, retries: int | None = None) -> Api2Convert:
    """An SDK client. retries=0 for callers that reschedule themselves rather than sleep."""
    return Api2Convert(
        key, base_url=settings.API2CONVERT_BASE_URL, timeout=settings.API2CONVERT_TIMEOUT,
        max_retries=settings.API2CONVERT_MAX_RETRIES if retries is None else retries,
        sleeper=lambda seconds: pause(seconds),
    )


@sensitive_variables("key")
def client_for(team: Team, *, retries: int | None = None) -> Api2Convert:
    """The client on the team's own key; RemoteFailure when it has none that we can read."""
    account = Api2convertAccount.objects.filter(team=team).first()
    if account is None:
        raise RemoteFailure("API2CONVERT_NO_KEY",
                            "This team has no api2convert key; add one in the team settings.")
    try:
        key = crypto.decrypt(account.key_encrypted)
    except crypto.InvalidToken:
        logger.error("the api2convert key of team %s cannot be decrypted with FIELD_ENCRYPTION_KEYS", team.pk)
        raise RemoteFailure("API2CONVERT_NO_KEY", "The team's api2convert key can no longer be read; "
                            "store it again in the team settings.") from None
    return client_for_key(key, retries=retries)
