"""A real Celery worker process sharing the test database, for tests of the whole job path.

Tests that use it must be in the xdist group "live" (tests/live/ is, automatically), so one
worker process at a time consumes the broker's queue (the embedded filesystem queue under
VAR_DIR, or CELERY_BROKER_URL). Loaded as a plugin by tests/conftest.py.
"""

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
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


WORKER = ["worker", "--loglevel", "INFO", "--without-gossip", "--without-mingle", "-O", "fair"]


@contextmanager
def celery_process(args: list[str], env: dict, log: Path, ready: str) -> Iterator[subprocess.Popen]:
    """`celery -A config <args>` in a process group of its own (so a test can kill it whole, as
    a lost machine), yielded once `ready` is in its log, stopped afterwards."""
    with log.open("wb") as out:
        process = subprocess.Popen([sys.executable, "-m", "celery", "-A", "config", *args], cwd=REPO, env=env,
                                   stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        _wait_for(log, ready, process)
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture(scope="session")
def worker_env(django_db_setup, django_db_blocker, media_dir) -> dict:
    """The environment of a worker on the test database and the live tests' media directory."""
    with django_db_blocker.unblock():
        database_url = _database_url(connection.settings_dict)
    return {**os.environ, "DATABASE_URL": database_url, "MEDIA_ROOT": str(media_dir),
            "ALLOW_PRIVATE_URLS": "1", "PYTHONUNBUFFERED": "1"}


@pytest.fixture(scope="session")
def worker(worker_env, tmp_path_factory):
    """A `celery worker` subprocess, as `make run` starts it, on the test database."""
    log = tmp_path_factory.mktemp("worker") / "worker.log"
    with celery_process([*WORKER, "--concurrency", "2"], worker_env, log, " ready.") as process:
        yield LiveWorker(process, log)


@pytest.fixture
def celery_processes(worker_env, tmp_path):
    """Start more Celery processes for one test: start(name, args, ready, **env) -> LiveWorker."""
    with ExitStack() as stack:

        def start(name: str, args: list[str], ready: str = " ready.", **env) -> LiveWorker:
            log = tmp_path / f"{name}.log"
            process = stack.enter_context(celery_process(args, {**worker_env, **env}, log, ready))
            return LiveWorker(process, log)

        yield start


@pytest.fixture
def live_settings(settings, media_dir):
    """Point this test process at the worker's media directory and allow 127.0.0.1 URLs."""
    settings.MEDIA_ROOT = media_dir
    settings.ALLOW_PRIVATE_URLS = True
    return settings

