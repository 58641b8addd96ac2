"""Download, inline playback and the waveform of outputs: team scope, then the job's download
password."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import trigger_client_event

from converter.models import JobOutput
from converter.selectors import output_for
from converter.services.downloads import output_response, password_check, supplied_password
from converter.services.password_throttle import PasswordThrottled
from converter.services.waveforms import WaveformPending
from converter.services.waveforms import output_waveform as waveform_measured
from converter.web.cards import JOB_FRAGMENT, job_card
from converter.web.teams import team_required
from converter.web.unlocks import is_unlocked, unlock
from converter.web.waveform_shape import waveform_shape


def _serve(request: HttpRequest, output_id, *, as_attachment: bool):
    output = output_for(request.team, output_id)
    if output.status == JobOutput.Status.EXPIRED:
        return render(request, "usage/output_expired.html", {"output": output}, status=410)
    if not is_unlocked(request, output):
        try:
            accepted = password_check(request, output)
        except PasswordThrottled as exc:
            response = HttpResponse(str(exc), status=429, content_type="text/plain; charset=utf-8")
            response["Retry-After"] = str(exc.retry_after)
            return response
        if not accepted:
            # No byte of the file: a form asking for the password, posted back here.
            context = {"output": output, "wrong": bool(supplied_password(request))}
            return render(request, "converter/download_locked.html", context, status=403)
        if request.method == "POST":
            unlock(request, output)
    return output_response(request, output, as_attachment=as_attachment)


@team_required
@require_http_methods(["GET", "HEAD", "POST"])
def output_download(request: HttpRequest, output_id):
    return _serve(request, output_id, as_attachment=True)


@team_required
@require_POST
def output_unlock(request: HttpRequest, output_id):
    """A password given on a job card, over htmx: the card comes back unlocked (player, waveform)
    and app.js starts the download (downloadOutput); refused, it comes back with the reason by
    the field. Without JavaScript the card's form posts to output_download instead."""
    output = output_for(request.team, output_id)
    if not request.htmx:
        return redirect("job_detail", job_id=output.job_id)
    try:
        refusal = "" if password_check(request, output) else "Wrong password."
    except PasswordThrottled as exc:
        refusal = str(exc)
    if refusal:
        card = job_card(request, output.job, unlock_errors={output.pk: refusal})
        return render(request, JOB_FRAGMENT, {"card": card}, status=422)
    unlock(request, output)
    response = render(request, JOB_FRAGMENT, {"card": job_card(request, output.job)})
    return trigger_client_event(response, "downloadOutput",
                                {"url": reverse("output_download", args=[output.pk])}, after="settle")


@team_required
@require_http_methods(["GET", "HEAD"])
def output_play(request: HttpRequest, output_id):
    return _serve(request, output_id, as_attachment=False)


@team_required
@require_GET
def output_waveform(request: HttpRequest, output_id):
    """The card's waveform fragment (measured on the first ask); nothing where there is none. Like
    the player, only for an output whose password this session has given."""
    output = output_for(request.team, output_id)
    if not is_unlocked(request, output):
        return HttpResponse(status=403)
    try:
        wave = waveform_measured(output)
    except WaveformPending:  # a long output, measured by a worker: the placeholder asks again
        return render(request, "converter/_waveform_pending.html", {"output": output, "again": True})
    if wave is None:
        return HttpResponse("")  # htmx swaps the placeholder for nothing
    shape = waveform_shape(output, wave.peaks, wave.rms)
    return render(request, "converter/_waveform.html", {"shape": shape})
