"""/v2/jobs/{id}/input: a job's inputs, read at any time and changed while it is incomplete.

Files are uploaded to {server}/upload-file/{id} (views_uploads.py); here an input is added by
URL (`remote`) or by reusing another input of the team (`input_id`), given the password that
opens it when it is protected (`credentials.decrypt_password`, on adding or by PATCH), and removed.
"""

import uuid

from django.http import HttpRequest, HttpResponse, JsonResponse

from converter.api.auth import caller_membership, job_authorised
from converter.api.http import (
    ApiProblem,
    api_base,
    endpoint,
    invalid_field,
    json_body,
    json_object,
    one_or_404,
)
from converter.api.job_requests import credentials_password, input_request
from converter.api.problems import service_problems
from converter.api.serializers import input_json, upload_server
from converter.models import Job, JobInput
from converter.selectors import input_of_team
from converter.services.job_edits import (
    job_check_changeable,
    job_input_add_url,
    job_input_password_set,
    job_input_remove,
    job_input_reuse,
)

NOT_IN_JOB = "The file does not exist in this job."


@endpoint("GET", "POST", "PATCH")
def job_inputs(request: HttpRequest, job_id):
    job = job_authorised(request, job_id)
    if request.method == "POST":
        return JsonResponse(input_json(_add(request, job)), status=201)
    if request.method == "PATCH":
        _patch(request, job)
    return JsonResponse([input_json(job_input) for job_input in job.inputs.all()], safe=False)


def _add(request: HttpRequest, job: Job) -> JobInput:
    body = json_object(request)
    if body.get("type") == "upload":
        url = f"{upload_server(api_base(request))}/upload-file/{job.pk}"
        raise invalid_field("type", f"Upload files to {url} (multipart/form-data field “file”, with the "
                                    "job's token in X-Api2convert-Token).")
    wanted = input_request(body, reuse=True)
    membership = caller_membership(request)
    with service_problems():
        if wanted.type == "remote":
            return job_input_add_url(job, wanted.source, membership=membership, password=wanted.password)
        return job_input_reuse(job, _team_input(request, wanted.source), membership=membership,
                               password=wanted.password)


def _team_input(request: HttpRequest, input_id: str) -> JobInput:
    try:
        found = input_of_team(request.team, uuid.UUID(input_id))
    except ValueError:
        found = None
    if found is None:
        raise invalid_field("source", "No input of the team's jobs has this id.")
    return found


def _patch(request: HttpRequest, job: Job) -> None:
    """The vendor patches inputs' own options (InputFilePatch: {id, options}). Ours have none, so
    a patch may only name the job's inputs with empty options; anything else is refused."""
    body = json_body(request)
    if not isinstance(body, list | dict):
        raise ApiProblem(400, "The JSON body must be an input object or a list of them.")
    # Fields are named as the body has them: "id" in one object, "[1].id" in a list.
    items = enumerate(body) if isinstance(body, list) else [("", body)]
    for index, item in items:
        where = f"[{index}]." if index != "" else ""
        if not isinstance(item, dict):
            raise invalid_field(f"[{index}]", "Must be an object.")
        try:
            input_id = uuid.UUID(str(item.get("id")))
        except ValueError:
            raise invalid_field(f"{where}id", "Give the id of one of the job's inputs.") from None
        one_or_404(job.inputs, input_id, NOT_IN_JOB)
        if item.get("options") not in (None, [], {}):
            raise invalid_field(f"{where}options", "Inputs take no options here; the conversion's options "
                                                   "change with PATCH /jobs/{id}/conversions/{id}.")
    with service_problems():
        job_check_changeable(job, membership=caller_membership(request))


@endpoint("GET", "PATCH", "DELETE")
def job_input(request: HttpRequest, job_id, input_id):
    job = job_authorised(request, job_id)
    job_input = one_or_404(job.inputs, input_id, NOT_IN_JOB)
    if request.method == "DELETE":
        with service_problems():
            job_input_remove(job, job_input, membership=caller_membership(request))
        return HttpResponse(status=204)
    if request.method == "PATCH":
        _patch_credentials(request, job, job_input)
    return JsonResponse(input_json(job_input))


def _patch_credentials(request: HttpRequest, job: Job, job_input: JobInput) -> None:
    """The vendor's PatchableCredentials: only credentials.decrypt_password changes ("" or null
    removes it); its `parameters` (such as delete_after_use) have no meaning here."""
    body = json_object(request)
    unknown = sorted(set(body) - {"credentials", "parameters"})
    if unknown:
        raise invalid_field(unknown[0], "An input's PATCH takes only credentials.decrypt_password.")
    if body.get("parameters") not in (None, [], {}):
        raise invalid_field("parameters", "Inputs take no parameters here.")
    if "credentials" not in body:
        raise invalid_field("credentials", "Give credentials.decrypt_password: the password that opens "
                                           "the file.")
    with service_problems():
        job_input_password_set(job, job_input, credentials_password(body),
                               membership=caller_membership(request))
