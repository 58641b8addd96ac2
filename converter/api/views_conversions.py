"""/v2/jobs/{id}/conversions: a job's conversions. Ours hold exactly one, to FLAC, whose id is
derived from the job's (serializers.conversion_id); its options change while the job is incomplete."""

from django.http import HttpRequest, JsonResponse

from converter.api.auth import caller_membership, job_authorised
from converter.api.http import ApiProblem, endpoint, json_object
from converter.api.job_requests import conversion_options, conversion_patch
from converter.api.problems import service_problems
from converter.api.serializers import conversion_id as conversion_id_of
from converter.api.serializers import conversion_json
from converter.services.job_edits import job_check_changeable, job_options_replace


@endpoint("GET", "POST")
def job_conversions(request: HttpRequest, job_id):
    job = job_authorised(request, job_id)
    if request.method == "POST":
        conversion_options(json_object(request))  # a target other than flac, or a bad option: named
        existing = conversion_id_of(job)
        raise ApiProblem(400, f"A job has exactly one conversion, to FLAC, and this one has it ({existing}): "
                              f"change its options with PATCH /jobs/{job.pk}/conversions/{existing}.")
    return JsonResponse([conversion_json(job)], safe=False)


@endpoint("GET", "PATCH", "DELETE")
def job_conversion(request: HttpRequest, job_id, conversion_id: str):
    job = job_authorised(request, job_id)
    if conversion_id != conversion_id_of(job):
        raise ApiProblem(404, "The conversion does not exist in this job.")
    if request.method == "DELETE":
        raise ApiProblem(409, "A job has exactly one conversion, which cannot be removed; cancel the job "
                              f"(DELETE /jobs/{job.pk}) instead.")
    if request.method == "PATCH":
        options = conversion_patch(json_object(request))
        membership = caller_membership(request)
        with service_problems():
            job_check_changeable(job, membership=membership)
            if options is not None:
                job_options_replace(job, options, membership=membership)
    return JsonResponse(conversion_json(job))
