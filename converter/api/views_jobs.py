"""/v2/jobs: create, list, read, start (PATCH process), cancel (DELETE), and a job's outputs,
history and threads. Inputs: views_inputs.py; conversions: views_conversions.py.

A job's own endpoints take the account key or the job's token (auth.job_authorised)."""

from django.db import transaction
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse, JsonResponse

from converter.api.auth import caller_membership, job_authorised, require_api_key, require_converter
from converter.api.http import ApiProblem, api_base, endpoint, invalid_field, json_object, one_or_404
from converter.api.job_requests import JobRequest, job_request
from converter.api.problems import service_problems
from converter.api.serializers import history_json, job_json, output_json, thread_json
from converter.models import Job, JobInput, JobOutput, Team
from converter.services.jobs import job_cancel, job_create, job_enqueue, job_set
from converter.services.outputs import (
    output_delete,
    output_password_set,
    output_rename,
    require_outputs_changeable,
)
from converter.services.passwords import password_fields

PAGE_SIZE = 50  # as the vendor


def _page(request: HttpRequest) -> int:
    try:
        page = int(float(request.GET.get("page") or 1))
    except (ValueError, OverflowError):
        raise invalid_field("page", "Must be a whole number.") from None
    if page < 1:
        raise invalid_field("page", "Must be 1 or more.")
    return min(page, 10**6)


def _status(request: HttpRequest) -> str:
    """The status to list, if one is asked for: a misspelt one is named, not answered with []."""
    status = request.GET.get("status", "")
    if status and status not in Job.Status.values:
        raise invalid_field("status", f"Must be one of: {', '.join(Job.Status.values)}.")
    return status


def _notification_fields(wanted: JobRequest) -> dict:
    fields = {"callback": wanted.callback, "notify_status": wanted.notify_status}
    return {name: value for name, value in fields.items() if value is not None}


@endpoint("GET", "POST", authenticate=require_api_key)
def jobs(request: HttpRequest):
    return _create(request) if request.method == "POST" else _list(request)


def _create(request: HttpRequest) -> JsonResponse:
    wanted = job_request(json_object(request), creating=True)
    # Like the vendor, a job without inputs waits (incomplete) for uploads and a PATCH.
    process = wanted.process is not False and bool(wanted.urls)
    with service_problems(), transaction.atomic():
        job = job_create(team=request.team, user=request.api_key.user, options=wanted.options,
                         urls=wanted.urls, url_passwords=wanted.url_passwords, process=process,
                         fields={"api_key": request.api_key, "api_base_url": api_base(request),
                                 **_notification_fields(wanted)})
    return JsonResponse(job_json(job, api_base(request)), status=201)


def _list(request: HttpRequest) -> JsonResponse:
    rows = Job.objects.filter(team=request.team).prefetch_related(
        Prefetch("inputs", queryset=JobInput.objects.order_by("created_at")),
        Prefetch("outputs", queryset=JobOutput.objects.order_by("created_at")),
    )
    if status := _status(request):
        rows = rows.filter(status=status)
    first = (_page(request) - 1) * PAGE_SIZE
    base = api_base(request)
    response = JsonResponse([job_json(job, base) for job in rows[first:first + PAGE_SIZE]], safe=False)
    response["X-Count"] = str(rows.count())
    return response


@endpoint("GET", "PATCH", "DELETE")
def job_detail(request: HttpRequest, job_id):
    job = job_authorised(request, job_id)
    if request.method == "DELETE":
        require_converter(request, "cancelling jobs")
        if job.status in (Job.Status.COMPLETED, Job.Status.FAILED):
            raise ApiProblem(409, f"The job has already {job.status}; there is nothing to cancel.")
        job_cancel(job)
        return HttpResponse(status=204)
    if request.method == "PATCH":
        require_converter(request, "changing jobs")
        _patch(job, job_request(json_object(request), creating=False))
    return JsonResponse(job_json(job, api_base(request)))


def _patch(job: Job, wanted: JobRequest) -> None:
    fields = _notification_fields(wanted)
    if wanted.passwords is not None:
        fields |= password_fields(wanted.passwords, job.engine)
    with transaction.atomic():
        job.refresh_from_db()  # the status read below decides, inside the write transaction
        if wanted.passwords is not None and job.engine == Team.Engine.API2CONVERT \
                and job.status != Job.Status.INCOMPLETE:
            # api2convert checks its downloads against the passwords it was sent with the job.
            raise ApiProblem(409, "The download passwords were sent to api2convert with the job; "
                                  "they cannot change after it has started.")
        if fields:
            job_set(job, **fields)
        if not wanted.process or job.status != Job.Status.INCOMPLETE:
            if wanted.process and job.is_terminal:
                raise ApiProblem(409, f"The job is {job.status} and cannot be started again.")
            return
        if not job.inputs.exists():
            raise ApiProblem(400, "Add at least one input (upload a file to {server}/upload-file/{id}) "
                                  "before starting the job.")
        job_enqueue(job)


@endpoint("GET", "PATCH")
def job_outputs(request: HttpRequest, job_id):
    job = job_authorised(request, job_id)
    outputs = list(job.outputs.all())
    if request.method == "PATCH":
        patch = _output_patch(request)
        with service_problems():
            require_outputs_changeable(job, caller_membership(request))
        with transaction.atomic():  # all of them or none
            for output in outputs:
                patch(output)
    base = api_base(request)
    return JsonResponse([output_json(output, base, job) for output in outputs], safe=False)


@endpoint("GET", "PATCH", "DELETE")
def job_output(request: HttpRequest, job_id, output_id):
    job = job_authorised(request, job_id)
    output = one_or_404(job.outputs, output_id, "The file does not exist in this job.")
    if request.method == "DELETE":
        with service_problems():
            output_delete(output, membership=caller_membership(request))
        return HttpResponse(status=204)
    if request.method == "PATCH":
        _output_patch(request)(output)
    return JsonResponse(output_json(output, api_base(request), job))


def _output_patch(request: HttpRequest):
    """The vendor's OutputFilePatch ({"filename"?, "download_password"?}) as a change to apply
    to one output."""
    body = json_object(request)
    unknown = sorted(set(body) - {"filename", "download_password"})
    if unknown:
        raise invalid_field(unknown[0], "An output takes only filename and download_password.")
    for name, value in body.items():
        if not isinstance(value, str):
            raise invalid_field(name, "Must be a string.")
    membership = caller_membership(request)

    def apply(output: JobOutput) -> None:
        with service_problems():
            if "filename" in body:
                output_rename(output, body["filename"], membership=membership)
            if "download_password" in body:
                output_password_set(output, body["download_password"], membership=membership)

    return apply


@endpoint("GET")
def job_history(request: HttpRequest, job_id):
    return JsonResponse(history_json(job_authorised(request, job_id)), safe=False)


@endpoint("GET")
def job_threads(request: HttpRequest, job_id):
    return JsonResponse(thread_json(job_authorised(request, job_id)), safe=False)
