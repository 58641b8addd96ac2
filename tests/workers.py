"""A real Celery worker process sharing the test database, for tests of the whole job path.

Tests that use it must be in the xdist group "live" (tests/live/ is, automatically), so one
worker process at a time consumes the broker's queue (the embedded filesystem queue under
VAR_DIR, or CELERY_BROKER_URL). Loaded as a plugin by tests/conftest.py.
"""

import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.db import connection

from converter.models import Job

REPO = Path(__file__).resolve().parents[1]


def _database_url(settings_dict: dict) -> str:
    if settings_dict["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{settings_dict['NAME']}"
    auth = settings_dict["USER"] + (f":{settings_dict['PASSWORD']}" if settings_dict["PASSWORD"] else "")
    return f"postgres://{auth}@{settings_dict['HOST']}:{settings_dict['PORT']}/{settings_dict['NAME']}"


def _wait_for(log: Path, text: str, process: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if text in log.read_text(errors="replace"):
            return
        if process.poll() is not None:
            raise RuntimeError(f"process exited early:\n{log.read_text(errors='replace')[-3000:]}")
        time.sleep(0.1)
    raise TimeoutError(f"{text!r} not seen in {log}:\n{log.read_text(errors='replace')[-3000:]}")


@dataclass
class LiveWorker:
    process: subprocess.Popen
    log: Path

    def wait_for(self, job, timeout: float = 120, statuses=Job.TERMINAL):
        """Wait until the job reaches one of statuses; on timeout, show what the worker said."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            job.refresh_from_db()
            if job.status in statuses:
                return job
            time.sleep(0.1)
        tail = self.log.read_text(errors="replace")[-4000:]
        raise TimeoutError(f"job still {job.status} after {timeout}s; worker log:\n{tail}")


@pytest.fixture(scope="session")
def media_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("live-media")


@pytest.fixture(scope="session")
def worker(django_db_setup, django_db_blocker, media_dir, tmp_path_factory):
    """A `celery worker` subprocess, as `make run` starts it, on the test database."""
    with django_db_blocker.unblock():
        database_url = _database_url(connection.settings_dict)
    log = tmp_path_factory.mktemp("worker") / "worker.log"
    env = {**os.environ, "DATABASE_URL": database_url, "MEDIA_ROOT": str(media_dir),
           "ALLOW_PRIVATE_URLS": "1", "PYTHONUNBUFFERED": "1"}
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "worker", "--loglevel", "INFO",
             "--concurrency", "2", "--without-gossip", "--without-mingle", "-O", "fair"],
            cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT,
        )
    try:
        _wait_for(log, " ready.", process)
        yield LiveWorker(process, log)
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture
def live_settings(settings, media_dir):
    """Point this test process at the worker's media directory and allow 127.0.0.1 URLs."""
    settings.MEDIA_ROOT = media_dir
    settings.ALLOW_PRIVATE_URLS = True
    return settings

