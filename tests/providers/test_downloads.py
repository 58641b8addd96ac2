"""Upstream trouble while streaming an api2convert output through."""

from django.contrib.sessions.backends.db import SessionStore
from django.test import RequestFactory

from converter.models import JobOutput
from converter.services.downloads import output_response
from tests.providers.conftest import run_job


def _get(output, **headers):
    request = RequestFactory().get("/", headers=headers)
    request.session = SessionStore()
    return output_response(request, output)


def _completed_output(make_job, scheduled) -> JobOutput:
    job = make_job()
    run_job(job, scheduled)
    return job.outputs.get()


def test_expired_output_is_410_and_remembered(fake, make_job, scheduled):
    output = _completed_output(make_job, scheduled)
    fake.expire_outputs = True
    response = _get(output)
    assert response.status_code == 410 and b"expired at api2convert" in response.content
    output.refresh_from_db()
    assert output.status == JobOutput.Status.EXPIRED
    calls = len(fake.calls("GET", "/dl/"))
    assert _get(output).status_code == 410 and len(fake.calls("GET", "/dl/")) == calls  # not asked again


def test_outputs_reported_expired_by_the_api_are_stored_so(fake, make_job, scheduled):
    fake.expire_outputs = True
    output = _completed_output(make_job, scheduled)
    assert output.status == JobOutput.Status.EXPIRED


def test_upstream_5xx_and_unreachable_are_502(fake, make_job, scheduled):
    output = _completed_output(make_job, scheduled)
    fake.script("GET", "/dl/", 503)
    response = _get(output)
    assert response.status_code == 502 and b"try again" in response.content
    output.remote_uri = "http://127.0.0.1:9/gone.flac"
    assert _get(output).status_code == 502


def test_429_passes_retry_after_on(fake, make_job, scheduled):
    output = _completed_output(make_job, scheduled)
    fake.script("GET", "/dl/", 429, headers={"Retry-After": "30"})
    response = _get(output)
    assert response.status_code == 429 and response["Retry-After"] == "30"


def test_connection_reset_mid_download_ends_the_stream_short(fake, make_job, scheduled):
    output = _completed_output(make_job, scheduled)
    fake.reset_download_after = 100
    response = _get(output)
    assert response.status_code == 200
    body = b"".join(response.streaming_content)  # no exception escapes into the server
    assert body.startswith(b"fLaC") and len(body) < int(response["Content-Length"])


def test_the_password_header_does_not_follow_a_redirect_to_another_host(fake, make_job, scheduled):
    output = _completed_output(make_job, scheduled)
    other_origin = output.remote_uri.replace("127.0.0.1", "localhost")
    fake.script("GET", "/dl/", 302, headers={"Location": other_origin})
    response = _get(output, **{"X-Api2convert-Download-Password": "pw"})
    assert response.status_code == 200
    first, second = fake.calls("GET", "/dl/")[-2:]
    header = "X-Api2convert-Download-Password"
    assert first[header] == "pw" and header not in second
