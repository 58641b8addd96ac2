"""POST {server}/upload-file/{job_id}: a file for an incomplete job, authenticated by the job's token.

The upload handler (converter/uploads.py) streams the file to a temporary file as the body
arrives; storage then moves or copies it, so a file is never read whole into memory.
"""

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.http import HttpRequest, JsonResponse
from django.http.multipartparser import MultiPartParserError

from converter.api.auth import require_job_token
from converter.api.http import ApiProblem, endpoint, invalid_field
from converter.api.serializers import input_json
from converter.models import Job
from converter.services.jobs import display_filename, input_add_upload
from converter.services.quotas import QuotaExceeded, quota_check_file
from converter.uploads import upload_refused

# Multipart framing around the file: a body past this is refused before it is read.
_MULTIPART_OVERHEAD = 64 * 1024


def _too_large() -> ApiProblem:
    limit = settings.MAX_UPLOAD_BYTES // 1024**2
    return ApiProblem(413, f"The file is larger than the limit of {limit} MiB.")


def _received_file(request: HttpRequest):
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > settings.MAX_UPLOAD_BYTES + _MULTIPART_OVERHEAD:
        raise _too_large()
    try:
        uploads = request.FILES.getlist("file")
    except RequestDataTooBig:
        raise _too_large() from None
    except (MultiPartParserError, SuspiciousOperation, ValueError):
        raise ApiProblem(400, "The body is not valid multipart/form-data.") from None
    if refused := upload_refused(request):
        raise ApiProblem(413, refused)
    if not uploads:
        # A part without a file name (or named "." or "..") is not a file to the parser.
        raise invalid_field("file", "Send the file as this multipart/form-data field, with a file name "
                                    '(filename="…" in its Content-Disposition).')
    if len(uploads) > 1:  # rather than keep one and drop the others unsaid
        raise invalid_field("file", f"One file per request: this one held {len(uploads)}. "
                                    "Send each file in a request of its own.")
    upload = uploads[0]
    if upload.size > settings.MAX_UPLOAD_BYTES:
        raise _too_large()
    return upload


@endpoint("POST")
def upload_file(request: HttpRequest, job_id):
    job = Job.objects.filter(pk=job_id).first()
    if job is None:
        raise ApiProblem(404, "The job does not exist.")
    require_job_token(request, job)
    if job.status != Job.Status.INCOMPLETE:
        raise ApiProblem(409, f"The job is {job.status}; files can only be added before it starts.")
    if job.inputs.count() >= settings.MAX_UPLOAD_FILES:
        raise ApiProblem(400, f"At most {settings.MAX_UPLOAD_FILES} files per job.")
    upload = _received_file(request)
    try:
        quota_check_file(job.team, display_filename(upload.name), upload.size)
    except QuotaExceeded as exc:
        raise ApiProblem(402, str(exc)) from None
    return JsonResponse(input_json(input_add_upload(job, upload)))
