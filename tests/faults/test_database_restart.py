"""PostgreSQL drops every connection while a job runs (as a restart or failover does): the
worker recovers (CONN_HEALTH_CHECKS, the reaper for the job it was running), and so does one
whose connection, kept between tasks, was dropped while it waited."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection

from converter.models import Job
from converter.services.jobs import job_create
from tests.faults.test_worker_killed import OPTIONS, _reap_until_terminal, long_wav  # noqa: F401

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.xdist_group("live"), pytest.mark.scaleout]


def _terminate_other_backends() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                       "WHERE datname = current_database() AND pid <> pg_backend_pid()")
        return cursor.fetchone()[0]


def test_worker_recovers_when_the_database_drops_its_connections(killable_workers, live_settings, alice,
                                                                 team, long_wav):  # noqa: F811
    if connection.vendor != "postgresql":
        pytest.skip("needs DATABASE_URL=postgres://… (make test-scaleout)")
    live_settings.JOB_STALE_SECONDS = 5
    worker = killable_workers()
    upload = SimpleUploadedFile("in.wav", long_wav.read_bytes(), content_type="audio/wav")
    job = job_create(team=team, user=alice, options=OPTIONS, uploads=[upload])
    worker.wait_for(job, statuses=(Job.Status.PROCESSING,), timeout=120)
    assert _terminate_other_backends() >= 1
    _reap_until_terminal([job])
    job.refresh_from_db()
    assert job.status in (Job.Status.COMPLETED, Job.Status.FAILED), job.status
    # The worker itself lives on, with new connections: the next job just works.
    upload = SimpleUploadedFile("next.wav", long_wav.read_bytes(), content_type="audio/wav")
    after = worker.wait_for(job_create(team=team, user=alice, options={}, uploads=[upload]), timeout=120)
    assert after.status == Job.Status.COMPLETED, after.errors
    # Dropped while the worker waits: the connection it kept between tasks fails its health check
    # before the next job's first query, and the job runs on a new one.
    assert _terminate_other_backends() >= 1
    upload = SimpleUploadedFile("idle.wav", long_wav.read_bytes(), content_type="audio/wav")
    after_idle = worker.wait_for(job_create(team=team, user=alice, options={}, uploads=[upload]), timeout=120)
    assert after_idle.status == Job.Status.COMPLETED, after_idle.errors
