"""The stuck-job reaper: finds jobs whose worker vanished and re-sends or fails them.

A worker killed mid-job (SIGKILL, OOM, a machine lost) leaves its job downloading or
processing for ever: kombu's filesystem transport removes a message when it is read, so
nothing redelivers it, and a message a dead worker had prefetched leaves its job queued.
A running job writes its progress every PROGRESS_EVERY seconds (and every api2convert poll
writes too), so a job untouched for JOB_STALE_SECONDS has lost its worker. Celery beat runs
jobs_reap every JOB_REAP_INTERVAL seconds.

On the embedded broker a worker that starts alone does not wait that long: jobs_recover takes
back at once what a stopped worker left (a Ctrl-C of `make run` kills the worker after 5 s).

A job queued while the broker could not be reached has no message at all; it is marked unsent,
and each sweep first sends those (unsent_send), so it waits at most JOB_REAP_INTERVAL once the
broker is back, not JOB_STALE_SECONDS. Each sweep also sends the callbacks that are due
(services/callbacks.py deliveries_due_send): those queued while the broker was down, and those
whose message was lost with a worker.
"""

import fcntl
import logging
import shutil
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.db import connections
from django.utils import timezone

from converter.broker import BROKER_UNREACHABLE
from converter.joblog import job_event
from converter.models import Job, Team
from converter.services.callbacks import deliveries_due_send
from converter.services.jobs import job_finish, job_set, sent_fields, unsent_fields

logger = logging.getLogger(__name__)

UNFINISHED = (Job.Status.QUEUED, Job.Status.DOWNLOADING, Job.Status.PROCESSING)
GAVE_UP = "The job was interrupted {attempts} times (its worker stopped); please start it again."


def _resend(job: Job, queue: str | None) -> None:
    from converter import tasks  # tasks import services; import here to avoid the cycle
    from converter.providers.api2convert.poll import first_interval

    if job.engine == Team.Engine.API2CONVERT and job.remote_id:
        tasks.api2convert_poll.delay(str(job.pk), first_interval())  # the poll chain broke
    else:
        tasks.job_run.apply_async((str(job.pk),), queue=queue)  # None: the task's own routing


def job_requeue(job: Job, now, why: str, queue: str | None = None) -> str | None:
    """Re-send a job whose worker is gone, or fail it once it has started JOB_MAX_ATTEMPTS times.
    Guarded by modified_at: a job that moved on since it was read is left alone. Returns
    "resent", "failed" or None."""
    claimed = Job.objects.filter(pk=job.pk, status=job.status, modified_at=job.modified_at)
    if job.attempts >= settings.JOB_MAX_ATTEMPTS:
        if not claimed.update(modified_at=now):
            return None
        job_finish(job, Job.Status.FAILED, info=GAVE_UP.format(attempts=job.attempts), errors=[{
            "source": "conversion", "id_source": str(job.pk), "code": "WORKER_LOST",
            "message": GAVE_UP.format(attempts=job.attempts)}])
        shutil.rmtree(Path(settings.CONVERTER_WORK_DIR) / str(job.pk), ignore_errors=True)
        return "failed"
    # A local job goes back to queued, so that exactly one delivery can claim it again.
    status = job.status if job.engine == Team.Engine.API2CONVERT else Job.Status.QUEUED
    if not claimed.update(status=status, modified_at=now, **sent_fields(job)):
        return None
    try:
        _resend(job, queue)
    except BROKER_UNREACHABLE:
        # Queued with no message, as a job submitted while the broker was down: the next sweep.
        Job.objects.filter(pk=job.pk, modified_at=now).update(**unsent_fields(True))
        logger.warning("job %s: %s while %s; the broker could not be reached", job.pk, why, job.status,
                       extra={"job_id": str(job.pk)})
        return None
    logger.warning("job %s: %s while %s; re-sent", job.pk, why, job.status, extra={"job_id": str(job.pk)})
    return "resent"


def unsent_send() -> int:
    """Send the jobs queued while the broker could not be reached (services/jobs.py _job_send),
    oldest first, until the broker refuses again. Returns how many went."""
    sent = 0
    for job in Job.objects.filter(status=Job.Status.QUEUED, unsent=True).order_by("created_at"):
        try:
            _resend(job, None)
        except BROKER_UNREACHABLE:
            logger.warning("the broker still cannot be reached: the unsent jobs wait for the next sweep")
            break
        job_set(job, **unsent_fields(False))
        job_event(job, "Sent to a worker.")
        sent += 1
    return sent


def jobs_reap() -> dict[str, int]:
    """One sweep: the jobs queued while the broker could not be reached, then the stale ones,
    then the due callbacks. Returns how many jobs were (re-)sent and failed, and how many
    callbacks were sent."""
    resent = unsent_send()
    now = timezone.now()
    stale = Job.objects.filter(status__in=UNFINISHED,
                               modified_at__lt=now - timedelta(seconds=settings.JOB_STALE_SECONDS))
    counts = {"resent": resent, "failed": 0}
    for job in stale:
        if outcome := job_requeue(job, now, f"no progress for {settings.JOB_STALE_SECONDS}s"):
            counts[outcome] += 1
    counts["callbacks"] = deliveries_due_send()
    return counts


def jobs_recover(queue_folder: Path, queue: str) -> int:
    """At the start of the only worker on the embedded broker (nothing else can be running a
    job): re-send the local jobs its predecessor left. Those it was running are downloading or
    processing; those it had fetched but not started are queued with no message in the queue
    folder (a message names its job's id in its headers). api2convert jobs are left to jobs_reap:
    their next poll may still wait in the folder. They are re-sent to `queue`, the worker's own.
    Returns how many were re-sent or failed."""
    waiting = b"".join(path.read_bytes() for path in queue_folder.glob("*.msg*"))  # .part included
    now, handled = timezone.now(), 0
    for job in Job.objects.filter(status__in=UNFINISHED).exclude(engine=Team.Engine.API2CONVERT):
        if job.status == Job.Status.QUEUED and str(job.pk).encode() in waiting:
            continue
        handled += bool(job_requeue(job, now, "its worker stopped", queue))
    return handled


_worker_lock = None  # the open lock file of worker_started: held for the worker's life


def worker_started(queue: str) -> int:
    """In a worker's main process once it is ready, on the embedded broker: jobs_recover, if no
    other worker runs on this VAR_DIR. Every worker holds VAR_DIR/celery/worker.lock shared for its
    life (the kernel lets go of it when the process dies, however it dies); one that gets it
    exclusively at its start is alone. Returns how many jobs it took back."""
    global _worker_lock
    queue_folder = Path(settings.CELERY_BROKER_TRANSPORT_OPTIONS["data_folder_in"])
    _worker_lock = (queue_folder.parent / "worker.lock").open("a")
    try:
        fcntl.flock(_worker_lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        fcntl.flock(_worker_lock, fcntl.LOCK_SH)
        return 0
    try:
        return jobs_recover(queue_folder, queue)
    finally:
        fcntl.flock(_worker_lock, fcntl.LOCK_SH)
        connections.close_all()  # the main process runs no task: it keeps no connection
