"""Structured logs (one JSON object per line, tagged with the job) and the job's own log."""

import json

import pytest
from django.urls import reverse

from converter.models import Job
from converter.services.jobs import job_create, job_finish, job_set

from .conftest import run_python

LOG_IN_A_JOB = """
import django, logging, types
django.setup()
from converter.joblog import job_logging
job = types.SimpleNamespace(pk="6d1c", team_id=7, engine="local")
with job_logging(job):
    logging.getLogger("converter.engine").warning("clipping in %s", "song.wav")
logging.getLogger("converter.web").info("no job here")
"""


@pytest.mark.parametrize("log_format", ["json", "text"])
def test_log_lines_carry_the_job(production_env, log_format):
    production_env.update(LOG_FORMAT=log_format, DJANGO_SETTINGS_MODULE="config.settings")
    result = run_python(production_env, "-c", LOG_IN_A_JOB)
    assert result.returncode == 0, result.stderr
    in_job, outside = result.stderr.strip().splitlines()
    if log_format == "text":
        assert in_job.endswith("WARNING converter.engine [job 6d1c] clipping in song.wav")
        assert outside.endswith("INFO converter.web no job here")
        return
    record = json.loads(in_job)
    assert {key: record[key] for key in ("level", "logger", "message", "job_id", "team", "engine")} == {
        "level": "WARNING", "logger": "converter.engine", "message": "clipping in song.wav",
        "job_id": "6d1c", "team": 7, "engine": "local"}
    assert "time" in record and "job_id" not in json.loads(outside)


def test_production_logs_json_by_default(production_env):
    result = run_python(production_env, "-c", "import config.settings as s; print(s.LOG_FORMAT)")
    assert result.stdout.strip() == "json"


@pytest.mark.django_db
def test_the_job_keeps_its_own_log_and_shows_it(client, settings, alice, team):
    settings.ALLOW_PRIVATE_URLS = True
    job = job_create(team=team, user=alice, urls=["http://127.0.0.1/a.wav"], options={})
    job_set(job, status=Job.Status.PROCESSING)
    job_finish(job, Job.Status.FAILED, info="Nothing was converted.",
               errors=[{"source": "input", "message": "The file is empty"}])
    assert [(event.level, event.message) for event in job.events.all()] == [
        ("info", "Queued"), ("info", "Processing"), ("error", "Failed: Nothing was converted."),
        ("warning", "input: The file is empty")]
    client.force_login(alice)
    page = client.get(reverse("job_detail", args=[job.pk])).content.decode()
    assert "Failed: Nothing was converted." in page and "input: The file is empty" in page
