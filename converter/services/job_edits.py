"""Changes to a job before it starts (status `incomplete`): adding and removing inputs, giving an
input its password, replacing its options. The API's /jobs/{id}/input and
/jobs/{id}/conversions call these.

Whoever may delete a job may change it: its creator, or the team's owners and admins; viewers
never (services/jobs.py can_delete_job). Each change locks the job's row and checks the status
inside that transaction, so a concurrent start cannot slip between the check and the change.
"""

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction

from converter.models import Job, JobInput, Membership
from converter.options import download_passwords
from converter.services.jobs import (
    JobInvalid,
    StoredBeforeRows,
    can_delete_job,
    input_add_remote,
    job_set,
    stored_again,
)
from converter.services.passwords import input_password_encrypted, password_fields
from converter.services.presets import options_with_preset
from converter.services.quotas import quota_check_file
from converter.url_safety import UrlRefused, check_public_url


class JobStarted(JobInvalid):
    """The job has started (or ended): its inputs and options are fixed. The API answers 409."""


def _require_may_change(membership: Membership | None, job: Job) -> None:
    if not can_delete_job(membership, job):
        raise PermissionDenied("Only the team's owners and admins, or whoever created it, can change a job.")


def _require_incomplete(job: Job) -> None:
    if job.status != Job.Status.INCOMPLETE:
        raise JobStarted(f"The job is {job.status}; its inputs and options change only before it starts.")


def _lock_incomplete(job: Job) -> Job:
    """The job's row, locked until the transaction ends; JobStarted unless it is incomplete."""
    locked = Job.objects.select_for_update().get(pk=job.pk)
    _require_incomplete(locked)
    return locked


def job_check_changeable(job: Job, *, membership: Membership | None) -> None:
    """PermissionDenied or JobStarted unless the caller may change the job now (a check alone,
    for requests that change nothing; the changes below check again, under the lock)."""
    _require_may_change(membership, job)
    _require_incomplete(job)


def _require_room(job: Job) -> None:
    if job.inputs.count() >= settings.MAX_UPLOAD_FILES:
        raise JobInvalid(f"At most {settings.MAX_UPLOAD_FILES} inputs per job.")


def _password_encrypted(password: str) -> str:
    """An input's password as stored; JobInvalid when it is too long."""
    try:
        return input_password_encrypted(password)
    except ValueError as exc:
        raise JobInvalid(str(exc)) from None


def job_input_add_url(job: Job, url: str, *, membership: Membership | None, password: str = "") -> JobInput:
    """A URL input (a public http(s) address, checked as at creation), fetched when the job runs;
    `password` opens it if it is protected."""
    _require_may_change(membership, job)
    try:
        check_public_url(url)
    except UrlRefused as exc:
        raise JobInvalid(str(exc)) from None
    encrypted = _password_encrypted(password)
    with transaction.atomic():
        _require_room(_lock_incomplete(job))
        return input_add_remote(job, url.strip(), encrypted)


def job_input_reuse(job: Job, source: JobInput, *, membership: Membership | None,
                    password: str = "") -> JobInput:
    """Another input of the team again (api2convert's `input_id`): a stored upload is linked or
    copied (services/jobs.py stored_again and StoredBeforeRows: before the transaction, so checked
    before it and again under the lock), a URL is fetched again; `password` opens it if it is protected. The
    caller has checked that `source` belongs to the job's team."""
    _require_may_change(membership, job)
    if source.job.team_id != job.team_id:
        raise JobInvalid("That input does not exist in this team.")
    if source.type == JobInput.Type.REMOTE:
        return job_input_add_url(job, source.source, membership=membership, password=password)
    if not (source.file and source.file.storage.exists(source.file.name)):
        raise JobInvalid(f"The file “{source.filename}” is no longer stored.")
    quota_check_file(job.team, source.filename, source.size)
    _require_incomplete(job)
    _require_room(job)
    with StoredBeforeRows() as stored:
        job_input = stored.add(stored_again(job, source, _password_encrypted(password)))
        with stored.atomic():
            _require_room(_lock_incomplete(job))
            job_input.save(force_insert=True)
    return job_input


def job_input_remove(job: Job, job_input: JobInput, *, membership: Membership | None) -> None:
    """Remove an input and, once that is committed, its stored file."""
    _require_may_change(membership, job)
    with transaction.atomic():
        _lock_incomplete(job)
        stored = job_input.file if job_input.file else None
        job_input.delete()
        if stored is not None:
            transaction.on_commit(lambda: stored.storage.delete(stored.name))


def job_input_password_set(job: Job, job_input: JobInput, password: str, *,
                           membership: Membership | None) -> None:
    """What opens the input when it is protected (an encrypted ZIP, a PDF); "" removes it."""
    _require_may_change(membership, job)
    encrypted = _password_encrypted(password)
    with transaction.atomic():
        _lock_incomplete(job)
        job_input.decrypt_password_encrypted = encrypted
        job_input.save(update_fields=["decrypt_password_encrypted"])


def job_options_replace(job: Job, options: dict, *, membership: Membership | None) -> None:
    """Replace the job's options, validated as at creation (a named preset under the options given).
    A download_password among them replaces the job's download passwords; without one they stay.
    Raises OptionsInvalid naming each bad option."""
    _require_may_change(membership, job)
    clean = options_with_preset(job.team, dict(options))
    fields = {}
    if "download_password" in clean:
        fields |= password_fields(download_passwords(clean), job.engine)
    clean.pop("download_password", None)
    fields["options"] = clean
    with transaction.atomic():
        _lock_incomplete(job)
        job_set(job, **fields)
