"""Who is calling: the account key (X-Api2convert-Api-Key or X-Oc-Api-Key) for the API, the
job's token (X-Api2convert-Token or X-Oc-Token) for uploads, as api2convert does."""

import hmac

from django.http import HttpRequest

from converter.api.http import ApiProblem
from converter.models import Job
from converter.services.api_keys import key_authenticate

KEY_HEADERS = ("X-Api2convert-Api-Key", "X-Oc-Api-Key")
TOKEN_HEADERS = ("X-Api2convert-Token", "X-Oc-Token")


def _header(request: HttpRequest, names: tuple[str, ...]) -> str | None:
    return next((request.headers[name] for name in names if request.headers.get(name)), None)


def require_api_key(request: HttpRequest) -> None:
    """Sets request.api_key and request.team (the key's team scopes everything), or 401."""
    api_key = key_authenticate(_header(request, KEY_HEADERS))
    if api_key is None:
        raise ApiProblem(401, "Invalid api key")
    request.api_key, request.team = api_key, api_key.team


def require_job_token(request: HttpRequest, job: Job) -> None:
    token = _header(request, TOKEN_HEADERS)
    if token is None:
        hint = " The account key is not accepted here." if _header(request, KEY_HEADERS) else ""
        raise ApiProblem(401, "Uploads need the job's token in the X-Api2convert-Token header." + hint)
    if not hmac.compare_digest(token.encode(), job.token.encode()):
        raise ApiProblem(401, "Invalid token")
