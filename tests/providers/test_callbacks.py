"""api2convert's callback is a hint: authenticated by a per-job secret (and a signature when
configured), it triggers an immediate read of the job, idempotently."""

import hashlib
import hmac
import json

import pytest

from converter.models import Job
from converter.providers.api2convert import poll
from converter.providers.api2convert.callbacks import callback_secret
from tests.providers.conftest import submit


@pytest.fixture
def submitted(fake, make_job, scheduled, settings):
    settings.PUBLIC_URL = "https://flac.example"
    job = make_job()
    submit(job)
    return job


def _hook(client, job, secret=None, body=None, **headers):
    body = json.dumps({"id": "whatever", "status": {"code": "completed"}}) if body is None else body
    return client.post(f"/hooks/api2convert/{job.pk}/{secret or callback_secret(job.pk)}/", body,
                       content_type="application/json", headers=headers)


def test_the_remote_job_gets_a_secret_per_job_callback_url(submitted, fake):
    url = fake.jobs[submitted.remote_id].payload["callback"]
    assert url == f"https://flac.example/hooks/api2convert/{submitted.pk}/{callback_secret(submitted.pk)}/"


def test_a_callback_triggers_an_immediate_read_and_repeats_are_harmless(
        submitted, client, fake, scheduled, django_capture_on_commit_callbacks):
    fake.polls_until_done = 1
    for _ in range(3):  # api2convert may deliver the same callback again
        with django_capture_on_commit_callbacks(execute=True):
            assert _hook(client, submitted).status_code == 204
    refreshes = [args for name, args, _ in scheduled if name == "converter.api2convert_refresh"]
    assert refreshes == [(str(submitted.pk),)] * 3
    for (job_id,) in refreshes:  # the refresh task's body
        poll.job_refresh(job_id)
    submitted.refresh_from_db()
    assert submitted.status == Job.Status.COMPLETED and submitted.outputs.count() == 1


def test_the_body_is_never_trusted(submitted, client, fake, scheduled, django_capture_on_commit_callbacks):
    fake.polls_until_done = None
    with django_capture_on_commit_callbacks(execute=True):
        _hook(client, submitted)  # claims "completed"
    poll.job_refresh(str(submitted.pk))
    submitted.refresh_from_db()
    assert submitted.status == Job.Status.PROCESSING


def test_a_wrong_secret_or_unknown_job_is_refused(submitted, client, scheduled, team, alice):
    assert _hook(client, submitted, secret="0" * 40).status_code == 403
    local = Job.objects.create(team=team, created_by=alice)
    assert _hook(client, local).status_code == 403
    url = f"/hooks/api2convert/{submitted.pk}/{callback_secret(submitted.pk)}/"
    assert client.get(url).status_code == 405
    assert scheduled == [("converter.api2convert_poll", (str(submitted.pk), 1.0), 1.0)]


def test_the_signature_is_checked_when_a_webhook_secret_is_configured(submitted, client, settings, scheduled):
    settings.API2CONVERT_WEBHOOK_SECRET = "whsec"
    body = json.dumps({"id": submitted.remote_id})
    good = hmac.new(b"whsec", body.encode(), hashlib.sha256).hexdigest()
    assert _hook(client, submitted, body=body).status_code == 403
    assert _hook(client, submitted, body=body, **{"X-Oc-Signature": "ab" * 32}).status_code == 403
    assert _hook(client, submitted, body=body + " ", **{"X-Oc-Signature": good}).status_code == 403
    assert _hook(client, submitted, body=body, **{"X-Oc-Signature": good}).status_code == 204
