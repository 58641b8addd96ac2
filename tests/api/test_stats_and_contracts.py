"""/stats/{day,month,year}/{date}/{single,all}: the usage figures the app keeps; /contracts: the
team's quotas."""

from datetime import datetime

import pytest
from django.utils import timezone

from converter.models import Job
from tests.web.conftest import make_job

pytestmark = pytest.mark.django_db

FIGURES = {"jobs", "failed", "input_bytes", "output_bytes", "audio_seconds", "processing_seconds", "spent"}


def _job_on(team, user, moment: datetime, status=Job.Status.COMPLETED, **fields) -> Job:
    job = make_job(team, user, status=status, **fields)
    Job.objects.filter(pk=job.pk).update(created_at=timezone.make_aware(moment))
    return job


@pytest.fixture
def history(team, alice, bob, charlie, issued):
    key = issued.api_key
    _job_on(team, alice, datetime(2024, 2, 29, 12), audio_seconds=60.5, output_bytes=100, api_key=key)
    _job_on(team, bob, datetime(2024, 2, 29, 13), audio_seconds=30, status=Job.Status.FAILED)  # the web's
    _job_on(team, alice, datetime(2024, 7, 1, 9), audio_seconds=10, api_key=key)
    _job_on(charlie.teams.get(), charlie, datetime(2024, 2, 29, 12), audio_seconds=999)


def test_a_day(api, history):
    [day] = api("GET", "/stats/day/2024-02-29/all").json()
    assert set(day) == {"date", *FIGURES} and day["date"] == "2024-02-29"
    assert day["jobs"] == 2 and day["failed"] == 1
    assert day["audio_seconds"] == 90.5 and day["output_bytes"] == 100
    [mine] = api("GET", "/stats/day/2024-02-29/single").json()
    assert mine["jobs"] == 1 and mine["audio_seconds"] == 60.5
    [empty] = api("GET", "/stats/day/2024-03-01/all").json()
    assert empty == {"date": "2024-03-01", **dict.fromkeys(FIGURES, 0)}


def test_a_month_per_day(api, history):
    days = api("GET", "/stats/month/2024-02/all").json()
    assert len(days) == 29 and days[0]["date"] == "2024-02-01" and days[-1]["date"] == "2024-02-29"
    assert [day["jobs"] for day in days] == [0] * 28 + [2]
    assert len(api("GET", "/stats/month/2023-02/all").json()) == 28


def test_a_year_per_month(api, history):
    months = api("GET", "/stats/year/2024/all").json()
    assert [month["date"] for month in months] == [f"2024-{n:02}" for n in range(1, 13)]
    assert months[1]["jobs"] == 2 and months[6]["jobs"] == 1 and sum(month["jobs"] for month in months) == 3
    assert sum(month["jobs"] for month in api("GET", "/stats/year/2024/single").json()) == 2


@pytest.mark.parametrize(("path", "named"), [
    ("/stats/day/2024-02-30/all", "day"),
    ("/stats/day/2024-2-3/all", "day"),
    ("/stats/day/２０２４-02-03/all", "day"),
    ("/stats/month/2024-13/all", "month"),
    ("/stats/month/2024/all", "month"),
    ("/stats/year/24/all", "year"),
    ("/stats/year/9999/all", "year"),
    ("/stats/year/0000/all", "year"),
    ("/stats/day/2024-02-29/mine", "filter"),
])
def test_bad_dates_and_filters_are_400(api, path, named):
    response = api("GET", path)
    assert response.status_code == 400 and named in response.json()["errors"], response.json()


def test_unknown_periods_are_404_and_a_key_is_needed(api, client):
    assert api("GET", "/stats/week/2024-02/all").status_code == 404
    assert client.get("/v2/stats/day/2024-02-29/all").json() == {"message": "Invalid api key"}
    assert client.get("/v2/contracts").status_code == 401


def test_the_contract_is_the_teams_quotas(api, team, alice):
    team.quota_jobs_per_month, team.quota_max_file_mb, team.retention_days = 10, 5, 3
    team.save()
    make_job(team, alice, status=Job.Status.COMPLETED, audio_seconds=90)
    [contract] = api("GET", "/contracts").json()
    assert contract["type"] == "self-hosted" and contract["status"] == "active"
    assert contract["credits"] is None
    assert contract["quotas"] == [
        {"name": "Jobs this month", "used": 1, "limit": 10, "unit": "jobs"},
        {"name": "Audio this month", "used": 1.5, "limit": None, "unit": "minutes"},
        {"name": "Jobs running at once", "used": 0, "limit": None, "unit": "jobs"},
    ]
    assert contract["max_file_size"] == 5 * 1024**2 and contract["retention_days"] == 3
    start = datetime.fromisoformat(contract["period"]["start"])
    renews = datetime.fromisoformat(contract["period"]["renews_at"])
    assert start.day == renews.day == 1 and 28 <= (renews - start).days <= 31
