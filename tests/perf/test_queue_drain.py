"""A pool process that ran a job's message takes the next queued local jobs itself
(converter/services/drain.py): oldest first, only local jobs that are queued, never once the
worker shuts down or past JOB_DRAIN_SECONDS, and a drained job's own message then does nothing."""

import threading
import time

import pytest
from celery.signals import worker_shutting_down
from django.db import connection, connections, transaction

from converter import tasks
from converter.models import Job, JobEvent, Team
from converter.services import drain
from converter.services.jobs import job_create, job_run, job_run_oldest_queued
from tests.usage.conftest import wav_upload

pytestmark = pytest.mark.django_db


@pytest.fixture
def queued(team, alice):
    """make(**fields): a local job with a stored upload, marked queued and sent no message."""
    def make(**fields) -> Job:
        job = job_create(team=team, user=alice, options={}, uploads=[wav_upload()], process=False)
        Job.objects.filter(pk=job.pk).update(**{"status": Job.Status.QUEUED, **fields})
        return job

    return make


@pytest.fixture
def worker_share(monkeypatch):
    """The worker's shared stop flag, as its main process makes it before the pool forks."""
    monkeypatch.setattr(drain, "_stopping", None)
    drain.share_create()
    return drain


def test_the_queued_local_jobs_run_oldest_first_and_nothing_else(queued, team, alice):
    older, newer = queued(), queued()
    remote = queued(engine=Team.Engine.API2CONVERT)
    unsent = job_create(team=team, user=alice, options={}, uploads=[wav_upload()], process=False)
    canceled = queued(status=Job.Status.CANCELED)

    assert drain.queued_jobs_run(time.monotonic()) == 2

    for job in (older, newer, remote, unsent, canceled):
        job.refresh_from_db()
    assert older.status == newer.status == Job.Status.COMPLETED
    assert older.started_at < newer.started_at
    assert (remote.status, unsent.status, canceled.status) == (
        Job.Status.QUEUED, Job.Status.INCOMPLETE, Job.Status.CANCELED)


@pytest.mark.scaleout
@pytest.mark.django_db(transaction=True)
def test_a_job_another_process_has_locked_is_passed_over(queued):
    """On PostgreSQL, pool processes draining one database each take a different job: one holding
    the oldest (between its find and its claim) does not make the next wait for it, or lose a claim."""
    if connection.vendor != "postgresql":
        pytest.skip("needs DATABASE_URL=postgres://… (make test-scaleout)")
    older, newer = queued(), queued()
    locked, release = threading.Event(), threading.Event()

    def hold_the_oldest():  # another pool process, on its own connection
        try:
            with transaction.atomic():
                Job.objects.select_for_update().get(pk=older.pk)
                locked.set()
                release.wait(30)
        finally:
            connections.close_all()

    holder = threading.Thread(target=hold_the_oldest)
    holder.start()
    try:
        assert locked.wait(10)
        with connection.cursor() as cursor:  # waiting for the lock would be an error, not a hang
            cursor.execute("SET lock_timeout = '5s'")
        assert job_run_oldest_queued()
    finally:
        release.set()
        holder.join()
    older.refresh_from_db()
    newer.refresh_from_db()
    assert (older.status, newer.status) == (Job.Status.QUEUED, Job.Status.COMPLETED)


def test_a_drained_jobs_own_message_then_does_nothing(queued):
    job = queued()
    assert drain.queued_jobs_run(time.monotonic()) == 1
    events = JobEvent.objects.filter(job=job).count()

    job_run(str(job.pk))  # its message, arriving late

    job.refresh_from_db()
    assert job.status == Job.Status.COMPLETED and job.attempts == 1
    assert JobEvent.objects.filter(job=job).count() == events


def test_nothing_is_taken_once_the_worker_shuts_down(queued, worker_share):
    job = queued()
    worker_shutting_down.send(sender="celery@test", sig="SIGTERM", how="Warm", exitcode=0)  # tasks.py
    assert drain.queued_jobs_run(time.monotonic()) == 0
    job.refresh_from_db()
    assert job.status == Job.Status.QUEUED


def test_a_worker_that_runs_on_keeps_taking_them(queued, worker_share):
    queued()
    assert drain.queued_jobs_run(time.monotonic()) == 1


@pytest.mark.parametrize(("seconds", "task_ran"), [(0, 0), (10, 10.5)], ids=["none allowed", "spent"])
def test_no_job_starts_past_the_time_from_the_tasks_start(queued, settings, seconds, task_ran):
    """Counted from the task's start, as its time limits are: a job drained after a long one
    would otherwise start with little of its limit left."""
    settings.JOB_DRAIN_SECONDS = seconds
    job = queued()
    assert drain.queued_jobs_run(time.monotonic() - task_ran) == 0
    job.refresh_from_db()
    assert job.status == Job.Status.QUEUED


def test_a_task_run_eagerly_runs_only_its_own_job(queued):
    """As in a web request with CELERY_TASK_ALWAYS_EAGER: the user's request must not convert the
    whole queue."""
    own, other = queued(), queued()
    tasks.job_run.apply((str(own.pk),))
    own.refresh_from_db()
    other.refresh_from_db()
    assert (own.status, other.status) == (Job.Status.COMPLETED, Job.Status.QUEUED)
