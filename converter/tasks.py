"""Celery entry points only: load ids, call a service."""

from celery import shared_task

from converter.services import jobs


@shared_task(name="converter.job_run", acks_late=True)
def job_run(job_id: str) -> None:
    jobs.job_run(job_id)
