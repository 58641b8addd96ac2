"""GET {base}/dl/output/{output_id}: an output's bytes. Like the vendor's URIs it needs no account
key (the output id is the capability), but the job's download passwords are enforced."""

from django.http import HttpRequest

from converter.api.http import ApiProblem, endpoint
from converter.models import JobOutput
from converter.services.downloads import output_response, password_check
from converter.services.password_throttle import PasswordThrottled


@endpoint("GET")
def output_download(request: HttpRequest, output_id):
    output = JobOutput.objects.select_related("job").filter(pk=output_id).first()
    # A remote (api2convert engine) output is streamed through by output_response.
    if output is None or not (output.file or output.remote_uri):
        raise ApiProblem(404, "The file does not exist.")
    if output.status != JobOutput.Status.ENABLED:
        raise ApiProblem(410, f"The file is {output.status}.")
    try:
        accepted = password_check(request, output)
    except PasswordThrottled as exc:
        response = ApiProblem(429, str(exc)).response()
        response["Retry-After"] = str(exc.retry_after)
        return response
    if not accepted:
        raise ApiProblem(403, "A valid download password is required (X-Api2convert-Download-Password).")
    return output_response(request, output)
