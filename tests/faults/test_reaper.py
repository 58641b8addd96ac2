"""The stuck-job reaper on its own: what it re-sends, what it fails, what it leaves alone."""

from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone

from converter import tasks
from converter.models import Job, JobOutput, Team
from converter.providers.local import LocalProvider
from converter.services import reaper

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent(monkeypatch):
    messages = []
    monkeypatch.setattr(tasks.job_run, "delay", lambda *args: messages.append(("run", *args)))
    monkeypatch.setattr(tasks.api2convert_poll, "delay", lambda *args: messages.append(("poll", args[0])))
    return messages


def _job(team, user, status, *, age: float, **fields) -> Job:
    job = Job.objects.create(team=team, created_by=user, status=status, **fields)
    Job.objects.filter(pk=job.pk).update(modified_at=timezone.now() - timedelta(seconds=age))
    return job


def test_a_stale_running_job_is_requeued_and_a_fresh_one_left_alone(settings, team, alice, sent):
    settings.JOB_STALE_SECONDS = 60
    stale = _job(team, alice, Job.Status.PROCESSING, age=61, attempts=1)
    queued = _job(team, alice, Job.Status.QUEUED, age=61)  # its message was prefetched by the dead worker
    fresh = _job(team, alice, Job.Status.PROCESSING, age=30, attempts=1)
    done = _job(team, alice, Job.Status.COMPLETED, age=3600, attempts=1)
    assert reaper.jobs_reap() == {"resent": 2, "failed": 0}
    assert sorted(sent) == sorted([("run", str(stale.pk)), ("run", str(queued.pk))])
    for job, status in ((stale, "queued"), (queued, "queued"), (fresh, "processing"), (done, "completed")):
        job.refresh_from_db()
        assert job.status == status
    assert reaper.jobs_reap() == {"resent": 0, "failed": 0}  # re-sent jobs count as fresh again


def test_after_max_attempts_the_job_fails_with_a_clear_message(settings, team, alice, sent):
    settings.JOB_STALE_SECONDS, settings.JOB_MAX_ATTEMPTS = 60, 3
    job = _job(team, alice, Job.Status.DOWNLOADING, age=61, attempts=3)
    (settings.CONVERTER_WORK_DIR / str(job.pk)).mkdir()
    assert reaper.jobs_reap() == {"resent": 0, "failed": 1}
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED and job.errors[0]["code"] == "WORKER_LOST"
    assert "interrupted 3 times" in job.status_info and job.finished_at
    assert not (settings.CONVERTER_WORK_DIR / str(job.pk)).exists() and sent == []


def test_an_api2convert_job_gets_its_poll_chain_back(settings, team, alice, sent):
    settings.JOB_STALE_SECONDS = 60
    polled = _job(team, alice, Job.Status.PROCESSING, age=61, engine=Team.Engine.API2CONVERT, remote_id="r1")
    submitting = _job(team, alice, Job.Status.DOWNLOADING, age=61, engine=Team.Engine.API2CONVERT)
    reaper.jobs_reap()
    assert sorted(sent) == sorted([("poll", str(polled.pk)), ("run", str(submitting.pk))])
    polled.refresh_from_db()
    assert polled.status == Job.Status.PROCESSING  # the poll goes on from where it was


def test_a_second_delivery_does_not_run_the_job_again(team, alice):
    job = _job(team, alice, Job.Status.PROCESSING, age=0, attempts=1)
    LocalProvider().run(job)  # a duplicate message: the job is not queued, so not claimed
    job.refresh_from_db()
    assert job.status == Job.Status.PROCESSING and job.attempts == 1


def test_a_restarted_job_removes_what_the_dead_worker_half_saved(settings, team, alice):
    job = _job(team, alice, Job.Status.QUEUED, age=0, attempts=1)  # the dead worker's claim counted
    old = JobOutput(job=job, download_name="old.flac")
    old.file.save("old.flac", ContentFile(b"fLaC"), save=True)
    stray = settings.MEDIA_ROOT / "jobs" / str(job.pk) / "output" / "dead-worker" / "half.flac"
    stray.parent.mkdir(parents=True)
    stray.write_bytes(b"fLaC half")
    LocalProvider().run(job)  # no inputs: fails, but first clears the slate
    assert not JobOutput.objects.filter(job=job).exists()
    assert not stray.exists() and not (settings.MEDIA_ROOT / old.file.name).exists()
