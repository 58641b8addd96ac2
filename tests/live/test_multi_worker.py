"""Two worker processes share a batch of jobs on Redis; one is killed mid-job (SIGKILL to its
whole process group, as when a machine is lost) and no job is lost or done twice.

The killed worker's job is recovered by both safety nets: the Redis broker hands its
unacknowledged message back after CELERY_VISIBILITY_TIMEOUT, and the stuck-job reaper (run by
Celery beat) re-sends a job with no progress for JOB_STALE_SECONDS. Whichever comes first
claims the job; the other finds it taken (converter/providers/local.py).
"""

import os
import signal
import time
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from config.celery import app as celery_app
from converter.models import Job
from converter.services.jobs import job_create
from tests import media
from tests.workers import WORKER

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.xdist_group("live"),
    pytest.mark.scaleout,
    pytest.mark.skipif(not os.environ.get("CELERY_BROKER_URL", "").startswith("redis://"),
                       reason="needs CELERY_BROKER_URL=redis://… (make test-scaleout)"),
]

JOBS = 6
# Short here so the test ends soon; production defaults are hours and minutes.
RECOVERY_ENV = {"CELERY_VISIBILITY_TIMEOUT": "5", "JOB_STALE_SECONDS": "4", "JOB_REAP_INTERVAL": "1"}


def _running_on(job: Job, workers: list, timeout: float = 60):
    """The worker whose log shows the job processing, once it is processing."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job.refresh_from_db()
        if job.status == Job.Status.PROCESSING:
            for worker in workers:
                if f"[job {job.pk}] Processing" in worker.log.read_text(errors="replace"):
                    return worker
        time.sleep(0.02)
    raise TimeoutError(f"job {job.pk} never seen processing (now {job.status})")


def test_a_killed_worker_loses_no_job(celery_processes, live_settings, media_dir, monkeypatch, alice, team,
                                      tmp_path):
    # A queue of this test's own, so that no other test's worker takes these jobs.
    queue = f"multi-{uuid.uuid4().hex[:8]}"
    monkeypatch.setitem(celery_app.conf, "task_default_queue", queue)
    env = {**RECOVERY_ENV, "CELERY_QUEUE": queue, "LOG_FORMAT": "text"}
    workers = [celery_processes(f"w{n}", [*WORKER, "--concurrency", "1", "-n", f"w{n}-{queue}@%h"], **env)
               for n in (1, 2)]
    celery_processes("beat", ["beat", "--loglevel", "INFO", "--schedule", str(tmp_path / "beat-schedule")],
                     ready="beat: Starting...", **env)
    wav = media.tone(tmp_path / "tone.wav", seconds=30.0)
    # The victim's input is long enough (~1 s of work) that it cannot end between being seen
    # processing and the kill: with 30 s it once did, and was never run again.
    long_wav = media.tone(tmp_path / "long.wav", seconds=300.0)
    options = {"normalize": "true", "normalize_type": "ebu"}
    inputs = [long_wav if n == 1 else wav for n in range(JOBS)]
    jobs = [job_create(team=team, user=alice, options=options,
                       uploads=[SimpleUploadedFile(f"tone{n}.wav", path.read_bytes())])
            for n, path in enumerate(inputs)]

    victim_job = jobs[1]
    victim = _running_on(victim_job, workers)
    os.killpg(victim.process.pid, signal.SIGKILL)
    survivor = next(worker for worker in workers if worker is not victim)

    for job in jobs:
        survivor.wait_for(job, timeout=90)
    for job in jobs:
        assert job.status == Job.Status.COMPLETED, (job.pk, job.errors)
        assert [event.message for event in job.events.all()].count("Completed") == 1
        (output,) = job.outputs.all()
        stored = list((media_dir / "jobs" / str(job.pk) / "output").rglob("*.flac"))
        assert stored == [media_dir / output.file.name], "a duplicate or stray output file"
    victim_job.refresh_from_db()
    assert victim_job.attempts == 2  # started by the killed worker, then once more
    assert f"[job {victim_job.pk}] Completed" in survivor.log.read_text()
