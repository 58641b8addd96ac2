"""Polling a submitted job: one GET /jobs/{id} per call, and the delay before the next one.

The Celery task re-schedules itself with that delay instead of sleeping in a worker, and
tests simply loop. Backoff as in the vendor's SDKs: 1 s, ×1.5, capped at 5 s, floor 0.5 s.
"""

import random

from api2convert import Api2ConvertError
from django.conf import settings

from converter.models import Job
from converter.providers.api2convert.client import RemoteFailure, client_for, failure_from
from converter.providers.api2convert.job_state import (
    deadline_passed,
    job_cancel_remote,
    job_fail,
    remote_apply,
    remote_delete,
)

MIN_INTERVAL = 0.5  # never poll faster, whatever the settings say


def first_interval() -> float:
    return max(MIN_INTERVAL, settings.API2CONVERT_POLL_INTERVAL)


def next_interval(interval: float) -> float:
    return max(MIN_INTERVAL, min(settings.API2CONVERT_POLL_MAX_INTERVAL, interval * 1.5))


def _retry_delay(failure: RemoteFailure, interval: float) -> float:
    """After a transient failure: the server's Retry-After if it gave one, else jittered backoff."""
    if failure.retry_after:
        return float(failure.retry_after)
    return next_interval(interval) * (1 + 0.25 * random.random())


def job_poll(job_id, interval: float) -> float | None:
    """Poll once. Returns the delay before the next poll, or None when polling is over."""
    job = Job.objects.select_related("team").filter(pk=job_id).first()
    if job is None or job.is_terminal or not job.remote_id:
        return None
    try:
        # No retries inside the SDK: a transient failure is retried by the next poll.
        client = client_for(job.team, retries=0)
    except RemoteFailure as failure:
        job_fail(job, failure)
        return None
    if deadline_passed(job):
        remote_delete(client, job)
        hours = settings.API2CONVERT_DEADLINE_SECONDS / 3600
        job_fail(job, RemoteFailure("API2CONVERT_DEADLINE", f"api2convert did not finish the job within "
                                    f"{hours:g} hours; it was canceled there."))
        return None
    if job.cancel_requested:
        return None if job_cancel_remote(client, job) else next_interval(interval)
    try:
        remote = client.jobs.get(job.remote_id)
    except Api2ConvertError as exc:
        failure = failure_from(exc)
        if failure.transient:
            return _retry_delay(failure, interval)
        job_fail(job, failure)
        return None
    return None if remote_apply(job, remote) else next_interval(interval)


def job_refresh(job_id) -> None:
    """A callback's hint: read the job once now. Idempotent; the poll chain carries on regardless."""
    job_poll(job_id, first_interval())
