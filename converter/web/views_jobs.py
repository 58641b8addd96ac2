"""A job's page, its polled status fragment, cancelling, and the team's history."""

from django.http import HttpRequest, HttpResponseForbidden
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from converter.selectors import job_for, jobs_for_team
from converter.services.jobs import job_cancel as job_cancel_service
from converter.web.cards import job_card
from converter.web.teams import team_required

JOB_FRAGMENT = "converter/job_detail.html#job"


@team_required
@require_GET
def job_detail(request: HttpRequest, job_id):
    job = job_for(request.team, job_id)
    # Switching team from a job's page lands on the history: the job is not in the other team.
    context = {"card": job_card(request, job), "switch_next": reverse("history")}
    return render(request, "converter/job_detail.html", context)


@team_required
@require_GET
def job_status(request: HttpRequest, job_id):
    """The job's fragment, polled every second while the job runs (the final one stops polling)."""
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


@team_required
@require_GET
def history(request: HttpRequest):
    cards = [job_card(request, job) for job in jobs_for_team(request.team, limit=100)]
    return render(request, "converter/history.html", {"cards": cards})
