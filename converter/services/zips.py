"""Many outputs as one ZIP, streamed as it is read: each file is opened only when its turn
comes, so neither the archive nor any file is ever held in memory, nor copied first (storage.py:
from S3, django-storages' own file would download the whole object before its first byte)."""

from collections.abc import Callable, Iterable
from contextlib import closing
from dataclasses import dataclass, field

from django.db.models.fields.files import FieldFile
from zipstream import ZIP_STORED, ZipStream

from converter.models import Job, JobOutput
from converter.services.downloads import CHUNK
from converter.storage import stored_stream

SKIPPED_NOTE = "skipped.txt"
CHECKSUMS = "SHA256SUMS"  # `sha256sum -c SHA256SUMS` in the unpacked folder checks every file


@dataclass
class SelectionZip:
    stream: ZipStream
    included: list[JobOutput] = field(default_factory=list)
    skipped: list[tuple[JobOutput, str]] = field(default_factory=list)  # (output, why)


def _chunks(stored: FieldFile):
    with closing(stored_stream(stored)) as stream:
        while chunk := stream.read(CHUNK):
            yield chunk


def _folder(job: Job) -> str:
    # Two jobs often make the same file name: one folder per job keeps them apart.
    return f"{job.created_at:%Y-%m-%d %H.%M.%S} {str(job.pk)[:8]}"


def _path(output: JobOutput) -> str:
    return f"{_folder(output.job)}/{output.download_name}"


def _skip_reason(output: JobOutput, unlocked: bool) -> str:
    if not unlocked:
        return "password protected: give its password on the job's page first"
    if output.remote_uri:
        return "kept at api2convert: download it from the job's page"
    if output.status != JobOutput.Status.ENABLED or not output.file:
        return "expired"
    return ""


def selection_zip(jobs: Iterable[Job], *, is_unlocked: Callable[[JobOutput], bool]) -> SelectionZip:
    """The outputs of these jobs that this caller may have now; the others are listed, with
    the reason, in skipped.txt inside the archive. FLAC is compressed already: stored, not
    deflated, which also makes the archive's length known before the first byte."""
    result = SelectionZip(ZipStream(compress_type=ZIP_STORED, sized=True))
    for job in jobs:
        for output in job.outputs.all():
            if reason := _skip_reason(output, is_unlocked(output)):
                result.skipped.append((output, reason))
                continue
            # The size the worker stored: asking S3 would cost a round trip a file before the first byte.
            result.stream.add(_chunks(output.file), _path(output), size=output.size)
            result.included.append(output)
    sums = [f"{output.checksum}  {_path(output)}" for output in result.included if len(output.checksum) == 64]
    if sums:  # the SHA-256 taken when each file was made, not when it was zipped
        result.stream.add("\n".join(sums) + "\n", CHECKSUMS)
    if result.skipped:
        lines = [f"{_path(output)}: {why}" for output, why in result.skipped]
        result.stream.add("Left out of this archive:\n" + "\n".join(lines) + "\n", SKIPPED_NOTE)
    return result
