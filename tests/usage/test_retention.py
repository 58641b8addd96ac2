"""Retention: the sweep deletes files past the period and keeps the records; expired outputs answer 410."""

from datetime import timedelta

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from converter.models import Job, JobInput, JobOutput
from converter.services.retention import retention_expire, retention_reschedule
from converter.tasks import retention_expire as retention_task
from tests.web.conftest import add_output, make_job

pytestmark = pytest.mark.django_db


def _finished_job(team, user, *, days_ago: float, status=Job.Status.COMPLETED):
    finished = timezone.now() - timedelta(days=days_ago)
    job = make_job(team, user, status=status, finished_at=finished, expires_at=finished + timedelta(days=7))
    stored = job.inputs.get()
    stored.file.save("song.wav", SimpleUploadedFile("song.wav", b"RIFF...."))
    return job, stored, add_output(job) if status == Job.Status.COMPLETED else None


def test_the_sweep_deletes_files_and_keeps_the_records(team, alice):
    job, stored, output = _finished_job(team, alice, days_ago=8)
    assert retention_expire() == 1
    job.refresh_from_db()
    assert job.expired and job.status == Job.Status.COMPLETED
    assert not default_storage.exists(stored.file.name) and not default_storage.exists(output.file.name)
    assert JobInput.objects.filter(pk=stored.pk).exists()
    assert JobOutput.objects.get(pk=output.pk).status == JobOutput.Status.EXPIRED
    assert retention_expire() == 0  # done once


def test_jobs_within_the_period_and_running_jobs_keep_their_files(team, alice):
    _, recent_input, recent_output = _finished_job(team, alice, days_ago=6)
    running = make_job(team, alice, expires_at=timezone.now() - timedelta(days=1))
    assert retention_expire() == 0
    assert default_storage.exists(recent_input.file.name) and default_storage.exists(recent_output.file.name)
    assert not Job.objects.get(pk=running.pk).expired


def test_a_team_period_overrides_the_site_default(team, alice, settings):
    _, _, output = _finished_job(team, alice, days_ago=3)
    team.retention_days = 2
    team.save()
    retention_reschedule(team)
    retention_task()  # the Celery beat entry point
    assert JobOutput.objects.get(pk=output.pk).status == JobOutput.Status.EXPIRED


def test_an_abandoned_incomplete_job_is_canceled_and_its_uploads_deleted(team, alice):
    past = timezone.now() - timedelta(minutes=1)
    job = make_job(team, alice, status=Job.Status.INCOMPLETE, expires_at=past)
    stored = job.inputs.get()
    stored.file.save("song.wav", SimpleUploadedFile("song.wav", b"RIFF...."))
    assert retention_expire() == 1
    job.refresh_from_db()
    assert job.status == Job.Status.CANCELED and job.expired and "Expired" in job.status_info
    assert not default_storage.exists(stored.file.name)


def test_expired_downloads_answer_410_on_the_pages_and_in_the_api(alice_client, team, alice):
    _, _, output = _finished_job(team, alice, days_ago=8)
    retention_expire()
    for view in ("output_download", "output_play"):
        response = alice_client.get(reverse(view, args=[output.pk]))
        assert response.status_code == 410
        assert "This file has expired" in response.content.decode()
    response = alice_client.get(f"/v2/dl/output/{output.pk}")
    assert response.status_code == 410
    assert response.json() == {"message": "The file is expired."}


def test_the_job_card_says_when_files_expire_and_that_they_did(alice_client, team, alice):
    job, _, output = _finished_job(team, alice, days_ago=1)
    html = alice_client.get(reverse("job_detail", args=[job.pk])).content.decode()
    assert "expires in 5\xa0days, 23\xa0hours" in html  # timeuntil rounds down
    retention_expire(now=timezone.now() + timedelta(days=7))
    html = alice_client.get(reverse("job_detail", args=[job.pk])).content.decode()
    assert "files expired" in html and "Expired: the file is no longer kept." in html
    assert reverse("output_download", args=[output.pk]) not in html


def test_changing_a_team_period_in_the_admin_moves_expiry(staff_client, team, alice):
    job, _, _ = _finished_job(team, alice, days_ago=1)
    data = {"name": team.name, "slug": team.slug, "default_engine": "local", "retention_days": "30",
            "memberships-TOTAL_FORMS": "0", "memberships-INITIAL_FORMS": "0"}
    response = staff_client.post(reverse("admin:converter_team_change", args=[team.pk]), data)
    assert response.status_code == 302
    job.refresh_from_db()
    assert job.expires_at == job.finished_at + timedelta(days=30)
