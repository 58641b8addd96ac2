"""The browser review's findings on the job card and the history row: a partly failed job says
so, failures name their input in the log, ages and expiry read as a person says them."""

import logging
import re
from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from converter.engine.dither import DITHER_REPORT
from converter.joblog import job_status_event
from converter.models import Job, JobInput
from tests.web.conftest import add_output, make_job

HTMX = {"HTTP_HX_REQUEST": "true"}


def _partly_failed(team, user) -> Job:
    """5 inputs, 2 of them failed (as the local provider records them); one result per success."""
    job = make_job(team, user, status=Job.Status.COMPLETED, progress=100.0, finished_at=timezone.now(),
                   expires_at=timezone.now() + timedelta(days=7))
    for n in range(4):
        JobInput.objects.create(job=job, type=JobInput.Type.UPLOAD, filename=f"take-{n}.wav", size=10)
    failed = job.inputs.filter(filename__in=["take-2.wav", "take-3.wav"]).order_by("filename")
    job.errors = [{"source": "input", "id_source": str(job_input.pk), "code": "EMPTY_FILE",
                   "message": "The file is empty"} for job_input in failed]
    job.save()
    for n in range(3):
        add_output(job, name=f"take-{n}.flac")
    return job


def test_a_partly_failed_job_says_how_many_inputs_failed(alice_client, team, alice):
    job = _partly_failed(team, alice)
    card = alice_client.get(reverse("job_status", args=[job.pk]), **HTMX).content.decode()
    assert '<span class="badge badge-completed badge-partial">Completed</span>' in card
    assert '<p class="partial-note">2 of 5 inputs failed</p>' in card
    assert "<strong>take-3.wav</strong>: The file is empty" in card
    row = alice_client.get(reverse("history")).content.decode()
    assert '<div class="partial-note small">2 of 5 inputs failed</div>' in row
    assert "badge-partial" in row


def test_a_job_without_failures_has_no_note(alice_client, completed_job):
    card = alice_client.get(reverse("job_status", args=[completed_job.pk]), **HTMX).content.decode()
    assert "partial" not in card


def test_the_log_names_the_input_that_failed(team, alice):
    job = _partly_failed(team, alice)
    job_status_event(job, Job.Status.COMPLETED, errors=job.errors)
    warnings = list(job.events.filter(level=logging.getLevelName(logging.WARNING).lower())
                    .values_list("message", flat=True))
    assert warnings == ["take-2.wav: The file is empty", "take-3.wav: The file is empty"]
    # An error that concerns no input (the job's own id) keeps its source.
    job_status_event(job, Job.Status.FAILED, errors=[{"source": "conversion", "id_source": str(job.pk),
                                                     "message": "Out of disk"}])
    assert job.events.order_by("-pk").first().message == "conversion: Out of disk"


def test_a_new_job_was_made_just_now_not_0_minutes_ago(alice_client, team, alice):
    job = make_job(team, alice)
    card = alice_client.get(reverse("job_status", args=[job.pk]), **HTMX).content.decode()
    assert re.search(r"<time datetime=\"[^\"]+\">just now</time>", card) and "0\xa0minutes" not in card
    Job.objects.filter(pk=job.pk).update(created_at=timezone.now() - timedelta(minutes=5))
    card = alice_client.get(reverse("job_status", args=[job.pk]), **HTMX).content.decode()
    assert "5\xa0minutes ago</time>" in card


def test_a_failed_job_without_results_says_nothing_of_expiry(alice_client, team, alice):
    job = make_job(team, alice, status=Job.Status.FAILED, progress=0, finished_at=timezone.now(),
                   expires_at=timezone.now() + timedelta(days=7), status_info="The file is empty")
    card = alice_client.get(reverse("job_status", args=[job.pk]), **HTMX).content.decode()
    assert "expires in" not in card
    assert "expires in" not in alice_client.get(reverse("history")).content.decode()
    add_output(job)  # a result to lose: its expiry is worth saying
    Job.objects.filter(pk=job.pk).update(status=Job.Status.COMPLETED)
    assert "expires in" in alice_client.get(reverse("job_status", args=[job.pk]), **HTMX).content.decode()
    assert "expires in" in alice_client.get(reverse("history")).content.decode()


def test_the_report_says_how_loudness_was_changed_in_words(alice_client, team, alice):
    job = make_job(team, alice, status=Job.Status.COMPLETED, progress=100.0)
    add_output(job, report={"normalization": "dynamic"})
    html = alice_client.get(reverse("job_status", args=[job.pk]), **HTMX).content.decode()
    assert "<dt>Loudness adjustment</dt><dd>Loudness range compressed, peaks limited</dd>" in html
    assert "Normalization" not in html


def test_the_report_names_the_dither(alice_client, team, alice):
    job = make_job(team, alice, status=Job.Status.COMPLETED, progress=100.0)
    add_output(job, report={"bits_per_sample": 16, "dither": DITHER_REPORT})
    html = alice_client.get(reverse("job_status", args=[job.pk]), **HTMX).content.decode()
    assert "<dt>Dither</dt><dd>Triangular (TPDF), ±1 step</dd>" in html


def test_the_rate_help_matches_the_selects_empty_choice(alice_client):
    html = alice_client.get(reverse("convert")).content.decode()
    assert '<option value="">Same as input</option>' in html or ">Same as input</option>" in html
    assert "“Same as input” keeps the input&#x27;s own rate." in html
    assert "Empty keeps the input&#x27;s own rate" not in html
