"""Submitting a job: POST /jobs (process:false), upload each file, PATCH process:true."""

import logging

import api2convert
from api2convert import Api2Convert, Api2ConvertError, RateLimitError
from django.utils import timezone

from converter.models import Job, JobInput
from converter.providers.api2convert import crypto
from converter.providers.api2convert.callbacks import callback_url
from converter.providers.api2convert.client import RemoteFailure, failure_from
from converter.providers.api2convert.job_state import job_cancel_remote, remote_apply, remote_delete
from converter.providers.api2convert.status_map import local_status
from converter.services.jobs import job_set
from converter.services.passwords import input_password, input_passwords_forget

logger = logging.getLogger(__name__)


def _payload(job: Job) -> dict:
    # The preset was resolved into the options when the job was made; api2convert does
    # not know our presets' names.
    options = {name: value for name, value in job.options.items() if name != "preset"}
    payload = {
        "conversion": [{"category": "audio", "target": "flac", "options": options}],
        "process": False,
        "input": [{"type": "remote", "source": job_input.source, **_credentials(job_input)}
                  for job_input in job.inputs.filter(type=JobInput.Type.REMOTE)],
    }
    if job.remote_password_encrypted:
        payload["download_passwords"] = crypto.decrypt(job.remote_password_encrypted).split(",")
    if url := callback_url(job):
        payload["callback"] = url
    return payload


def _credentials(job_input: JobInput) -> dict:
    """The vendor's input credentials: the password that opens a protected file, if it has one."""
    password = input_password(job_input)
    return {"credentials": {"decrypt_password": password}} if password else {}


def _cancel_requested(job: Job) -> bool:
    return Job.objects.filter(pk=job.pk, cancel_requested=True).exists()


def _resume(client: Api2Convert, job: Job) -> bool:
    """A redelivered submit (the worker died mid-way). True when the remote job already runs;
    a half-made one (inputs perhaps missing) is deleted so that the submit starts over."""
    remote = client.jobs.get(job.remote_id)
    if local_status(remote.status.code) != Job.Status.INCOMPLETE:
        return True
    remote_delete(client, job)
    job_set(job, remote_id="", remote_token="", remote_server="")
    return False


def job_submit(client: Api2Convert, job: Job) -> None:
    """Create and start the remote job. Raises RemoteFailure; a transient one means nothing was
    created and the whole submit may be retried later."""
    try:
        if job.remote_id and _resume(client, job):
            return
        job_set(job, status=Job.Status.DOWNLOADING, started_at=job.started_at or timezone.now())
        remote = client.jobs.create(_payload(job))
    except RateLimitError as exc:
        raise failure_from(exc) from exc  # 429: the server did nothing, so a later retry is safe
    except Api2ConvertError as exc:
        failure = failure_from(exc)
        if failure.transient:
            # POST /jobs is not replayed blindly: the job may exist and be charged twice.
            failure = RemoteFailure(failure.code, f"{failure.message} The job was not sent again, so that "
                                    "nothing is charged twice; please start it again.")
        raise failure from exc
    job_set(job, remote_id=remote.id, remote_token=remote.token or "", remote_server=remote.server or "")
    try:
        _upload_and_start(client, job, remote)
    except Api2ConvertError as exc:
        remote_delete(client, job)
        failure = failure_from(exc)
        raise RemoteFailure(failure.code, failure.message) from exc  # the remote job is gone: final


def _upload_and_start(client: Api2Convert, job: Job, remote: api2convert.Job) -> None:
    for job_input in job.inputs.filter(type=JobInput.Type.UPLOAD):
        if _cancel_requested(job):
            job_cancel_remote(client, job)
            return
        # Streamed from storage in chunks by httpx's multipart encoder, never read whole; the
        # file is seekable, so the SDK can replay the upload after a 429 (never after a 5xx).
        with job_input.file.open("rb") as stream:
            uploaded = client.jobs.upload(remote, stream, filename=job_input.filename)
        if credentials := _credentials(job_input):
            # The vendor's PATCH /jobs/{id}/input/{file_id}, which the SDK has no call for; its
            # transport carries the key, the retries and the error mapping of every other call.
            client.jobs._transport.request("PATCH", f"/jobs/{remote.id}/input/{uploaded.id}", credentials)
    if _cancel_requested(job):
        job_cancel_remote(client, job)
        return
    started = client.jobs.start(remote.id)
    logger.info("job %s submitted to api2convert as %s", job.pk, remote.id)
    remote_apply(job, started)
    job_set(job, remote_password_encrypted="")  # sent: the plaintext is needed no more
    input_passwords_forget(list(job.inputs.all()))
