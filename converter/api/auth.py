"""Who is calling: the account key (X-Api2convert-Api-Key or X-Oc-Api-Key) for the API, the
job's token (X-Api2convert-Token or X-Oc-Token) for uploads and, as api2convert accepts it
there, for the job's own endpoints (/jobs/{id}/…)."""

import hmac

from django.http import HttpRequest

from converter.api.http import ApiProblem
from converter.models import Job, Membership
from converter.selectors import job_by_id, job_for, membership_for
from converter.services.api_keys import key_authenticate

KEY_HEADERS = ("X-Api2convert-Api-Key", "X-Oc-Api-Key")
TOKEN_HEADERS = ("X-Api2convert-Token", "X-Oc-Token")


def _header(request: HttpRequest, names: tuple[str, ...]) -> str | None:
    return next((request.headers[name] for name in names if request.headers.get(name)), None)


def require_api_key(request: HttpRequest) -> None:
    """Sets request.api_key and request.team (the key's team scopes everything), or 401.
    request.caller is the user the request acts for (the key's owner)."""
    api_key = key_authenticate(_header(request, KEY_HEADERS))
    if api_key is None:
        raise ApiProblem(401, "Invalid api key")
    request.api_key, request.team, request.caller = api_key, api_key.team, api_key.user


def require_job_token(request: HttpRequest, job: Job) -> None:
    token = _header(request, TOKEN_HEADERS)
    if token is None:
        hint = " The account key is not accepted here." if _header(request, KEY_HEADERS) else ""
        raise ApiProblem(401, "Uploads need the job's token in the X-Api2convert-Token header." + hint)
    if not hmac.compare_digest(token.encode(), job.token.encode()):
        raise ApiProblem(401, "Invalid token")


def job_authorised(request: HttpRequest, job_id) -> Job:
    """The job of a /jobs/{id}/… request, or 404. The account key reaches every job of its team;
    the job's token alone (no key sent) reaches that job, acting for whoever created it."""
    if _header(request, KEY_HEADERS) or not _header(request, TOKEN_HEADERS):
        require_api_key(request)
        return job_for(request.team, job_id)
    job = job_by_id(job_id)
    require_job_token(request, job)
    request.api_key, request.team, request.caller = job.api_key, job.team, job.created_by
    return job


def caller_membership(request: HttpRequest) -> Membership | None:
    """The caller's membership of the team (its role decides what it may change), if any left."""
    return membership_for(request.caller, request.team) if request.caller is not None else None


def require_converter(request: HttpRequest, action: str) -> Membership:
    """The caller's membership, or 403 unless its role may convert (viewers may only read)."""
    membership = caller_membership(request)
    if membership is None or not membership.can_convert:
        raise ApiProblem(403, f"Your role in this team does not allow {action}.")
    return membership
