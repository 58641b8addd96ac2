"""The worker's per-job overhead (bench/batch.py): what a job needs is loaded once, in the
worker's main process before it forks its pool; a freed pool process finds its next message
already fetched on the polled filesystem broker; a SQLite connection outlives a task; a job's
run reads nothing back that it already holds."""

import json
import os

import pytest

from converter.models import Job
from converter.services.jobs import job_create, job_run
from tests.deploy.conftest import run_python
from tests.usage.conftest import wav_upload

WORKER_INIT = """
import json, sys
import django
django.setup()
from celery.signals import worker_init
import converter.tasks  # as the worker imports it, before worker_init
from converter.engine.ffmpeg import ffmpeg_binary
from converter.providers import cores
class Worker:  # what the handler reads of Celery's WorkController
    concurrency = 3
worker_init.send(sender=Worker())
print(json.dumps({"modules": [name for name in ("converter.providers.local",
                                                 "converter.providers.api2convert.provider")
                              if name in sys.modules],
                  "ffmpeg_resolved": ffmpeg_binary.cache_info().currsize,
                  "core_slots": len(cores._share.pids) if cores._share else None}))
"""

FIRST_CONVERSION = WORKER_INIT.split("print(")[0] + """
import pathlib, sys, tempfile
from converter.engine import EngineInput, convert
from tests import media
folder = pathlib.Path(tempfile.mkdtemp())
clip = media.tone(folder / "clip.wav", seconds=1.0)
before = set(sys.modules)
convert([EngineInput(clip, clip.name)], folder / "out", {})
print(json.dumps(sorted(set(sys.modules) - before)))
"""

CELERY_SETTINGS = """
import json
import config.settings as s
print(json.dumps({"prefetch": s.CELERY_WORKER_PREFETCH_MULTIPLIER,
                  "db_reuse": getattr(s, "CELERY_DB_REUSE_MAX", None)}))
"""


@pytest.fixture
def bare_env(tmp_path) -> dict:
    """The embedded defaults, without whatever configuration this test run itself has."""
    return {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "VAR_DIR": str(tmp_path / "var"),
            "DJANGO_SETTINGS_MODULE": "config.settings"}


def test_worker_init_loads_the_providers_finds_ffmpeg_and_shares_the_cores_before_the_pool_forks(
        bare_env):
    result = run_python(bare_env, "-c", WORKER_INIT)
    assert result.returncode == 0, result.stderr
    printed = json.loads(result.stdout.splitlines()[-1])
    assert printed == {"modules": ["converter.providers.local", "converter.providers.api2convert.provider"],
                       "ffmpeg_resolved": 1, "core_slots": 6 if len(os.sched_getaffinity(0)) > 1 else None}


def test_a_pool_process_first_conversion_imports_nothing(bare_env):
    """What a conversion imports late (probe.py's header reader, PyAV's subtitle streams) is
    imported before the fork: ~10 ms of every pool process's first job otherwise."""
    result = run_python(bare_env, "-c", FIRST_CONVERSION)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.splitlines()[-1]) == []


@pytest.mark.parametrize(("env", "prefetch", "db_reuse"), [
    ({}, 2, 1000),  # the embedded defaults: filesystem broker, SQLite
    ({"CELERY_BROKER_URL": "redis://redis:6379/0"}, 1, 1000),
    ({"CELERY_BROKER_URL": "amqp://guest:guest@rabbit:5672//"}, 1, 1000),
    ({"DATABASE_URL": "postgres://flac:pw@db:5432/flac"}, 2, 1000),
    ({"CELERY_WORKER_PREFETCH_MULTIPLIER": "4"}, 4, 1000),
], ids=["embedded", "redis", "rabbitmq", "postgres", "explicit"])
def test_prefetch_only_where_the_broker_is_polled_and_connections_kept_between_tasks(
        bare_env, env, prefetch, db_reuse):
    result = run_python({**bare_env, **env}, "-c", CELERY_SETTINGS)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"prefetch": prefetch, "db_reuse": db_reuse}


@pytest.mark.django_db
def test_a_local_job_runs_on_seven_queries_none_reading_back_what_it_holds(team, alice,
                                                                           django_assert_num_queries):
    """Load (the job with its team, its inputs), the claim (straight to processing: an upload is
    not downloaded), the output, the finish, and an event for each status: the usage at the
    finish is summed from the inputs and outputs already in hand."""
    job = job_create(team=team, user=alice, options={}, uploads=[wav_upload(seconds=0.5)], process=False)
    Job.objects.filter(pk=job.pk).update(status=Job.Status.QUEUED)  # as job_enqueue, without a worker
    with django_assert_num_queries(7) as captured:
        job_run(str(job.pk))
    job.refresh_from_db()
    assert job.status == Job.Status.COMPLETED and job.output_bytes == job.outputs.get().size > 0
    assert job.input_bytes == job.inputs.get().size
    reads = [query["sql"] for query in captured.captured_queries if query["sql"].startswith("SELECT")]
    assert len(reads) == 2 and "converter_joboutput" not in " ".join(reads)
