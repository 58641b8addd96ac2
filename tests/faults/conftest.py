"""Workers that a test may kill: a `celery worker` on a queue of its own, so that the
session's shared worker (tests/workers.py) never takes these jobs."""

import os
import signal
import subprocess
import sys

import pytest
from django.db import connection

from converter import tasks

# The providers' fixtures: a fake api2convert per test, the team's key, recorded re-scheduling.
from tests.providers.conftest import account, fake, make_job, pauses, scheduled  # noqa: F401
from tests.workers import REPO, LiveWorker, _database_url, _wait_for

QUEUE = "faults"


@pytest.fixture
def killable_workers(django_db_blocker, live_settings, tmp_path, monkeypatch):
    """start() -> a LiveWorker in its own process group, on the QUEUE queue; all stopped at the end.
    job_run messages of this test process (job_create, the reaper) go to that queue."""
    monkeypatch.setattr(tasks.job_run, "delay", lambda *args: tasks.job_run.apply_async(args, queue=QUEUE))
    with django_db_blocker.unblock():
        database_url = _database_url(connection.settings_dict)
    env = {**os.environ, "DATABASE_URL": database_url, "MEDIA_ROOT": str(live_settings.MEDIA_ROOT),
           "ALLOW_PRIVATE_URLS": "1", "PYTHONUNBUFFERED": "1"}
    started: list[LiveWorker] = []

    def start() -> LiveWorker:
        log = tmp_path / f"worker-{len(started)}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", "celery", "-A", "config", "worker", "--loglevel", "INFO", "-Q", QUEUE,
                 "--concurrency", "2", "--without-gossip", "--without-mingle", "-O", "fair"],
                cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
            )
        started.append(LiveWorker(process, log))
        _wait_for(log, " ready.", process)
        return started[-1]

    yield start
    for worker in started:
        kill(worker)


def kill(worker: LiveWorker) -> None:
    """SIGKILL the worker and its pool processes at once, as a lost machine would."""
    if worker.process.poll() is None:
        os.killpg(worker.process.pid, signal.SIGKILL)
        worker.process.wait(timeout=20)
