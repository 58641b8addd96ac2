"""Serving outputs: password checks, streaming, Range requests. Shared by the pages and the API."""

import re

from django.db.models import F
from django.http import FileResponse, HttpRequest, HttpResponse
from django.utils.http import content_disposition_header

from converter.client_address import client_address
from converter.models import JobOutput
from converter.providers.api2convert.download_proxy import remote_output_response
from converter.services.password_throttle import throttle_check, throttle_refund, throttle_reserve
from converter.services.passwords import password_candidates, password_matches
from converter.storage import stored_stream

CHUNK = 256 * 1024
_RANGE_RE = re.compile(r"bytes=(\d*)-(\d*)")


def supplied_password(request: HttpRequest) -> str | None:
    """The download password(s) a client sent: form field, either header, or the cookie."""
    return (
        request.POST.get("password")
        or request.headers.get("X-Api2convert-Download-Password")
        or request.headers.get("X-Oc-Download-Password")
        or request.COOKIES.get("x-oc-download-password")
    )


def password_check(request: HttpRequest, output: JobOutput) -> bool:
    """Whether this request's password opens the output (its own passwords, else its job's),
    throttled: raises PasswordThrottled after too many wrong ones for this output or from this
    client, each password of a comma-separated list counting as one."""
    if not output.has_password:
        return True
    client, candidates = client_address(request), password_candidates(supplied_password(request))
    hashes = output.download_password_hashes
    if not candidates:  # costs nothing, but a blocked client is told so
        throttle_check(output.pk, hashes, client)
        return False
    reservation = throttle_reserve(output.pk, hashes, client, len(candidates))
    if password_matches(hashes, candidates):
        throttle_refund(reservation)
        return True
    return False


def _byte_range(header: str | None, size: int) -> tuple[int, int] | None | bool:
    """(first, last) for one satisfiable range; None for no/ignored header; False if unsatisfiable."""
    match = _RANGE_RE.fullmatch((header or "").strip())
    if not match or match.groups() == ("", ""):
        return None  # absent, malformed or multi-range: serve the whole file
    first, last = match.groups()
    if first == "":
        length = int(last)
        if length == 0:
            return False
        return max(size - length, 0), size - 1
    first, last = int(first), int(last) if last else size - 1
    if match[2] and last < first:  # a last byte given before the first ("bytes=5-2"): invalid,
        return None  # so ignored, as RFC 9110 says, not refused
    if first >= size:
        return False
    return first, min(last, size - 1)


class _FileRange:
    """A stored file's bytes from its current position, `remaining` of them. Served as a
    FileResponse: gunicorn sends a local file with sendfile() from the descriptor's position and
    Content-Length (no byte through Python: 2.8x the throughput of 256 KiB reads, measured by
    bench/downloads.py); other servers and S3 streams (no fileno) read it CHUNK at a time."""

    def __init__(self, fileobj, remaining: int):
        self.fileobj, self.remaining = fileobj, remaining

    def fileno(self) -> int:
        return self.fileobj.fileno()

    def read(self, size: int = -1) -> bytes:
        size = self.remaining if size < 0 else min(size, self.remaining)
        chunk = self.fileobj.read(size) if size > 0 else b""
        self.remaining -= len(chunk)
        return chunk

    def close(self) -> None:
        self.fileobj.close()


def output_response(request: HttpRequest, output: JobOutput, *, as_attachment: bool = True) -> HttpResponse:
    """Stream a stored output. The caller has checked team scope and the password."""
    if output.remote_uri:  # an api2convert output: streamed through, never copied
        return remote_output_response(request, output, supplied_password(request),
                                      as_attachment=as_attachment)
    size = output.size  # as the worker stored it: asking the storage would cost S3 a round trip
    byte_range = _byte_range(request.headers.get("Range"), size)
    if byte_range is False:
        response = HttpResponse(f"The range asked for is not in the file, which has {size:,} bytes.",
                                status=416, content_type="text/plain; charset=utf-8")
        response["Content-Range"] = f"bytes */{size}"
        return response
    first, last = byte_range or (0, size - 1)
    fileobj = _FileRange(stored_stream(output.file, first, last), last - first + 1)
    response = FileResponse(fileobj, status=206 if byte_range else 200, content_type=output.content_type)
    response.block_size = CHUNK
    response["Content-Length"] = str(last - first + 1)
    response["Accept-Ranges"] = "bytes"
    if byte_range:
        response["Content-Range"] = f"bytes {first}-{last}/{size}"
    response["Content-Disposition"] = content_disposition_header(as_attachment, output.download_name)
    if as_attachment and not byte_range and request.method != "HEAD":
        # Plays and a player's range requests are not downloads.
        JobOutput.objects.filter(pk=output.pk).update(downloads_counter=F("downloads_counter") + 1)
    return response
