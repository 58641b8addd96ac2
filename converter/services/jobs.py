"""Writes on jobs: create, enqueue, run (in the worker), cancel, progress."""

from __future__ import annotations

import logging
import os
import unicodedata
from contextlib import contextmanager, nullcontext
from pathlib import Path

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.files import File
from django.db import connection, transaction
from django.db.models import prefetch_related_objects
from django.utils import timezone

from converter.broker import BROKER_UNREACHABLE
from converter.engine.filenames import safe_filename
from converter.joblog import job_event, job_logging, job_status_event
from converter.models import Job, JobInput, Membership, Team
from converter.options import download_passwords
from converter.providers import provider_for
from converter.selectors import engines_for
from converter.services import callbacks
from converter.services.passwords import input_password_encrypted, input_passwords_forget, password_fields
from converter.services.presets import options_with_preset
from converter.services.retention import expires_at_for
from converter.services.usage import usage_at_finish
from converter.url_safety import UrlRefused, check_public_url

logger = logging.getLogger(__name__)


class JobInvalid(ValueError):
    """The job cannot be created; str() is a message for the user."""


def display_filename(name: str) -> str:
    """An uploaded file's name as shown to people: no directories, control or bidi characters."""
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Co"))
    return name.strip()[:255] or "input"


def _check_inputs(uploads, urls: list[str]) -> None:
    if not uploads and not urls:
        raise JobInvalid("Give at least one file or URL.")
    if len(uploads) + len(urls) > settings.MAX_UPLOAD_FILES:
        raise JobInvalid(f"At most {settings.MAX_UPLOAD_FILES} files or URLs per job.")
    for upload in uploads:
        if upload.size > settings.MAX_UPLOAD_BYTES:
            raise JobInvalid(f"“{display_filename(upload.name)}” is larger than the limit of "
                             f"{settings.MAX_UPLOAD_BYTES // 1024**2} MiB.")
    refused = []
    for url in urls:  # every refused one named, whole: a person fixes them all at once
        try:
            check_public_url(url)
        except UrlRefused as exc:
            refused.append(f"“{url[:200]}”: {exc}")
    if refused:
        raise JobInvalid(" ".join(refused))


class StoredBeforeRows:
    """Inputs whose files are stored before the transaction that saves their rows, outside it: on
    SQLite a transaction holds the database's write lock, and so every worker's status writes, and
    storing a 2 GiB file on another disk or in S3 is a copy.

        with StoredBeforeRows() as stored:
            job_input = stored.add(...)      # each file as it is stored
            with stored.atomic():            # the rows
                job_input.save(force_insert=True)

    Until that transaction commits, a failure deletes the files stored so far (and calls `undo`);
    once it has, whatever an on_commit hook raises after it, they stay with their saved rows."""

    def __init__(self, undo=None):
        self.inputs: list[JobInput] = []
        self._undo = undo
        self._committed = False

    def add(self, job_input: JobInput) -> JobInput:
        self.inputs.append(job_input)
        return job_input

    @contextmanager
    def atomic(self):
        with transaction.atomic():
            transaction.on_commit(self._commit)  # the first hook, so it runs before any that may fail
            yield

    def _commit(self) -> None:
        self._committed = True

    def __enter__(self) -> StoredBeforeRows:
        return self

    def __exit__(self, kind, error, traceback) -> None:
        if kind is not None and not self._committed:
            for job_input in self.inputs:
                job_input.file.delete(save=False)
            if self._undo is not None:
                self._undo()


def job_create(*, team: Team, user, options: dict, uploads=(), urls=(), engine: str | None = None,
               process: bool = True, input_password: str = "", url_passwords=(), fields=None) -> Job:
    """Validate everything, store the inputs, and queue the job once the transaction commits.
    input_password opens the protected ones among the inputs (ZIP, PDF); url_passwords[i], when
    given, opens urls[i] instead (the API's per-input credentials). fields: more of the job's own
    (the API's key, base URL and callback), set before it is queued, so that its callback hears
    of the `queued`.

    Raises OptionsInvalid (naming each bad option) or JobInvalid.
    """
    membership = Membership.objects.filter(team=team, user=user).first()
    if membership is None or not membership.can_convert:
        raise JobInvalid("Your role in this team does not allow converting.")
    clean = options_with_preset(team, dict(options))
    passwords = download_passwords(clean)
    clean.pop("download_password", None)
    urls = list(urls)
    own_passwords = [*url_passwords, *[""] * (len(urls) - len(url_passwords))]
    given = [(url.strip(), own or input_password) for url, own in zip(urls, own_passwords, strict=True)
             if url.strip()]
    uploads, urls = list(uploads), [url for url, _ in given]
    try:
        password = input_password_encrypted(input_password)
        url_encrypted = [input_password_encrypted(own) for _, own in given]
    except ValueError as exc:
        raise JobInvalid(str(exc)) from None
    if process:
        _check_inputs(uploads, urls)
    from converter.services.quotas import quota_check  # quotas' error is a JobInvalid: import here

    quota_check(team, [(display_filename(upload.name), upload.size) for upload in uploads])
    engine = engine or team.default_engine
    if engine not in dict(engines_for(team)):
        raise JobInvalid("The api2convert engine needs the team's api2convert key (team settings)."
                         if engine == Team.Engine.API2CONVERT else f"Unknown engine “{engine}”.")
    job = Job(team=team, created_by=user, engine=engine, options=clean, **password_fields(passwords, engine),
              input_bytes=sum(upload.size for upload in uploads),
              expires_at=expires_at_for(team, timezone.now()), **(fields or {}))
    # The files first (StoredBeforeRows). (Their folder is the job's id, made with the instance.)
    with StoredBeforeRows() as stored:
        for upload in uploads:
            stored.add(_upload_stored(job, upload, password))
        with stored.atomic():
            job.save(force_insert=True)
            for job_input in stored.inputs:
                job_input.save(force_insert=True)
            for url, encrypted in zip(urls, url_encrypted, strict=True):
                input_add_remote(job, url, encrypted)
            if process:
                job_enqueue(job)
    return job


def _upload_stored(job: Job, upload, password_encrypted: str) -> JobInput:
    """The input of an uploaded file, the file stored (streamed by Django's storage, never read
    whole), the row not yet saved."""
    job_input = JobInput(job=job, type=JobInput.Type.UPLOAD, filename=display_filename(upload.name),
                         size=upload.size, content_type=getattr(upload, "content_type", "") or "",
                         decrypt_password_encrypted=password_encrypted)
    # Stored under a name of at most 255 bytes (a filesystem's limit; "é" takes two).
    job_input.file.save(safe_filename(*os.path.splitext(job_input.filename)), upload, save=False)
    return job_input


def input_add_upload(job: Job, upload, password_encrypted: str = "") -> JobInput:
    """Store one uploaded file as an input of the job."""
    job_input = _upload_stored(job, upload, password_encrypted)
    job_input.save()
    return job_input


def stored_again(job: Job, source: JobInput, password_encrypted: str = "") -> JobInput:
    """Another job's stored upload as an input of this job, the row not yet saved (for
    StoredBeforeRows). On local storage a hard link: no byte is copied or stored twice, so
    re-running a 2 GiB recording starts at once; deleting either job's file leaves the other's.
    Elsewhere (S3, another disk) a copy."""
    job_input = JobInput(job=job, type=JobInput.Type.UPLOAD, filename=source.filename, size=source.size,
                         content_type=source.content_type, checksum=source.checksum,
                         decrypt_password_encrypted=password_encrypted)
    stored_name = safe_filename(*os.path.splitext(source.filename))
    name = job_input.file.field.generate_filename(job_input, stored_name)
    try:
        target = Path(job_input.file.storage.path(name))
        target.parent.mkdir(parents=True, exist_ok=True)
        os.link(source.file.path, target)
        job_input.file.name = name
    except (NotImplementedError, OSError):  # no paths (S3), or not one filesystem: copied
        with source.file.open("rb") as stored:
            job_input.file.save(stored_name, File(stored), save=False)
    return job_input


def input_add_remote(job: Job, url: str, password_encrypted: str = "") -> JobInput:
    return JobInput.objects.create(job=job, type=JobInput.Type.REMOTE, source=url,
                                   filename=display_filename(url.split("?")[0]) or "download",
                                   decrypt_password_encrypted=password_encrypted)


NOT_SENT = ("The task queue could not be reached ({error}); the job waits, queued, and is sent as soon "
            "as it can be (tried again every {interval:g} s).")


UNSENT = "Waiting for the task queue, which could not be reached: sent as soon as it can be."


def unsent_fields(unsent: bool) -> dict:
    """A queued job's fields for having no message (or no longer): the flag the reaper reads, and
    the status line that its card and the API's status.info show."""
    return {"unsent": unsent, "status_info": UNSENT if unsent else ""}


def sent_fields(job: Job) -> dict:
    """The fields that clear the job's unsent mark, for a write that takes or re-sends it; none if
    it has no mark (its status line may say something else)."""
    return unsent_fields(False) if job.unsent else {}


def job_enqueue(job: Job) -> None:
    """Mark the job queued and send it to a worker once the surrounding transaction commits."""
    job_set(job, status=Job.Status.QUEUED)
    transaction.on_commit(lambda: _job_send(job))


def _job_send(job: Job) -> None:
    """Send a committed job's message. A broker that cannot be reached (Redis restarting, a network
    cut; kombu has retried for ~1 s by then) does not undo the job, which is saved with its files:
    it stays queued, marked unsent, says so in its log, and the stuck-job reaper's next sweep sends
    it (services/reaper.py unsent_send)."""
    from converter import tasks  # tasks import services; import here to avoid the cycle

    try:
        tasks.job_run.delay(str(job.pk))
    except BROKER_UNREACHABLE as exc:
        job_set(job, **unsent_fields(True))
        job_event(job, NOT_SENT.format(error=exc, interval=settings.JOB_REAP_INTERVAL), logging.ERROR)


def job_cancel(job: Job) -> None:
    """Cancel now if no worker has it yet; otherwise ask the worker to stop."""
    not_started = (Job.Status.INCOMPLETE, Job.Status.QUEUED)
    job_finish(job, Job.Status.CANCELED, info="Canceled by a user.", only_from=not_started)
    running = Job.objects.filter(pk=job.pk).exclude(status__in=Job.TERMINAL)
    running.update(cancel_requested=True, modified_at=timezone.now())
    job_event(job, "Cancel requested.")
    provider_cancel = getattr(provider_for(job.engine), "cancel", None)
    if provider_cancel is not None:  # a remote engine is told at once
        provider_cancel(job)
    job.refresh_from_db()


def worker_prepare(concurrency: int | None) -> None:
    """What every job needs once per process, done in the worker's main process before its pool
    forks (tasks.py, worker_init), so each pool process starts with it: the providers and what
    they import (the engine; storages' S3 backend pulls in boto3, ~0.2 s) and the ffmpeg binary's
    path (imageio-ffmpeg runs `ffmpeg -version` to check it). Without it, the first job of every
    pool process took ~0.25 s longer. Also the cores' shared slots (providers/cores.py), and what
    a first conversion imports late: the header reader (imported inside probe.py, which it builds
    on) and PyAV's subtitle streams (on opening a container): a pool process's first 5-second
    clip took 26-39 ms without them, 21-28 ms with them (the next ones ~15 ms)."""
    import av.subtitles.stream  # noqa: F401

    import converter.engine.headers  # noqa: F401
    from converter.engine.ffmpeg import ffmpeg_binary
    from converter.providers.cores import share_create

    for engine in Team.Engine.values:
        provider_for(engine)
    ffmpeg_binary()
    share_create(concurrency)


def _for_run(jobs):
    """What running a job reads: job_finish reads the team; the provider and the usage at the
    finish read the inputs."""
    return jobs.select_related("team").prefetch_related("inputs")


def job_run(job_id) -> None:
    """Run a job on its engine. Called by the Celery task; safe to call twice."""
    # get(), not first(): no ORDER BY to build (~0.1 ms on SQLite, ~0.4 ms on PostgreSQL, every job).
    try:
        job = Job.objects.select_related("team").get(pk=job_id)
    except Job.DoesNotExist:
        return
    # The inputs only for a job still to run: in a batch most messages find theirs already run by
    # a pool process's drain (services/drain.py).
    if not job.is_terminal:
        prefetch_related_objects([job], "inputs")
        _run(job)


def job_run_oldest_queued() -> bool:
    """Run the local job queued longest, whether or not its message has reached this process
    (services/drain.py); False when none is queued. Its message, when it comes, finds it taken.

    Where rows can be locked (PostgreSQL, MySQL), found and claimed in one short transaction that
    locks the row and passes over rows others have locked (SKIP LOCKED): the pool processes of many
    workers draining one database each take a different job, instead of all reading the same oldest
    one and all but one losing its claim. SQLite locks only the whole database, and its IMMEDIATE
    transaction would hold the write lock through the find as well: there the claim's conditional
    UPDATE alone decides, as for a message."""
    local = provider_for(Team.Engine.LOCAL)
    with transaction.atomic() if connection.features.has_select_for_update else nullcontext():
        job = _for_run(Job.objects.filter(status=Job.Status.QUEUED, engine=Team.Engine.LOCAL)
                       .order_by("created_at").select_for_update(skip_locked=True, of=("self",))).first()
        if job is None:
            return False
        claimed = local.claim(job)  # its event's log line names the job itself (joblog.job_event)
    if claimed:
        with job_logging(job):
            local.run(job, claimed=True)
    return True


def _run(job: Job) -> None:
    with job_logging(job):
        provider_for(job.engine).run(job)


def job_set(job: Job, only_from: tuple[str, ...] = (), **fields) -> bool:
    """Update some fields of a job in one UPDATE, and on the instance; with only_from, only if
    the job's status is still one of those (so a worker's claim and a cancel cannot both win).
    Logs a status change and sends the API callback it calls for. False if nothing changed.
    A status change with a callback is one transaction with its callback's row (the outbox,
    services/callbacks.py); other writes need none."""
    fields["modified_at"] = timezone.now()
    rows = Job.objects.filter(pk=job.pk)
    if only_from:
        rows = rows.filter(status__in=only_from)
    with transaction.atomic() if job.callback and "status" in fields else nullcontext():
        if not rows.update(**fields):
            return False
        for name, value in fields.items():
            setattr(job, name, value)
        if "status" in fields:
            job_status_event(job, fields["status"], fields.get("status_info", ""), fields.get("errors"))
        callbacks.job_updated(job, fields)
    return True


def job_finish(job: Job, status: str, *, errors: list | None = None, info: str = "",
               only_from: tuple[str, ...] = (), outputs: list | None = None) -> bool:
    """End the job; outputs: the ones the caller has just stored, if it has them at hand."""
    now = timezone.now()
    fields = {"status": status, "finished_at": now, "status_info": info[:500],
              "expires_at": expires_at_for(job.team, now),
              **usage_at_finish(job, status, errors, now, outputs)}
    if status == Job.Status.COMPLETED:
        fields["progress"] = 100.0
    if errors is not None:
        fields["errors"] = errors
    finished = job_set(job, only_from, **fields)
    if finished:
        input_passwords_forget(list(job.inputs.all()))  # an ended job needs them no more
    return finished


def can_delete_job(membership: Membership | None, job: Job) -> bool:
    """Owners and admins delete any of the team's jobs; members their own; viewers none."""
    if membership is None or membership.team_id != job.team_id or not membership.can_convert:
        return False
    manager = membership.role in (Membership.Role.OWNER, Membership.Role.ADMIN)
    return manager or job.created_by_id == membership.user_id


def job_delete(job: Job, *, membership: Membership) -> None:
    """Delete a finished job and, once that is committed, its stored files."""
    if not can_delete_job(membership, job):
        raise PermissionDenied("Only the team's owners and admins, or whoever started it, can delete a job.")
    if not job.is_terminal:
        raise JobInvalid("The job is still running: cancel it first.")
    files = [item.file for item in [*job.inputs.all(), *job.outputs.all()] if item.file]

    def delete_files():
        for stored in files:
            stored.storage.delete(stored.name)

    with transaction.atomic():
        job.delete()
        # Files go only if the rows did: a rolled-back delete must not leave rows without files.
        transaction.on_commit(delete_files)


def job_rerun(job: Job, *, user) -> Job:
    """A new job with the same inputs (stored uploads linked or copied, URLs fetched again), engine,
    options and download passwords (their hashes carry over)."""
    if job.has_password and job.engine == Team.Engine.API2CONVERT:
        raise JobInvalid("api2convert needs the download password itself, and it is not kept: "
                         "use “Edit and re-run” and give the password again.")
    inputs = list(job.inputs.all())
    gone = [item.filename for item in inputs if item.type == JobInput.Type.UPLOAD
            and not (item.file and item.file.storage.exists(item.file.name))]
    if gone:
        raise JobInvalid(f"The uploaded files of this job are no longer stored: {', '.join(gone)}.")
    from converter.services.quotas import quota_check_file  # quotas' error is a JobInvalid: import here

    for item in inputs:  # the team's plan may allow smaller files than it did then
        if item.type == JobInput.Type.UPLOAD:
            quota_check_file(job.team, item.filename, item.size)
    options = {name: value for name, value in job.options.items() if name != "preset"}
    rerun = job_create(team=job.team, user=user, options=options, engine=job.engine, process=False)
    # Undone before its commit: still incomplete, with no input, nothing sent to a worker.
    with StoredBeforeRows(undo=rerun.delete) as stored:
        uploads = [item for item in inputs if item.type == JobInput.Type.UPLOAD]
        copies = iter([stored.add(stored_again(rerun, item)) for item in uploads])
        with stored.atomic():
            for item in inputs:  # in the first job's order, which is its outputs' order
                if item.type == JobInput.Type.UPLOAD:
                    next(copies).save(force_insert=True)
                else:
                    input_add_remote(rerun, item.source)
            job_set(rerun, password_hashes=job.password_hashes)
            job_enqueue(rerun)
    return rerun
