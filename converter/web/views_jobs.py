"""A job's page, its polled status fragment, cancelling, and the team's history with its
actions: re-run, delete, and a ZIP of a selection."""

import uuid
from urllib.parse import urlsplit

from django.contrib import messages
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseForbidden,
    QueryDict,
    StreamingHttpResponse,
)
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.http import content_disposition_header
from django.utils.text import slugify
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import replace_url

from converter.options import OptionsInvalid
from converter.read_ahead import read_ahead
from converter.selectors import (
    job_for,
    job_history_for,
    jobs_selected,
    members_of,
    team_of_job_for,
)
from converter.services.jobs import JobInvalid, can_delete_job
from converter.services.jobs import job_cancel as job_cancel_service
from converter.services.jobs import job_delete as job_delete_service
from converter.services.jobs import job_rerun as job_rerun_service
from converter.services.zips import selection_zip
from converter.web.cards import JOB_FRAGMENT, job_card
from converter.web.history_filters import HistoryFilterForm
from converter.web.teams import team_activate, team_required
from converter.web.unlocks import is_unlocked

HISTORY = "converter/history.html"


@team_required
@require_GET
def job_detail(request: HttpRequest, job_id):
    try:
        job = job_for(request.team, job_id)
    except Http404:
        # A link to a job of another of the user's teams (shared in a chat, opened after signing
        # in, which picks the personal team): act in the job's team rather than say "not found".
        team = team_of_job_for(request.user, job_id)
        if team is None:
            raise
        team_activate(request, team)
        messages.info(request, f"Switched to the team “{team.name}”, whose job this is.")
        job = job_for(team, job_id)
    # Switching team from a job's page lands on the history: the job is not in the other team.
    context = {"card": job_card(request, job), "switch_next": reverse("history")}
    return render(request, "converter/job_detail.html", context)


@team_required
@require_GET
def job_status(request: HttpRequest, job_id):
    """The job's fragment, polled every second while the job runs (the final one stops polling);
    while it is unchanged, web/polls.py answers the polls before they get here."""
    job = job_for(request.team, job_id)
    return render(request, JOB_FRAGMENT, {"card": job_card(request, job)})


@team_required
@require_POST
def job_cancel(request: HttpRequest, job_id):
    job = job_for(request.team, job_id)
    if not request.membership.can_convert:
        return HttpResponseForbidden("Your role in this team does not allow cancelling jobs.")
    job_cancel_service(job)
    if request.htmx:
        return render(request, JOB_FRAGMENT, {"card": job_card(request, job)})
    return redirect("job_detail", job_id=job.pk)


def _history_row(request: HttpRequest, job) -> tuple:
    return job_card(request, job), can_delete_job(request.membership, job)


def _page_url(request: HttpRequest, **cursor) -> str:
    query = request.GET.copy()
    for name in ("before", "after"):
        query.pop(name, None)
    query.update(cursor)
    return f"{reverse('history')}?{query.urlencode()}"


@team_required
@require_GET
def history(request: HttpRequest):
    """The team's jobs, filtered and paged by the query string. An htmx request gets the
    history region only; a history restore (back button, cache miss) and a plain GET, the page."""
    form = HistoryFilterForm(request.GET, members=members_of(request.team))
    page = job_history_for(request.team, form.filters(), before=request.GET.get("before", ""),
                           after=request.GET.get("after", ""))
    context = {
        "form": form,
        "rows": [_history_row(request, job) for job in page.jobs],
        "older_url": _page_url(request, before=page.older) if page.older else "",
        "newer_url": _page_url(request, after=page.newer) if page.newer else "",
    }
    partial = request.htmx and not request.htmx.history_restore_request
    response = render(request, f"{HISTORY}#history" if partial else HISTORY, context)
    # One URL, two bodies: caches (and the browser's back button) must tell them apart.
    patch_vary_headers(response, ["HX-Request"])
    if partial and _refines_the_search(request):
        replace_url(response, request.get_full_path())
    return response


def _refines_the_search(request: HttpRequest) -> bool:
    """Typing on in the search box: the address is replaced, not pushed, so that Back goes to the
    page before the search rather than through each pause of the typing (the form pushes)."""
    shown = QueryDict(urlsplit(request.htmx.current_url or "").query)
    asked = request.GET
    others_same = all(shown.get(name, "") == asked.get(name, "") for name in {*shown, *asked} - {"q"})
    return bool(shown.get("q")) and bool(asked.get("q")) and others_same


@team_required
@require_GET
def history_row(request: HttpRequest, job_id):
    """A history row, polled every two seconds while its job runs (web/polls.py answers 204 while
    it is unchanged)."""
    card, can_delete = _history_row(request, job_for(request.team, job_id))
    return render(request, f"{HISTORY}#row", {"card": card, "can_delete": can_delete})


@team_required
@require_POST
def job_rerun(request: HttpRequest, job_id):
    job = job_for(request.team, job_id)
    if not request.membership.can_convert:
        return HttpResponseForbidden("Your role in this team does not allow converting.")
    try:
        rerun = job_rerun_service(job, user=request.user)
    except (JobInvalid, OptionsInvalid) as exc:
        messages.error(request, str(exc))
        return redirect("history")
    messages.success(request, f"Re-running {job_card(request, job).title}.")
    return redirect("job_detail", job_id=rerun.pk)


@team_required
@require_POST
def job_delete(request: HttpRequest, job_id):
    job = job_for(request.team, job_id)
    title = job_card(request, job).title
    try:
        job_delete_service(job, membership=request.membership)
    except JobInvalid as exc:
        if request.htmx:
            return HttpResponse(str(exc), status=409)
        messages.error(request, str(exc))
        return redirect("history")
    if request.htmx:  # the row replaces itself with nothing
        return HttpResponse("")
    messages.success(request, f"Deleted {title} and its files.")
    return redirect("history")


@team_required
@require_GET
def history_zip(request: HttpRequest):
    """The outputs of the selected jobs (?job=…&job=…) as one ZIP, streamed."""
    ids = [value for value in request.GET.getlist("job") if _is_uuid(value)]
    jobs = jobs_selected(request.team, ids)
    archive = selection_zip(jobs, is_unlocked=lambda output: is_unlocked(request, output))
    if archive.skipped:
        names = ", ".join(output.download_name for output, _why in archive.skipped)
        messages.warning(request, f"Left out of the ZIP (see skipped.txt in it): {names}.")
    if not archive.included:
        if not archive.skipped:
            messages.error(request, "Select finished jobs with results to download them as a ZIP.")
        return redirect("history")
    # Read ahead in a thread: the files' reads and CRC-32s overlap the sending (read_ahead.py).
    response = StreamingHttpResponse(read_ahead(archive.stream), content_type="application/zip")
    response["Content-Length"] = str(len(archive.stream))
    name = f"{slugify(request.team.name) or 'flac'}-{timezone.now():%Y%m%d-%H%M%S}.zip"
    response["Content-Disposition"] = content_disposition_header(True, name)
    return response


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True
