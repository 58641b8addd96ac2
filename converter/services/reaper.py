"""The stuck-job reaper: finds jobs whose worker vanished and re-sends or fails them.

A worker killed mid-job (SIGKILL, OOM, a machine lost) leaves its job downloading or
processing for ever: kombu's filesystem transport removes a message when it is read, so
nothing redelivers it, and a message a dead worker had prefetched leaves its job queued.
A running job writes its progress every PROGRESS_EVERY seconds (and every api2convert poll
writes too), so a job untouched for JOB_STALE_SECONDS has lost its worker. Celery beat runs
jobs_reap every JOB_REAP_INTERVAL seconds.
"""

import logging
import shutil
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from converter.models import Job, Team
from converter.services.jobs import job_finish

logger = logging.getLogger(__name__)

UNFINISHED = (Job.Status.QUEUED, Job.Status.DOWNLOADING, Job.Status.PROCESSING)
GAVE_UP = "The job was interrupted {attempts} times (its worker stopped); please start it again."


def _resend(job: Job) -> None:
    from converter import tasks  # tasks import services; import here to avoid the cycle
    from converter.providers.api2convert.poll import first_interval

    if job.engine == Team.Engine.API2CONVERT and job.remote_id:
        tasks.api2convert_poll.delay(str(job.pk), first_interval())  # the poll chain broke
    else:
        tasks.job_run.delay(str(job.pk))


def jobs_reap() -> dict[str, int]:
    """One sweep. Returns how many jobs were re-sent and failed."""
    now = timezone.now()
    stale = Job.objects.filter(status__in=UNFINISHED,
                               modified_at__lt=now - timedelta(seconds=settings.JOB_STALE_SECONDS))
    counts = {"resent": 0, "failed": 0}
    for job in stale:
        # Guarded by modified_at: a job that moved on since it was read is left alone.
        claimed = Job.objects.filter(pk=job.pk, status=job.status, modified_at=job.modified_at)
        if job.attempts >= settings.JOB_MAX_ATTEMPTS:
            if claimed.update(modified_at=now):
                job_finish(job, Job.Status.FAILED, info=GAVE_UP.format(attempts=job.attempts), errors=[{
                    "source": "conversion", "id_source": str(job.pk), "code": "WORKER_LOST",
                    "message": GAVE_UP.format(attempts=job.attempts)}])
                shutil.rmtree(Path(settings.CONVERTER_WORK_DIR) / str(job.pk), ignore_errors=True)
                counts["failed"] += 1
            continue
        # A local job goes back to queued, so that exactly one delivery can claim it again.
        status = job.status if job.engine == Team.Engine.API2CONVERT else Job.Status.QUEUED
        if claimed.update(status=status, modified_at=now):
            logger.warning("job %s: no progress for %ss while %s; re-sent", job.pk,
                           settings.JOB_STALE_SECONDS, job.status, extra={"job_id": str(job.pk)})
            _resend(job)
            counts["resent"] += 1
    return counts
