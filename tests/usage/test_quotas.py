"""Each quota refuses a new job with a clear message: on the convert page (422) and in the API (402)."""

import html

import pytest
from django.urls import reverse

from converter.models import Job
from tests.usage.conftest import wav_upload
from tests.web.conftest import make_job

pytestmark = pytest.mark.django_db

MiB = 1024**2


def _text(response) -> str:
    return html.unescape(response.content.decode())


def _jobs_per_month(team, user):
    team.quota_jobs_per_month = 1
    make_job(team, user, status=Job.Status.COMPLETED)
    return "jobs this month, 1 of 1 jobs"


def _audio_minutes(team, user):
    team.quota_audio_minutes_per_month = 2
    make_job(team, user, status=Job.Status.COMPLETED, audio_seconds=150)
    return "audio this month, 2 min 30 s of 2 min"


def _concurrent_jobs(team, user):
    team.quota_concurrent_jobs = 1
    make_job(team, user, status=Job.Status.PROCESSING)
    return "jobs running at once, 1 of 1 jobs"


QUOTAS = [_jobs_per_month, _audio_minutes, _concurrent_jobs]


@pytest.mark.parametrize("reach", QUOTAS)
def test_web_refuses_a_job_past_a_quota(alice_client, team, alice, reach):
    expected = reach(team, alice)
    team.save()
    response = alice_client.post(reverse("convert"), {"files": wav_upload()})
    assert response.status_code == 422
    assert expected in _text(response)
    assert "An administrator can raise the quota." in _text(response)
    assert team.jobs.count() == 1


@pytest.mark.parametrize("reach", QUOTAS)
def test_api_answers_402_past_a_quota(api, team, alice, reach):
    expected = reach(team, alice)
    team.save()
    response = api.create()
    assert response.status_code == 402
    assert expected in response.json()["message"]
    assert team.jobs.count() == 1


def test_a_job_within_the_quotas_is_created(alice_client, api, team, alice):
    team.quota_jobs_per_month, team.quota_concurrent_jobs = 3, 2
    team.save()
    make_job(team, alice, status=Job.Status.COMPLETED)
    assert alice_client.post(reverse("convert"), {"files": wav_upload()}).status_code == 302
    assert api.create().status_code == 201


def test_the_concurrency_quota_frees_up_when_a_job_ends(api, team, alice):
    team.quota_concurrent_jobs = 1
    team.save()
    running = make_job(team, alice, status=Job.Status.PROCESSING)
    assert api.create().status_code == 402
    Job.objects.filter(pk=running.pk).update(status=Job.Status.COMPLETED)
    assert api.create().status_code == 201


def test_web_refuses_a_file_over_the_size_quota(alice_client, team):
    team.quota_max_file_mb = 1
    team.save()
    response = alice_client.post(reverse("convert"), {"files": wav_upload(name="big.wav", seconds=70)})
    assert response.status_code == 422
    assert "“big.wav” is 1.1\xa0MB; your team's plan allows files up to 1.0\xa0MB." in _text(response)


def test_api_upload_over_the_size_quota_is_402(api, team):
    team.quota_max_file_mb = 1
    team.save()
    job = api.create().json()
    response = api.upload(job, b"\0" * (MiB + 1), name="big.wav")
    assert response.status_code == 402
    assert "your team's plan allows files up to 1.0\xa0MB" in response.json()["message"]
    assert api.upload(job).status_code == 200


def test_usage_page_shows_the_quotas_as_bars(alice_client, team, alice):
    _jobs_per_month(team, alice)
    team.save()
    html = alice_client.get(reverse("team_usage")).content.decode()
    assert '<meter id="quota-1" min="0" max="1" value="1"' in html
    assert "1 of 1 jobs" in html
    assert "no limit" in html



@pytest.mark.parametrize("limited", [None, "quota_jobs_per_month", "quota_audio_minutes_per_month",
                                     "quota_concurrent_jobs"])
def test_the_check_counts_only_the_quotas_that_have_a_limit(team, limited, django_assert_num_queries):
    """A team without quotas (the default) creates a job without counting its month's jobs."""
    from converter.services.quotas import quota_check

    if limited is not None:
        setattr(team, limited, 100)
    with django_assert_num_queries(0 if limited is None else 1):
        quota_check(team, [("in.wav", MiB)])
