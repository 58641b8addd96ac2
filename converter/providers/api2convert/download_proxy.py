"""Streaming an api2convert output through to the browser, never buffered whole.

Not the SDK: its download stream is a context manager that closes when its block ends, while
Django consumes a StreamingHttpResponse after the view has returned; and the upstream status
and headers must be read before we answer. Not httpx either, for speed: http_stream.py says why.
"""

import logging
from urllib.parse import urljoin

from django.conf import settings
from django.db.models import F
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.utils.http import content_disposition_header

from converter.models import JobOutput
from converter.providers.api2convert import crypto, http_stream
from converter.providers.api2convert.http_stream import TransportError, Upstream

logger = logging.getLogger(__name__)

SESSION_PASSWORDS = "api2convert_download_passwords"
REMEMBERED_JOBS = 50
MAX_REDIRECTS = 5
CONNECT_RETRIES = 2  # failed connects only: no byte has been sent or received
PASSED_HEADERS = ("Content-Type", "Content-Length", "Content-Range", "Accept-Ranges", "ETag", "Last-Modified",
                  "Content-Encoding")

EXPIRED = "The file has expired at api2convert (results are kept there for 24 hours)."
_UPSTREAM_ERRORS = {
    401: (403, "api2convert refused the download password."),
    403: (403, "api2convert refused the download: the file is disabled or its download limit is reached."),
    404: (410, EXPIRED),
    410: (410, EXPIRED),
    429: (429, "api2convert is busy; try the download again in a moment."),
}
UNAVAILABLE = (502, "api2convert could not deliver the file right now; try again shortly.")


def _open(uri: str, headers: dict) -> Upstream:
    """GET uri, following redirects by hand so that the download password header never crosses
    to another origin."""
    url = uri
    for _ in range(MAX_REDIRECTS + 1):
        upstream = http_stream.get(url, headers, timeout=settings.API2CONVERT_TIMEOUT,
                                   connect_retries=CONNECT_RETRIES)
        if not upstream.is_redirect:
            return upstream
        upstream.close()
        next_url = urljoin(url, upstream.header("Location"))
        if http_stream.target(url).origin != http_stream.target(next_url).origin:
            headers = {name: value for name, value in headers.items() if not name.lower().startswith("x-")}
        url = next_url
    raise TransportError(f"More than {MAX_REDIRECTS} redirects")


def _chunks(upstream: Upstream, output: JobOutput):
    try:
        # The bytes as they arrive, 1 MiB at a time. They are the file's own bytes: we ask for
        # identity and pass Content-Length (and any Content-Encoding) on unchanged.
        yield from upstream.chunks()
    except TransportError as exc:
        # Headers (with Content-Length) are gone already: the client sees a short body.
        logger.warning("output %s: api2convert download broke off: %s", output.pk, exc)
    finally:
        upstream.close()


def _error(status: int, message: str) -> HttpResponse:
    return HttpResponse(message, status=status, content_type="text/plain; charset=utf-8")


def _password(request: HttpRequest, output: JobOutput, supplied: str | None) -> str | None:
    """The password to forward. Pages unlock an output once per session and then send none
    (a player's range requests, a plain link), so one that was accepted is kept in the session,
    encrypted, for the next requests."""
    session = getattr(request, "session", None)
    if session is None or not output.job.has_password:
        return supplied
    remembered = dict(session.get(SESSION_PASSWORDS, {}))
    job_key = str(output.job_id)
    if supplied:
        remembered.pop(job_key, None)
        remembered[job_key] = crypto.encrypt(supplied)
        session[SESSION_PASSWORDS] = dict(list(remembered.items())[-REMEMBERED_JOBS:])
        return supplied
    try:
        return crypto.decrypt(remembered[job_key]) if job_key in remembered else None
    except crypto.InvalidToken:  # the encryption keys changed since
        return None


def remote_output_response(request: HttpRequest, output: JobOutput, supplied_password: str | None, *,
                           as_attachment: bool = True) -> HttpResponse:
    """Stream output.remote_uri through, forwarding Range and the download password the user
    gave (the caller has checked it against the job's hashes)."""
    if output.status == JobOutput.Status.EXPIRED:
        return _error(410, EXPIRED)
    password = _password(request, output, supplied_password)
    # identity: the bytes and Content-Length we pass on are the file's own.
    headers = {"Accept-Encoding": "identity"}
    if range_header := request.headers.get("Range"):
        headers["Range"] = range_header
    if password:
        headers["X-Api2convert-Download-Password"] = password
    try:
        upstream = _open(output.remote_uri, headers)
    except TransportError as exc:
        logger.warning("output %s: api2convert download failed: %s", output.pk, exc)
        return _error(*UNAVAILABLE)

    if upstream.status not in (200, 206):
        upstream.close()
        if upstream.status == 416:
            response = HttpResponse(status=416)
            response["Content-Range"] = upstream.header("Content-Range") or ""
            return response
        if upstream.status in (404, 410):
            JobOutput.objects.filter(pk=output.pk).update(status=JobOutput.Status.EXPIRED)
        logger.info("output %s: api2convert answered HTTP %s", output.pk, upstream.status)
        response = _error(*_UPSTREAM_ERRORS.get(upstream.status, UNAVAILABLE))
        if (retry_after := upstream.header("Retry-After")) is not None:
            response["Retry-After"] = retry_after
        return response

    response = StreamingHttpResponse(_chunks(upstream, output), status=upstream.status,
                                     content_type=output.content_type)
    for name in PASSED_HEADERS:
        if (value := upstream.header(name)) is not None:
            response[name] = value
    response["Content-Disposition"] = content_disposition_header(as_attachment, output.download_name)
    if request.method == "GET" and (not range_header or range_header.startswith("bytes=0-")):
        # A player's follow-up range requests are not new downloads.
        JobOutput.objects.filter(pk=output.pk).update(downloads_counter=F("downloads_counter") + 1)
    return response
