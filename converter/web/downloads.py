"""Download and inline playback of outputs: team scope, then the job's download password."""

from django.http import HttpRequest
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from converter.models import JobOutput
from converter.selectors import output_for
from converter.services.downloads import output_response, password_accepts, supplied_password
from converter.web.teams import team_required
from converter.web.unlocks import is_unlocked, unlock


def _serve(request: HttpRequest, output_id, *, as_attachment: bool):
    output = output_for(request.team, output_id)
    if output.status == JobOutput.Status.EXPIRED:
        return render(request, "usage/output_expired.html", {"output": output}, status=410)
    supplied = supplied_password(request)
    if not is_unlocked(request, output):
        if not password_accepts(output.job, supplied):
            # No byte of the file: a form asking for the password, posted back here.
            context = {"output": output, "wrong": bool(supplied)}
            return render(request, "converter/download_locked.html", context, status=403)
        if request.method == "POST":
            unlock(request, output)
    return output_response(request, output, as_attachment=as_attachment)


@team_required
@require_http_methods(["GET", "HEAD", "POST"])
def output_download(request: HttpRequest, output_id):
    return _serve(request, output_id, as_attachment=True)


@team_required
@require_http_methods(["GET", "HEAD"])
def output_play(request: HttpRequest, output_id):
    return _serve(request, output_id, as_attachment=False)
