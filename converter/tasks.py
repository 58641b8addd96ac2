"""Celery entry points only: load ids, call a service."""

import time

from celery import shared_task
from celery.signals import task_prerun, worker_init, worker_process_init, worker_ready, worker_shutting_down
from django.conf import settings
from django.db import close_old_connections

from converter.providers.api2convert import poll as api2convert_poll_service
from converter.providers.cores import batch_scheduling
from converter.services import callbacks, drain, jobs, reaper, retention, waveforms


@worker_init.connect
def worker_prepare(sender, **_) -> None:
    """In the worker's main process, before the pool processes are forked from it."""
    concurrency = sender.concurrency  # "auto" until the pool is sized, after this signal
    jobs.worker_prepare(concurrency if isinstance(concurrency, int) else None)
    drain.share_create()


@worker_shutting_down.connect
def drain_stop(**_) -> None:
    """In the worker's main process: the pool processes take no more queued jobs of their own."""
    drain.stop()


@worker_process_init.connect
def pool_process_prepare(**_) -> None:
    """In each pool process, after the fork: conversions are batch work (providers/cores.py)."""
    batch_scheduling()


@task_prerun.connect
def database_connections_checked(task, **_) -> None:
    """What Django does at the start of each request: the connections are kept between tasks
    (CELERY_DB_REUSE_MAX), so one too old or broken is closed here, and the others are
    health-checked by their next query. Not for a task run eagerly, inside its caller's
    transaction (as Celery's own fixup skips those)."""
    if not task.request.is_eager:
        close_old_connections()


@worker_ready.connect
def recover_left_jobs(sender, **_) -> None:
    """On the embedded broker, what a stopped worker left is taken back at once (reaper.py), and
    re-sent to the queue this worker takes jobs from."""
    if settings.CELERY_BROKER_URL.startswith("filesystem://"):
        reaper.worker_started(sender.task_consumer.queues[0].name)


@worker_ready.connect
def main_process_as_batch_work(**_) -> None:
    """On the embedded broker the main process takes the next messages while the pool converts
    (CELERY_WORKER_POOL_PUTLOCKS, settings): as batch work, its threads wait for a conversion's
    time slice instead of cutting into it. Its pool's threads run by now."""
    if settings.CELERY_BROKER_URL.startswith("filesystem://"):
        batch_scheduling(every_thread=True)


@shared_task(name="converter.job_run", acks_late=True, bind=True)
def job_run(self, job_id: str) -> None:
    started = time.monotonic()
    jobs.job_run(job_id)
    if not self.request.is_eager:  # eagerly, in a web request: only the job asked for
        drain.queued_jobs_run(started)


@shared_task(name="converter.output_waveform_measure")
def output_waveform_measure(output_id: str) -> None:
    waveforms.output_waveform_measure(output_id)


@shared_task(name="converter.callback_deliver")
def callback_deliver(delivery_id: int, attempt: int | str) -> None:
    """One attempt of a callback; the service queues the next one itself (services/callbacks.py).
    A message queued before the outbox (migration 0013) carries (job id, body) instead: it becomes
    a delivery, so that an upgrade with callbacks waiting in the queue loses none."""
    if isinstance(attempt, str):
        callbacks.delivery_from_before_the_outbox(delivery_id, attempt)
        return
    callbacks.delivery_attempt(delivery_id, attempt)


@shared_task(name="converter.api2convert_poll", acks_late=True)
def api2convert_poll(job_id: str, interval: float) -> None:
    """Poll an api2convert job once; re-schedule rather than sleep in the worker."""
    delay = api2convert_poll_service.job_poll(job_id, interval)
    if delay is not None:
        api2convert_poll.apply_async((job_id, delay), countdown=delay)


@shared_task(name="converter.api2convert_refresh")
def api2convert_refresh(job_id: str) -> None:
    """A callback's hint: read the job now (the poll chain carries on regardless)."""
    api2convert_poll_service.job_refresh(job_id)


@shared_task(name="converter.jobs_reap")
def jobs_reap() -> None:
    """Run by Celery beat: re-send or fail jobs whose worker vanished."""
    reaper.jobs_reap()


@shared_task(name="converter.retention_expire")
def retention_expire() -> None:
    """Run by Celery beat: delete the files of jobs past their retention period."""
    retention.retention_expire()
