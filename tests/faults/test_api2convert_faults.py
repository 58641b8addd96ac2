"""api2convert faults tests/providers does not cover: a server that hangs, and a 429 storm.
Each ends in a clear state within its deadline."""

import socket
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from converter.models import Job
from converter.providers.api2convert import poll
from converter.services.downloads import output_response
from tests.providers.conftest import poll_until_done, run_job, submit

pytestmark = pytest.mark.django_db


@pytest.fixture
def hanging_server():
    """Accepts connections and never answers: every request times out."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"


def test_create_timing_out_fails_the_job_without_a_second_create(fake, make_job, scheduled, settings,
                                                                 hanging_server):
    settings.API2CONVERT_TIMEOUT = 1
    settings.API2CONVERT_BASE_URL = hanging_server + "/v2"
    job = make_job()
    started = time.monotonic()
    submit(job)
    assert time.monotonic() - started < 10
    assert job.status == Job.Status.FAILED and job.errors[0]["code"] == "API2CONVERT_UNREACHABLE"
    assert "not sent again" in job.status_info


def test_poll_timing_out_is_retried_then_the_job_completes(fake, make_job, scheduled, settings,
                                                           hanging_server):
    job = make_job()
    submit(job)
    settings.API2CONVERT_TIMEOUT, settings.API2CONVERT_BASE_URL = 1, hanging_server + "/v2"
    assert poll.job_poll(job.pk, 1.0) is not None
    job.refresh_from_db()
    assert not job.is_terminal
    settings.API2CONVERT_BASE_URL = fake.base_url
    poll_until_done(job)
    assert job.status == Job.Status.COMPLETED


def test_a_429_storm_ends_at_the_deadline(fake, make_job, scheduled, settings):
    fake.script("GET", "/jobs/", 429, headers={"Retry-After": "30"}, times=10_000)
    job = make_job()
    submit(job)
    for _ in range(20):
        assert poll.job_poll(job.pk, 1.0) == 30.0  # the server's Retry-After, never faster
    Job.objects.filter(pk=job.pk).update(started_at=timezone.now() - timedelta(hours=4, seconds=1))
    assert poll.job_poll(job.pk, 1.0) is None
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED and job.errors[0]["code"] == "API2CONVERT_DEADLINE"


def test_download_from_a_hanging_server_answers_502(fake, make_job, scheduled, settings, rf,
                                                    hanging_server):
    job = make_job()
    run_job(job, scheduled)
    output = job.outputs.get()
    output.remote_uri = hanging_server + "/dl/x"
    settings.API2CONVERT_TIMEOUT = 1
    started = time.monotonic()
    response = output_response(rf.get("/"), output)
    assert response.status_code == 502 and time.monotonic() - started < 15
    assert "try again" in response.content.decode()
