"""Applying what api2convert says about a job to ours: status, spent, messages, outputs.

Shared by the submit, the poll and the callback hint; every write is idempotent, so a
repeated callback or two pollers racing cannot finish a job twice or duplicate outputs.
"""

import logging
from datetime import timedelta

import api2convert
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from converter.models import Job, JobOutput
from converter.providers.api2convert.client import RemoteFailure, failure_from
from converter.providers.api2convert.status_map import job_messages, local_status
from converter.services.jobs import job_finish, job_set

logger = logging.getLogger(__name__)


def deadline_passed(job: Job) -> bool:
    started = job.started_at or job.created_at
    return timezone.now() >= started + timedelta(seconds=settings.API2CONVERT_DEADLINE_SECONDS)


def _locked_terminal(job: Job) -> bool:
    """Lock the job row (inside the caller's transaction) and say whether it is finished."""
    status = Job.objects.select_for_update().filter(pk=job.pk).values_list("status", flat=True).first()
    return status is None or status in Job.TERMINAL


def remote_apply(job: Job, remote: api2convert.Job) -> bool:
    """Copy the remote job's state onto ours. True when the job is now terminal."""
    raw, id_source = remote.raw, str(job.pk)
    status = local_status(remote.status.code)
    with transaction.atomic():
        if _locked_terminal(job):
            return True
        fields = {"warnings": job_messages(raw.get("warnings"), id_source)}
        if isinstance(raw.get("spent"), int):
            fields["spent"] = raw["spent"]
        if status is not None and status not in Job.TERMINAL:
            fields["status"] = status
        if remote.status.info:
            fields["status_info"] = remote.status.info[:500]
        job_set(job, **fields)
        if status not in Job.TERMINAL:
            return False
        errors = job_messages(raw.get("errors"), id_source)
        if status == Job.Status.COMPLETED:
            _outputs_store(job, remote.output)
            job_finish(job, status, errors=errors)
        elif status == Job.Status.FAILED:
            fallback = RemoteFailure("API2CONVERT_FAILED", "api2convert could not convert the files.")
            errors = errors or [fallback.as_error(id_source)]
            job_finish(job, status, errors=errors, info=errors[0]["message"])
        else:
            job_finish(job, status, info="Canceled at api2convert.")
        job_set(job, remote_password_encrypted="")
    return True


def _outputs_store(job: Job, outputs: list[api2convert.OutputFile]) -> None:
    """Remote outputs are not copied: each keeps its URI and is streamed through on download."""
    for index, output in enumerate(outputs, start=1):
        JobOutput.objects.create(
            job=job, remote_uri=output.uri, download_name=output.filename or f"output-{index}.flac",
            size=output.size or 0, content_type=output.content_type or "audio/flac",
            checksum=(output.checksum or "")[:64],
            status=JobOutput.Status.EXPIRED if output.status == "expired" else JobOutput.Status.ENABLED,
        )


def job_fail(job: Job, failure: RemoteFailure) -> None:
    """Fail the job with the failure as its error (unless it finished meanwhile)."""
    with transaction.atomic():
        if _locked_terminal(job):
            return
        job_set(job, remote_password_encrypted="")
        job_finish(job, Job.Status.FAILED, errors=[failure.as_error(str(job.pk))], info=failure.message)


def remote_delete(client: api2convert.Api2Convert, job: Job) -> bool:
    """DELETE the remote job; False (logged) when api2convert could not be told."""
    if not job.remote_id:
        return True
    try:
        client.jobs.cancel(job.remote_id)
    except api2convert.NotFoundError:
        return True  # already gone
    except api2convert.Api2ConvertError as exc:
        logger.warning("job %s: api2convert job %s not canceled: %s", job.pk, job.remote_id,
                       failure_from(exc).message)
        return False
    return True


def job_cancel_remote(client: api2convert.Api2Convert, job: Job) -> bool:
    """Cancel at api2convert, then here. False (nothing changed here) when api2convert could
    not be told, so that the caller tries again later."""
    if not remote_delete(client, job):
        return False
    with transaction.atomic():
        if not _locked_terminal(job):
            job_set(job, remote_password_encrypted="")
            job_finish(job, Job.Status.CANCELED, info="Canceled by a user.")
    return True
