"""The provider interface for api2convert: run (in the job_run task) and cancel."""

from converter.models import Job
from converter.providers.api2convert.client import RemoteFailure, client_for
from converter.providers.api2convert.job_state import deadline_passed, job_cancel_remote, job_fail
from converter.providers.api2convert.poll import first_interval
from converter.providers.api2convert.submit import job_submit


class Api2convertProvider:
    def run(self, job: Job) -> None:
        """Submit, then hand over to the poll task; a 429 on create retries the submit later."""
        from converter import tasks  # tasks import this package: import at call time

        try:
            job_submit(client_for(job.team), job)
        except RemoteFailure as failure:
            if failure.transient and not deadline_passed(job):
                countdown = failure.retry_after or first_interval()
                tasks.job_run.apply_async((str(job.pk),), countdown=countdown)
            else:
                job_fail(job, failure)
            return
        job.refresh_from_db(fields=["status"])
        if not job.is_terminal:
            tasks.api2convert_poll.apply_async((str(job.pk), first_interval()), countdown=first_interval())

    def cancel(self, job: Job) -> None:
        """Called by job_cancel: DELETE the remote job now. If api2convert cannot be told, the
        job stays cancel_requested and the next poll tries again."""
        if not job.remote_id:
            return  # not submitted yet: the submit checks cancel_requested before each step
        try:
            client = client_for(job.team, retries=0)
        except RemoteFailure:
            return
        job_cancel_remote(client, job)
