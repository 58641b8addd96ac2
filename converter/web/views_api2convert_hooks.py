"""api2convert's callback: a hint to re-read the job, never trusted for its body."""

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from converter.services.api2convert import api2convert_callback_accept


@csrf_exempt  # a server-to-server POST; the per-job secret in the URL (and signature) authenticate it
@require_POST
def api2convert_callback(request: HttpRequest, job_id, secret: str):
    signature = request.headers.get("X-Oc-Signature")
    accepted = api2convert_callback_accept(job_id, secret, request.body, signature)
    # A 4xx answer stops api2convert's retries: right for a callback we will never accept.
    return HttpResponse(status=204 if accepted else 403)
