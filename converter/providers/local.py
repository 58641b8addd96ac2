"""Runs a job on the embedded engine inside the Celery worker."""

import errno
import hashlib
import logging
import shutil
import time
from contextlib import closing
from pathlib import Path

from django.conf import settings
from django.core.files import File
from django.utils import timezone

from converter import engine
from converter.models import Job, JobInput, JobOutput
from converter.providers.cores import conversion_cores, widen_when_alone
from converter.services.jobs import job_finish, job_set, sent_fields
from converter.services.passwords import input_password
from converter.storage import stored_stream
from converter.url_safety import UrlRefused, download_public_url

logger = logging.getLogger(__name__)

DISK_FULL = "The server ran out of disk space while writing the result. Please try again later."

PROGRESS_EVERY = 0.5  # seconds between progress writes / cancel checks: cheap for the database


class _MovableFile(File):
    """A finished file that FileSystemStorage may move into place instead of copying."""

    def temporary_file_path(self) -> str:
        return self.file.name


def _input_error(job_input: JobInput, code: str, message: str) -> dict:
    return {"source": "input", "id_source": str(job_input.pk), "code": code, "message": message}


def _outputs_discard(job: Job) -> None:
    """Remove the job's outputs, files included, and any file a dead worker left half-saved."""
    for output in job.outputs.all():
        output.file.delete(save=False)
        output.delete()
    storage, folder = JobOutput.file.field.storage, f"jobs/{job.pk}/output"
    try:
        subfolders, files = storage.listdir(folder)
    except (FileNotFoundError, NotImplementedError):
        return
    for name in files:
        storage.delete(f"{folder}/{name}")
    for sub in subfolders:
        for name in storage.listdir(f"{folder}/{sub}")[1]:
            storage.delete(f"{folder}/{sub}/{name}")


def _workdir_remove(workdir: Path) -> None:
    """Remove a job's work folder. After a local job it is empty (the engine removed its temporary
    files, storage moved the outputs out): one rmdir, where rmtree opens, lists and stats it
    first (~1 ms a job in a batch, py-spy, while the other pool process writes)."""
    try:
        workdir.rmdir()
    except FileNotFoundError:
        pass
    except OSError:  # not empty: a download, a copy, a failure, storage that copies
        shutil.rmtree(workdir, ignore_errors=True)


class LocalProvider:
    @staticmethod
    def claim(job: Job) -> bool:
        """Take a queued job for this delivery, moving it on to downloading, or straight to
        processing when every input is already at hand (uploads on local storage: nothing is
        downloaded, and a batch of clips saves a status write and its event a job); False when
        another delivery has it (a duplicate message, or one the stuck-job reaper re-sent) or it
        is finished. attempts is the loaded count plus one: only the delivery that finds the job
        queued writes it. A job queued while the broker was down may be taken by a drain
        (services/drain.py) before the reaper sends it: it is sent no more."""
        return job_set(job, only_from=(Job.Status.QUEUED,),
                       status=Job.Status.DOWNLOADING if job.downloads_first else Job.Status.PROCESSING,
                       attempts=job.attempts + 1, started_at=job.started_at or timezone.now(), progress=0,
                       **sent_fields(job))

    def run(self, job: Job, *, claimed: bool = False) -> None:
        """Run the job, claiming it first unless the caller has (services/jobs.py, the drain)."""
        if not (claimed or self.claim(job)):
            logger.info("job %s is %s: this delivery is not needed", job.pk, job.status)
            return
        workdir = Path(settings.CONVERTER_WORK_DIR) / str(job.pk)
        if job.attempts > 1:  # re-sent (its worker died mid-job): start over from a clean slate
            shutil.rmtree(workdir, ignore_errors=True)
            _outputs_discard(job)
        try:
            self._run(job, workdir)
        except engine.ConversionCanceled:
            job_finish(job, Job.Status.CANCELED, info="Canceled by a user.")
        except Exception as exc:
            _outputs_discard(job)  # a partly saved output is no result
            if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
                logger.error("job %s: disk full", job.pk)
                error = {"code": "DISK_FULL", "message": DISK_FULL}
            else:
                logger.exception("job %s crashed", job.pk)
                error = {"code": "INTERNAL_ERROR",
                         "message": "The conversion failed unexpectedly. It was logged; please try again."}
            job_finish(job, Job.Status.FAILED, info=error["message"],
                       errors=[{"source": "conversion", "id_source": str(job.pk), **error}])
        finally:
            _workdir_remove(workdir)

    def _run(self, job: Job, workdir: Path) -> None:
        # The engine writes its outputs into workdir (making it), which _store moves into storage;
        # in/ only for inputs fetched or copied (an output's name always has an extension).
        in_dir = workdir / "in"
        errors: list[dict] = []
        inputs, sources = [], []
        for index, job_input in enumerate(job.inputs.all()):
            path = self._local_copy(job_input, in_dir / str(index))
            if isinstance(path, dict):
                errors.append(path)
                continue
            inputs.append(engine.EngineInput(path=path, name=job_input.filename,
                                             password=input_password(job_input)))
            sources.append(job_input)

        if job.status != Job.Status.PROCESSING:
            job_set(job, status=Job.Status.PROCESSING)
        with conversion_cores():
            produced, failures = (engine.convert(inputs, workdir, job.options, **self._hooks(job))
                                  if inputs else ([], []))
        errors += [_input_error(sources[f.input_index], f.code, f.message) for f in failures]
        outputs = [self._store(job, output, sources) for output in produced]
        if outputs:
            job_finish(job, Job.Status.COMPLETED, errors=errors, outputs=outputs)
        else:
            job_finish(job, Job.Status.FAILED, errors=errors,
                       info=errors[0]["message"] if errors else "Nothing was converted.")

    def _local_copy(self, job_input: JobInput, destination: Path) -> Path | dict:
        """A local path for the input, or an api2convert-shaped error."""
        if job_input.type == JobInput.Type.REMOTE:
            destination.parent.mkdir(parents=True, exist_ok=True)
            try:
                download_public_url(job_input.source, destination, max_bytes=settings.MAX_UPLOAD_BYTES)
            except UrlRefused as exc:
                return _input_error(job_input, "DOWNLOAD_FAILED", str(exc))
            except Exception as exc:  # network errors of every kind
                return _input_error(job_input, "DOWNLOAD_FAILED", f"The URL could not be downloaded: {exc}")
            return destination
        try:
            return Path(job_input.file.path)  # local storage: convert in place, no copy
        except NotImplementedError:
            destination.parent.mkdir(parents=True, exist_ok=True)
            with closing(stored_stream(job_input.file)) as source, destination.open("wb") as target:
                shutil.copyfileobj(source, target, 1024 * 1024)
            return destination

    def _hooks(self, job: Job) -> dict:
        # The clocks start now: a job shorter than PROGRESS_EVERY writes no progress (job_finish
        # writes 100) and reads no cancel flag (the claim has just seen it queued).
        started = time.monotonic()
        last = {"write": started, "check": started}

        def on_progress(percent: float) -> None:
            now = time.monotonic()
            if now - last["write"] >= PROGRESS_EVERY:
                last["write"] = now
                job_set(job, progress=round(percent, 1))

        def should_cancel() -> bool:
            widen_when_alone()  # from the same loop; it spaces its own looks (it reads no database)
            now = time.monotonic()
            if now - last["check"] < PROGRESS_EVERY:
                return False
            last["check"] = now
            return Job.objects.filter(pk=job.pk, cancel_requested=True).exists()

        return {"on_progress": on_progress, "should_cancel": should_cancel}

    def _store(self, job: Job, produced, sources: list[JobInput]) -> JobOutput:
        report = produced.report or {}
        # SHA-256: stronger than MD5 and, with the CPU's SHA instructions, ~2.4x faster to compute.
        with produced.path.open("rb") as stream:
            checksum = hashlib.file_digest(stream, "sha256").hexdigest()
        output = JobOutput(
            job=job, download_name=produced.filename, size=produced.path.stat().st_size, checksum=checksum,
            content_type="application/zip" if produced.filename.endswith(".zip") else "audio/flac",
            duration=report.get("duration"), sample_rate=report.get("sample_rate"),
            bits_per_sample=report.get("bits_per_sample"), channels=report.get("channels"), report=report,
            source_input=sources[produced.input_index] if produced.input_index is not None else None,
        )
        with produced.path.open("rb") as stream:
            output.file.save(produced.filename, _MovableFile(stream), save=False)
        output.save()
        return output
