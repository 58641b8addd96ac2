"""The stuck-job reaper on its own: what it re-sends, what it fails, what it leaves alone."""

import json
import subprocess
import sys
from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone

from config.celery import app as celery_app
from converter import tasks
from converter.models import Job, JobOutput, Team
from converter.providers.local import LocalProvider
from converter.services import jobs as services_jobs
from converter.services import reaper

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent(monkeypatch):
    messages = []
    monkeypatch.setattr(tasks.job_run, "apply_async", lambda args, queue: messages.append(("run", *args)))
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
    assert reaper.jobs_reap() == {"resent": 2, "failed": 0, "callbacks": 0}
    assert sorted(sent) == sorted([("run", str(stale.pk)), ("run", str(queued.pk))])
    for job, status in ((stale, "queued"), (queued, "queued"), (fresh, "processing"), (done, "completed")):
        job.refresh_from_db()
        assert job.status == status
    # re-sent jobs count as fresh again
    assert reaper.jobs_reap() == {"resent": 0, "failed": 0, "callbacks": 0}


def test_after_max_attempts_the_job_fails_with_a_clear_message(settings, team, alice, sent):
    settings.JOB_STALE_SECONDS, settings.JOB_MAX_ATTEMPTS = 60, 3
    job = _job(team, alice, Job.Status.DOWNLOADING, age=61, attempts=3)
    (settings.CONVERTER_WORK_DIR / str(job.pk)).mkdir()
    assert reaper.jobs_reap() == {"resent": 0, "failed": 1, "callbacks": 0}
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


def test_a_message_for_a_deleted_or_ended_job_does_nothing(team, alice, monkeypatch):
    monkeypatch.setattr(LocalProvider, "run", lambda self, job: pytest.fail(f"ran {job.status}"))
    services_jobs.job_run("00000000-0000-4000-8000-000000000000")  # deleted while its message waited
    services_jobs.job_run(_job(team, alice, Job.Status.CANCELED, age=0).pk)


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


@pytest.fixture
def queue_folder(tmp_path):
    return tmp_path


def _message_for(queue_folder, job) -> None:
    """A waiting message for the job, with the headers Celery gives it (its id in argsrepr)."""
    message = celery_app.amqp.as_task_v2("task-id", "converter.job_run", args=(str(job.pk),))
    (queue_folder / "1_message.celery.msg").write_text(json.dumps({"headers": message.headers}))


def test_a_worker_starting_alone_takes_back_what_a_stopped_one_left(team, alice, queue_folder, monkeypatch):
    sent = []
    monkeypatch.setattr(tasks.job_run, "apply_async", lambda args, queue: sent.append((args[0], queue)))
    running = _job(team, alice, Job.Status.PROCESSING, age=1, attempts=1)
    fetched = _job(team, alice, Job.Status.QUEUED, age=1)  # prefetched: its message is gone
    waiting = _job(team, alice, Job.Status.QUEUED, age=1)
    _message_for(queue_folder, waiting)
    worn_out = _job(team, alice, Job.Status.DOWNLOADING, age=1, attempts=3)
    remote = _job(team, alice, Job.Status.PROCESSING, age=1, attempts=1, engine=Team.Engine.API2CONVERT,
                  remote_id="r-1")
    done = _job(team, alice, Job.Status.COMPLETED, age=1, attempts=1)

    assert reaper.jobs_recover(queue_folder, "mine") == 3
    assert sorted(sent) == sorted([(str(running.pk), "mine"), (str(fetched.pk), "mine")])
    for job, status in [(running, Job.Status.QUEUED), (fetched, Job.Status.QUEUED),
                        (waiting, Job.Status.QUEUED), (worn_out, Job.Status.FAILED),
                        (remote, Job.Status.PROCESSING), (done, Job.Status.COMPLETED)]:
        job.refresh_from_db()
        assert job.status == status, job


def test_only_a_worker_alone_recovers(settings, tmp_path, monkeypatch):
    """The lock: a second worker on the same VAR_DIR (here, another process) recovers nothing."""
    (tmp_path / "queue").mkdir()
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {**settings.CELERY_BROKER_TRANSPORT_OPTIONS,
                                                "data_folder_in": str(tmp_path / "queue")}
    recovered = []
    monkeypatch.setattr(reaper, "jobs_recover", lambda folder, queue: recovered.append(queue) or 0)
    holder = subprocess.Popen([sys.executable, "-c", "import fcntl, sys, time; f = open(sys.argv[1], 'a'); "
                               "fcntl.flock(f, fcntl.LOCK_SH); print('held', flush=True); time.sleep(60)",
                               str(tmp_path / "worker.lock")], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        reaper.worker_started("celery")
        assert recovered == []  # another worker is alive
    finally:
        holder.kill()
        holder.wait()
    reaper.worker_started("celery")
    assert recovered == ["celery"]  # alone now
