"""Retention: a job's files (inputs and outputs) are deleted once its retention period is over.

The period is the team's `retention_days`, or the site's RETENTION_DAYS; it runs from the job's
end (from its creation while it has not ended, so an abandoned API job does not keep its uploads
forever). The records stay: the history shows the job and its outputs as expired, and their
download URLs answer 410. Celery beat runs retention_expire (config/settings.py).
"""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import F
from django.utils import timezone

from converter.models import Job, JobInput, JobOutput, Team

logger = logging.getLogger(__name__)


def retention_days(team: Team) -> int:
    return team.retention_days if team.retention_days is not None else settings.RETENTION_DAYS


def expires_at_for(team: Team, start: datetime) -> datetime:
    return start + timedelta(days=retention_days(team))


def retention_reschedule(team: Team) -> None:
    """After the team's period changed: move the expiry of its jobs whose files are still kept."""
    period = timedelta(days=retention_days(team))
    kept = Job.objects.filter(team=team, expired=False)
    kept.filter(finished_at__isnull=False).update(expires_at=F("finished_at") + period)
    kept.filter(finished_at__isnull=True).update(expires_at=F("created_at") + period)


def _storage_delete(field) -> None:
    # The name stays in the record (what was there); only the bytes go.
    if field:
        field.storage.delete(field.name)


def job_expire(job: Job) -> None:
    """Delete the job's stored files and mark it and its outputs expired."""
    now = timezone.now()
    # An API job never started (no worker, no callback owed): it will not start now.
    Job.objects.filter(pk=job.pk, status=Job.Status.INCOMPLETE).update(
        status=Job.Status.CANCELED, status_info="Expired before it was started.", finished_at=now)
    for job_input in JobInput.objects.filter(job=job):
        _storage_delete(job_input.file)
    for output in JobOutput.objects.filter(job=job):
        _storage_delete(output.file)
    JobOutput.objects.filter(job=job).update(status=JobOutput.Status.EXPIRED)
    Job.objects.filter(pk=job.pk).update(expired=True, modified_at=now)


def retention_expire(now: datetime | None = None) -> int:
    """Expire every job whose period is over; returns how many. Jobs still running wait for their end."""
    due = Job.objects.filter(expired=False, expires_at__lte=now or timezone.now(),
                             status__in=[*Job.TERMINAL, Job.Status.INCOMPLETE])
    count = 0
    for job in due.iterator():
        try:
            job_expire(job)
        except Exception:  # one unreadable storage entry must not stop the sweep
            logger.exception("job %s: files not expired", job.pk)
            continue
        count += 1
    if count:
        logger.info("retention: %d jobs expired", count)
    return count
