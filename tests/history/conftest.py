"""History fixtures: the shared page fixtures, and many jobs made in bulk as rows."""

from datetime import timedelta

import pytest
from django.utils import timezone

from converter.models import Job, JobInput, JobOutput, Team
from tests.web.conftest import _pages, alice_client, completed_job, protected_output  # noqa: F401  (fixtures, used by name)


def jobs_in_bulk(team, users, count: int) -> list[Job]:
    """count jobs, one minute apart (newest last), each with an input and an output row."""
    start = timezone.now() - timedelta(minutes=count)
    statuses = [Job.Status.COMPLETED, Job.Status.FAILED, Job.Status.PROCESSING]
    jobs = Job.objects.bulk_create([
        Job(team=team, created_by=users[n % len(users)], status=statuses[n % 3],
            engine=Team.Engine.API2CONVERT if n % 5 == 0 else Team.Engine.LOCAL, progress=50)
        for n in range(count)
    ])
    # auto_now_add stamps them all alike: spread them out so that order is meaningful.
    for n, job in enumerate(jobs):
        job.created_at = start + timedelta(minutes=n)
    Job.objects.bulk_update(jobs, ["created_at"])
    JobInput.objects.bulk_create([JobInput(job=job, type=JobInput.Type.UPLOAD, filename=f"take-{n:04}.wav")
                                  for n, job in enumerate(jobs)])
    JobOutput.objects.bulk_create([
        JobOutput(job=job, download_name=f"take-{n:04}.flac", size=1000, duration=3.0)
        for n, job in enumerate(jobs) if job.status == Job.Status.COMPLETED
    ])
    return jobs


@pytest.fixture
def many_jobs(team, alice, bob):
    return jobs_in_bulk(team, [alice, bob], 300)
