"""Workers that a test may kill: a `celery worker` on a queue of its own, so that the
session's shared worker (tests/workers.py) never takes these jobs."""

import os
import signal

import pytest

from converter import tasks

# The providers' fixtures: a fake api2convert per test, the team's key, recorded re-scheduling.
from tests.providers.conftest import account, fake, make_job, pauses, scheduled  # noqa: F401
from tests.web.conftest import alice_client  # noqa: F401  (a fixture, used by name)
from tests.workers import WORKER, LiveWorker

QUEUE = "faults"


@pytest.fixture
def killable_workers(celery_processes, live_settings, monkeypatch):
    """start() -> a LiveWorker in its own process group, on the QUEUE queue; all stopped at the end.
    job_run messages of this test process (job_create, the reaper) go to that queue."""
    send = tasks.job_run.apply_async

    def to_faults_queue(args=None, kwargs=None, queue=None, **options):  # delay() comes here too
        return send(args, kwargs, queue=queue or QUEUE, **options)

    monkeypatch.setattr(tasks.job_run, "apply_async", to_faults_queue)
    started = iter(range(1000))
    return lambda: celery_processes(f"worker-{next(started)}", [*WORKER, "-Q", QUEUE, "--concurrency", "2"])


def kill(worker: LiveWorker) -> None:
    """SIGKILL the worker and its pool processes at once, as a lost machine would."""
    if worker.process.poll() is None:
        os.killpg(worker.process.pid, signal.SIGKILL)
        worker.process.wait(timeout=20)
