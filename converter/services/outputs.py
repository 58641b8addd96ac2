"""Changes to a finished job's outputs: a new download name, download passwords of their own, or
deletion. The API's PATCH and DELETE on /jobs/{id}/output call these.

Whoever may delete the job may change its outputs (services/jobs.py can_delete_job). The job's
usage figures, written when it ended, stay as they were: a deleted output was still produced.
"""

from pathlib import PurePath

from django.core.exceptions import PermissionDenied
from django.db import transaction

from converter.engine.filenames import safe_filename, unique_name
from converter.joblog import job_event
from converter.models import Job, JobOutput, Membership
from converter.options import download_passwords, validate_options
from converter.services.jobs import JobInvalid, can_delete_job
from converter.services.passwords import password_hashes_make


class OutputNotChangeable(JobInvalid):
    """The job is still running, or the change cannot reach where the output lives. The API
    answers 409."""


def require_outputs_changeable(job: Job, membership: Membership | None) -> None:
    """Raise unless the caller may change the job's outputs now: also asked of the whole list
    before a change to every output, so that a job with none answers as one with some would."""
    if not can_delete_job(membership, job):
        raise PermissionDenied("Only the team's owners and admins, or whoever started the job, can change "
                               "its outputs.")
    if not job.is_terminal:
        raise OutputNotChangeable(f"The job is {job.status}; its outputs change once it has ended.")


def output_rename(output: JobOutput, filename: str, *, membership: Membership | None) -> None:
    """Download the output as `filename` plus its own extension (.flac, .zip), unique in its job."""
    require_outputs_changeable(output.job, membership)
    if not filename.strip():
        raise JobInvalid("filename: give a name, without the extension.")
    taken = {other.download_name.lower() for other in output.job.outputs.exclude(pk=output.pk)}
    old = output.download_name
    # Made safe as every download name is (and cut to 255 bytes); "x.flac" counts as "x".
    output.download_name = unique_name(safe_filename(filename, PurePath(old).suffix), taken)
    output.save(update_fields=["download_name"])
    job_event(output.job, f"Output “{old}” renamed to “{output.download_name}”.")


def output_password_set(output: JobOutput, password: str, *, membership: Membership | None) -> None:
    """The output's own download passwords (comma-separated, as the download_password option; an
    empty string opens it to anyone with its link), in place of its job's."""
    require_outputs_changeable(output.job, membership)
    if output.remote_uri:
        raise OutputNotChangeable("This output is stored at api2convert, which keeps the download password "
                                  "the job was sent with.")
    passwords = download_passwords(validate_options({"download_password": password}))
    output.password_hashes = password_hashes_make(passwords)
    output.save(update_fields=["password_hashes"])
    state = "a download password of its own" if passwords else "no download password"
    job_event(output.job, f"Output “{output.download_name}” now has {state}.")


def output_delete(output: JobOutput, *, membership: Membership | None) -> None:
    """Delete the output and, once that is committed, its stored file."""
    require_outputs_changeable(output.job, membership)
    stored = output.file

    def delete_file():
        if stored:
            stored.storage.delete(stored.name)

    with transaction.atomic():
        output.delete()
        job_event(output.job, f"Output “{output.download_name}” deleted.")
        transaction.on_commit(delete_file)
