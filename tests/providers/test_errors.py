"""Every way api2convert can fail, and what the job (and the user) sees."""

from datetime import timedelta

from django.utils import timezone

from converter.models import Api2convertAccount, Job
from converter.providers.api2convert import poll
from converter.services.jobs import job_cancel
from tests.providers.conftest import poll_until_done, run_job, submit


def _error(job) -> dict:
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED, job.status
    return job.errors[0]


def test_invalid_key(fake, make_job, scheduled):
    fake.account = 401
    job = make_job()
    run_job(job, scheduled)
    message = "The team's api2convert key is invalid."
    code = "API2CONVERT_KEY_INVALID"
    assert _error(job) == {"source": "conversion", "id_source": str(job.pk), "code": code, "message": message}
    assert job.status_info == "The team's api2convert key is invalid."


def test_quota_used_up(fake, make_job, scheduled):
    fake.account = 402
    job = make_job()
    run_job(job, scheduled)
    assert _error(job)["message"] == "The api2convert quota is used up."


def test_no_key(fake, make_job, scheduled):
    job = make_job()
    Api2convertAccount.objects.all().delete()
    run_job(job, scheduled)
    assert _error(job)["code"] == "API2CONVERT_NO_KEY"


def test_429_on_create_is_retried_honouring_retry_after(fake, make_job, scheduled, pauses):
    fake.script("POST", "/jobs", 429, headers={"Retry-After": "7"})
    job = make_job()
    run_job(job, scheduled)
    assert job.status == Job.Status.COMPLETED
    assert pauses == [7.0] and len(fake.calls("POST", "/v2/jobs")) == 2


def test_429_on_create_past_the_sdk_retries_retries_the_submit_later(fake, make_job, scheduled, pauses):
    fake.script("POST", "/jobs", 429, headers={"Retry-After": "9"}, times=3)
    job = make_job()
    run_job(job, scheduled)
    job.refresh_from_db()
    assert not job.is_terminal and not job.remote_id
    assert scheduled == [("converter.job_run", (str(job.pk),), 9)]
    run_job(job, scheduled)  # the re-scheduled submit
    assert job.status == Job.Status.COMPLETED


def test_5xx_on_create_is_never_replayed(fake, make_job, scheduled, pauses):
    fake.script("POST", "/jobs", 503)
    job = make_job()
    run_job(job, scheduled)
    error = _error(job)
    assert error["code"] == "API2CONVERT_UNAVAILABLE" and "not sent again" in error["message"]
    assert len(fake.calls("POST", "/v2/jobs")) == 1 and pauses == []


def test_invalid_json_on_create_is_never_replayed(fake, make_job, scheduled):
    fake.script("POST", "/jobs", 201, body=b"<html>proxy error</html>")
    job = make_job()
    run_job(job, scheduled)
    assert _error(job)["code"] == "API2CONVERT_UNREACHABLE"
    assert len(fake.calls("POST", "/v2/jobs")) == 1


def test_upload_429_is_replayed_by_the_sdk(fake, make_job, scheduled, pauses):
    fake.script("POST", "/upload/upload-file/", 429)
    job = make_job()
    run_job(job, scheduled)
    assert job.status == Job.Status.COMPLETED and len(pauses) == 1
    assert len(fake.jobs[job.remote_id].inputs) == 1


def test_upload_5xx_fails_the_job_and_deletes_the_remote_one(fake, make_job, scheduled):
    # A POST is not replayed on a 5xx: the file may have arrived, and would then count twice.
    fake.script("POST", "/upload/upload-file/", 500)
    job = make_job()
    run_job(job, scheduled)
    assert _error(job)["code"] == "API2CONVERT_UNAVAILABLE"
    assert fake.jobs[job.remote_id].status == "canceled" and job.remote_password_encrypted == ""


def test_poll_rides_out_5xx_bursts_invalid_json_and_429(fake, make_job, scheduled, pauses):
    fake.polls_until_done = 1
    fake.script("GET", "/jobs/", 503, times=2)
    fake.script("GET", "/jobs/", 200, body=b"not json")
    fake.script("GET", "/jobs/", 429, headers={"Retry-After": "4"})
    job = make_job()
    delays = run_job(job, scheduled)
    assert job.status == Job.Status.COMPLETED
    assert len(delays) == 4 and delays[-1] == 4.0
    assert all(0.5 <= delay <= 5 * 1.25 for delay in delays[:3])
    assert pauses == []  # the poll re-schedules; it never sleeps in the worker


def test_network_errors_are_retried_by_the_poll(fake, make_job, scheduled, settings):
    job = make_job()
    submit(job)  # against the fake; then the network goes
    settings.API2CONVERT_BASE_URL = "http://127.0.0.1:9/v2"  # discard port: connection refused
    delay = poll.job_poll(job.pk, 1.0)
    job.refresh_from_db()
    assert delay is not None and not job.is_terminal
    settings.API2CONVERT_BASE_URL = fake.base_url
    poll_until_done(job)
    assert job.status == Job.Status.COMPLETED


def test_remote_job_errors_keep_api2convert_shape(fake, make_job, scheduled):
    fake.fail_with = [{"source": "conversion", "idSource": "c1", "code": 8004, "message": "Bad audio"},
                      {"code": 1}]
    job = make_job()
    run_job(job, scheduled)
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED and job.status_info == "Bad audio"
    assert job.errors == [
        {"source": "conversion", "id_source": "c1", "code": 8004, "message": "Bad audio"},
        {"source": "conversion", "id_source": str(job.pk), "code": 1,
         "message": "api2convert reported an error without a message."},
    ]


def test_deadline_fails_the_job_and_cancels_it_remotely(fake, make_job, scheduled, settings):
    fake.polls_until_done = None  # never finishes
    job = make_job()
    submit(job)
    for _ in range(3):
        assert poll.job_poll(job.pk, 1.0) == 1.5
    Job.objects.filter(pk=job.pk).update(started_at=timezone.now() - timedelta(hours=4, seconds=1))
    assert poll.job_poll(job.pk, 1.0) is None
    error = _error(job)
    assert error["code"] == "API2CONVERT_DEADLINE" and "4 hours" in error["message"]
    assert fake.jobs[job.remote_id].status == "canceled"


def test_cancel_deletes_the_remote_job(fake, make_job, scheduled):
    fake.polls_until_done = None
    job = make_job()
    run_job_and_poll_once(job, scheduled)
    job_cancel(job)
    assert job.status == Job.Status.CANCELED and fake.jobs[job.remote_id].status == "canceled"
    assert len(fake.calls("DELETE")) == 1


def test_cancel_when_api2convert_cannot_be_told_is_retried_by_the_poll(fake, make_job, scheduled):
    fake.polls_until_done = None
    job = make_job()
    run_job_and_poll_once(job, scheduled)
    fake.script("DELETE", "/jobs/", 503)
    job_cancel(job)
    assert job.cancel_requested and not job.is_terminal
    assert poll.job_poll(job.pk, 1.0) is None
    job.refresh_from_db()
    assert job.status == Job.Status.CANCELED and fake.jobs[job.remote_id].status == "canceled"


def run_job_and_poll_once(job, scheduled):
    submit(job)
    assert poll.job_poll(job.pk, 1.0) == 1.5
    job.refresh_from_db()
    assert job.status == Job.Status.PROCESSING
