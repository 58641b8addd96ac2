"""A poll of an unchanged job answered before the session, the user and the team are loaded:
one indexed query for the whole request.

A polled fragment (a job's card, a running history row) asks again every 1-2 s with its version
(?v=, the job's modified_at and status) and a token (?t=): the job's team, signed with the
SECRET_KEY for this job and the browser's session key, and dated. While the token is younger
than POLL_TOKEN_SECONDS and the version is still the job's, PollMiddleware answers 204 No
Content, which htmx does not swap. Before it, the request cost the session, the user and the
membership too: 4 queries, and most of the middleware.

The shortcut only ever says "unchanged". Anything else goes on to the view, which checks the
session, the user and the team as for any request and renders the fragment with a fresh token:
a changed or deleted job, a token that is expired, forged, or from another session (a new
sign-in, another browser). So someone signed out or removed from the team learns, for at most
POLL_TOKEN_SECONDS, only that a job they were shown has not changed. The session key is not in
the token (URLs reach logs), only in the key that signs it.
"""

from __future__ import annotations

from django.conf import settings
from django.core import signing
from django.http import HttpRequest, HttpResponse
from django.urls import Resolver404, resolve
from django.utils.cache import patch_vary_headers

from converter.models import Job
from converter.selectors import job_version_for

POLLED_VIEWS = {"job_status", "history_row"}  # their URLs carry the job's id as job_id


def _signer(job_id, session_key: str) -> signing.TimestampSigner:
    return signing.TimestampSigner(salt=f"converter.poll:{job_id}:{session_key}")


def poll_token(job: Job, session_key: str) -> str:
    """The token a fragment of the job polls with; "" without a session (nothing to bind it to),
    which leaves every poll to the view."""
    return _signer(job.pk, session_key).sign(str(job.team_id)) if session_key else ""


def _unchanged(request: HttpRequest) -> bool:
    request.get_host()  # a Host not allowed raises DisallowedHost (a 400), as CommonMiddleware would
    token, seen = request.GET.get("t"), request.GET.get("v")
    session_key = request.COOKIES.get(settings.SESSION_COOKIE_NAME)
    if not (token and seen and session_key) or request.method != "GET":
        return False
    try:
        match = resolve(request.path_info)
    except Resolver404:
        return False
    if match.url_name not in POLLED_VIEWS:
        return False
    job_id = match.kwargs["job_id"]
    try:
        team_id = _signer(job_id, session_key).unsign(token, max_age=settings.POLL_TOKEN_SECONDS)
    except signing.BadSignature:  # SignatureExpired included
        return False
    return job_version_for(int(team_id), job_id) == seen


class PollMiddleware:
    """204 for a signed poll of an unchanged job (see the module); every other request passes.
    Placed before the session's middleware, whose work it saves."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        if "t" in request.GET and _unchanged(request):
            response = HttpResponse(status=204)
            patch_vary_headers(response, ["Cookie"])  # what the answer depends on, as the view's did
            return response
        return self.get_response(request)
