"""Celery entry points only: load ids, call a service."""

from celery import shared_task

from converter.services import callbacks, jobs


@shared_task(name="converter.job_run", acks_late=True)
def job_run(job_id: str) -> None:
    jobs.job_run(job_id)


@shared_task(name="converter.callback_deliver", bind=True, max_retries=callbacks.MAX_ATTEMPTS - 1)
def callback_deliver(self, job_id: str, body: str) -> None:
    if not callbacks.callback_send(job_id, body) and self.request.retries < self.max_retries:
        raise self.retry(countdown=callbacks.retry_delay(self.request.retries))
